"""Mixed-effects models with crossed random effects for participants and clips (every participant
judges many clips, every clip is judged by many participants; Baayen, Davidson & Bates 2008).

- Binary outcomes (fooled or not): `fooled ~ system + (1|participant) + (1|clip)`, logistic, fitted by
  maximum likelihood (Laplace) with R's lme4 `glmer` (evaluation.statistics.r_engine). Without R, the
  fallback is statsmodels' BinomialBayesMixedGLM (variational Bayes), labelled as such: its intervals
  come out narrower than glmer's.
- Ordinal ratings: the cumulative-link mixed model `rating ~ system + (1|participant) + (1|clip)`
  (logit link, Laplace) with R's ordinal `clmm`. Without R, the fallback is the *marginal*
  proportional-odds model (statsmodels OrderedModel), labelled as ignoring the clustering.
- Ratings as numbers: statsmodels' MixedLM with the crossed random intercepts written as variance
  components of a single all-encompassing group (the documented way to fit crossed effects in
  MixedLM): `rating ~ C(system) + (1|participant) + (1|clip)`, REML; Wald 95 % intervals. It matches
  lme4's `lmer`, so it needs no R.

Each fit returns a `Fitted`: the table of system effects against the reference, and the engine that
produced it, which the report names.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

from evaluation.statistics import r_engine

GLMER = "lme4::glmer (Laplace)"
VB_FALLBACK = (
    "statsmodels BinomialBayesMixedGLM (variational Bayes; R with lme4 not found, so an approximation "
    "whose intervals are narrower than glmer's)"
)
CLMM = "ordinal::clmm (Laplace)"
MARGINAL_FALLBACK = (
    "statsmodels OrderedModel (marginal proportional odds, ignoring participants and clips; R with "
    "ordinal not found)"
)
EFFECT_COLUMNS = ["system", "versus", "log_odds", "std_error", "ci_low", "ci_high", "odds_ratio", "p_value"]


@dataclass
class Fitted:
    table: pd.DataFrame
    engine: str
    notes: list[str] = field(default_factory=list)


def _r_table(fit: r_engine.RFit, reference: str) -> pd.DataFrame:
    e = fit.effects
    return pd.DataFrame(
        {
            "system": e["name"].astype(str),
            "versus": reference,
            "log_odds": e["estimate"].astype(float),
            "std_error": e["std_error"].astype(float),
            "ci_low": e["ci_low"].astype(float),
            "ci_high": e["ci_high"].astype(float),
            "odds_ratio": np.exp(e["estimate"].astype(float)),
            "p_value": e["p_value"].astype(float),
        },
        columns=EFFECT_COLUMNS,
    )


def _r_data(table: pd.DataFrame, outcome: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": table[outcome].astype(int),
            "system": table["system"].astype(str),
            "participant": table["participant"].astype(str),
            "clip": table["clip"].astype(str),
        }
    )


VC = {"participant": "0 + C(participant)", "clip": "0 + C(clip)"}


def _term(system: str, reference: str) -> str:
    """The name statsmodels gives the treatment-coded coefficient of `system`."""
    return f"C(system, Treatment('{reference}'))[T.{system}]"


def logistic_system_effects(table: pd.DataFrame, outcome: str, reference: str) -> Fitted:
    """Per system other than `reference`: log-odds difference with its 95 % interval, the odds ratio."""
    version = r_engine.engine("lme4")
    if version is not None:
        fit = r_engine.fit("glmer", _r_data(table, outcome), reference)
        return Fitted(_r_table(fit, reference), f"{GLMER}, {version}", fit.notes)
    return Fitted(_variational_logistic(table, outcome, reference), VB_FALLBACK)


def _variational_logistic(table: pd.DataFrame, outcome: str, reference: str) -> pd.DataFrame:
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
                "std_error": sd,  # posterior sd
                "ci_low": mean - 1.96 * sd,
                "ci_high": mean + 1.96 * sd,
                "odds_ratio": float(np.exp(mean)),
                "p_value": float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def ordinal_system_effects(table: pd.DataFrame, reference: str) -> Fitted:
    """Per system other than `reference`: the log-odds of a higher rating, with its 95 % interval."""
    if table["rating"].nunique() < 3 or table["system"].nunique() < 2:
        return Fitted(pd.DataFrame(columns=EFFECT_COLUMNS), "not fitted: fewer than 3 rating levels used")
    version = r_engine.engine("ordinal")
    if version is not None:
        fit = r_engine.fit("clmm", _r_data(table, "rating"), reference)
        return Fitted(_r_table(fit, reference), f"{CLMM}, {version}", fit.notes)
    return Fitted(_marginal_ordinal(table, reference), MARGINAL_FALLBACK)


def _marginal_ordinal(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    systems = sorted(set(table["system"]) - {reference})
    exog = pd.DataFrame({s: (table["system"] == s).astype(float) for s in systems}, index=table.index)
    endog = pd.Series(pd.Categorical(table["rating"].astype(int), ordered=True), index=table.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = OrderedModel(endog, exog, distr="logit").fit(method="bfgs", disp=False, maxiter=1000)
    ci = fit.conf_int()
    return pd.DataFrame(
        [
            {
                "system": s,
                "versus": reference,
                "log_odds": float(fit.params[s]),
                "std_error": float(fit.bse[s]),
                "ci_low": float(ci.loc[s, 0]),
                "ci_high": float(ci.loc[s, 1]),
                "odds_ratio": float(np.exp(fit.params[s])),
                "p_value": float(fit.pvalues[s]),
            }
            for s in systems
        ],
        columns=EFFECT_COLUMNS,
    )


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
