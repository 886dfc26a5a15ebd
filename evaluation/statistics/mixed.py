"""Mixed-effects models with crossed random effects for participants and clips (every participant
judges many clips, every clip is judged by many participants; Baayen, Davidson & Bates 2008).

- Binary outcomes (fooled or not): statsmodels' BinomialBayesMixedGLM, a logistic GLMM fitted by
  variational Bayes: `fooled ~ C(system) + (1|participant) + (1|clip)`. Effects are posterior means
  with 95 % credible intervals (mean ± 1.96 posterior sd) on the log-odds scale, reported as odds
  ratios against the reference system.
- Ratings: statsmodels' MixedLM with the crossed random intercepts written as variance components
  of a single all-encompassing group (the documented way to fit crossed effects in MixedLM):
  `rating ~ C(system) + (1|participant) + (1|clip)`, REML; Wald 95 % intervals.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

VC = {"participant": "0 + C(participant)", "clip": "0 + C(clip)"}


def _term(system: str, reference: str) -> str:
    """The name statsmodels gives the treatment-coded coefficient of `system`."""
    return f"C(system, Treatment('{reference}'))[T.{system}]"


def logistic_system_effects(table: pd.DataFrame, outcome: str, reference: str) -> pd.DataFrame:
    """Per system other than `reference`: log-odds difference, its interval, and the odds ratio."""
    data = table[[outcome, "system", "participant", "clip"]].copy()
    data[outcome] = data[outcome].astype(float)
    formula = f"{outcome} ~ C(system, Treatment('{reference}'))"
    model = BinomialBayesMixedGLM.from_formula(formula, VC, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit_vb()
    names = list(model.exog_names)
    rows = []
    for system in sorted(set(data["system"]) - {reference}):
        term = _term(system, reference)
        if term not in names:
            continue
        i = names.index(term)
        mean, sd = float(fit.fe_mean[i]), float(fit.fe_sd[i])
        rows.append(
            {
                "system": system,
                "versus": reference,
                "log_odds": mean,
                "ci_low": mean - 1.96 * sd,
                "ci_high": mean + 1.96 * sd,
                "odds_ratio": float(np.exp(mean)),
                "posterior_sd": sd,
            }
        )
    return pd.DataFrame(rows)


def linear_system_effects(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per system other than `reference`: the rating difference with its Wald interval and p-value."""
    data = table[["rating", "system", "participant", "clip"]].copy()
    data["rating"] = data["rating"].astype(float)
    data["everyone"] = 1
    formula = f"rating ~ C(system, Treatment('{reference}'))"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm(formula, data, groups="everyone", re_formula="0", vc_formula=VC).fit(reml=True)
    ci = fit.conf_int()
    rows = []
    for system in sorted(set(data["system"]) - {reference}):
        term = _term(system, reference)
        if term not in fit.params.index:
            continue
        rows.append(
            {
                "system": system,
                "versus": reference,
                "difference": float(fit.params[term]),
                "ci_low": float(ci.loc[term, 0]),
                "ci_high": float(ci.loc[term, 1]),
                "p_value": float(fit.pvalues[term]),
            }
        )
    return pd.DataFrame(rows)
