"""Every statistic of a study, from its (exclusion-filtered) responses table: one section per task
type, each a set of named tables. `evaluation.report` turns an Analysis into HTML, CSV and figures."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation import task_types
from evaluation.results import ExclusionReport, ExclusionRules, apply_exclusions
from evaluation.statistics import agreement, detection, mixed, ranking, ratings
from evaluation.statistics.proportions import binomial_test, holm, tost_proportion, wilson_interval

log = logging.getLogger(__name__)
REAL = "real"


@dataclass(frozen=True)
class AnalysisConfig:
    equivalence_margin: float = 0.1  # TOST: a fool rate within 50 % ± margin counts as chance
    exclusions: ExclusionRules = field(default_factory=ExclusionRules)
    bootstrap_seed: int = 0


@dataclass
class Section:
    task_type: str
    title: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Analysis:
    exclusions: ExclusionReport
    sections: list[Section]
    config: AnalysisConfig
    responses: int = 0

    def table(self, task_type: str, name: str) -> pd.DataFrame:
        return next(s for s in self.sections if s.task_type == task_type).tables[name]


def analyse(
    table: pd.DataFrame, participants: pd.DataFrame | None = None, config: AnalysisConfig | None = None
) -> Analysis:
    config = config or AnalysisConfig()
    kept, report = apply_exclusions(table, participants, config.exclusions)
    sections = []
    for task_type, builder in BUILDERS.items():
        rows = kept[kept["task_type"] == task_type]
        if len(rows):
            section = Section(task_type, task_types.TITLES[task_type])
            try:
                builder(rows, section, config)
            except (ValueError, np.linalg.LinAlgError) as error:  # too little data for a model
                log.warning("%s: %s", task_type, error)
                section.notes.append(f"Some statistics could not be computed: {error}")
            sections.append(section)
    return Analysis(
        report, sections, config, responses=kept.drop_duplicates(["participant", "trial_index"]).shape[0]
    )


def _fool_rates(rows: pd.DataFrame, by: list[str], margin: float) -> pd.DataFrame:
    out = []
    for key, group in rows.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        n, k = len(group), int(group["fooled"].sum())
        low, high = wilson_interval(k, n)
        tost = tost_proportion(k, n, margin=margin)
        out.append(
            {
                **dict(zip(by, key, strict=True)),
                "n": n,
                "fooled": k,
                "fool_rate": k / n,
                "ci_low": low,
                "ci_high": high,
                "p_binomial": binomial_test(k, n),
                "p_tost": tost.p_value,
                "equivalent_to_chance": tost.equivalent(),
            }
        )
    result = pd.DataFrame(out)
    result["p_binomial_holm"] = holm(result["p_binomial"].to_numpy())
    return result


def _turing_2afc(rows: pd.DataFrame, section: Section, config: AnalysisConfig) -> None:
    rows = rows.assign(fooled=1 - rows["correct"].astype(int))
    section.tables["fool_rate_by_system"] = _fool_rates(rows, ["system"], config.equivalence_margin)
    section.tables["fool_rate_by_system_category"] = _fool_rates(
        rows, ["system", "category"], config.equivalence_margin
    )
    systems = sorted(rows["system"].unique())
    if len(systems) >= 2:
        reference = min(systems, key=lambda s: rows.loc[rows["system"] == s, "fooled"].mean())
        section.tables["mixed_logistic"] = mixed.logistic_system_effects(rows, "fooled", reference)
        section.tables["pairwise"] = ratings.pairwise_wilcoxon(ratings.participant_means(rows, "fooled"))
    section.notes.append(
        f"Fool rate: share of trials where the generated soundtrack was chosen as real; chance is 50 %. "
        f"Equivalence (TOST) margin ±{config.equivalence_margin:.0%}."
    )


def _turing_single(rows: pd.DataFrame, section: Section, config: AnalysisConfig) -> None:
    rows = rows.assign(judged_real=(rows["answer"] == "real").astype(int))
    out = []
    for system, group in rows.groupby("system", sort=True):
        n, k = len(group), int(group["judged_real"].sum())
        low, high = wilson_interval(k, n)
        out.append(
            {"system": system, "n": n, "judged_real": k, "rate": k / n, "ci_low": low, "ci_high": high}
        )
    section.tables["judged_real_by_system"] = pd.DataFrame(out)
    real = rows[rows["system"] == REAL]
    if len(real):
        detect = []
        for system, group in rows[rows["system"] != REAL].groupby("system", sort=True):
            s = detection.sensitivity(
                int(real["judged_real"].sum()), len(real), int(group["judged_real"].sum()), len(group)
            )
            detect.append(
                {
                    "system": system,
                    "d_prime": s.d_prime,
                    "d_prime_ci_low": s.d_prime_ci[0],
                    "d_prime_ci_high": s.d_prime_ci[1],
                    "criterion": s.criterion,
                    "criterion_ci_low": s.criterion_ci[0],
                    "criterion_ci_high": s.criterion_ci[1],
                    "hit_rate": s.hit_rate,
                    "false_alarm_rate": s.false_alarm_rate,
                }
            )
        section.tables["sensitivity"] = pd.DataFrame(detect)
        section.notes.append(
            "d′ = z(hit) − z(false alarm): hits are real soundtracks judged real, false alarms a system's "
            "judged real (log-linear correction); d′ = 0 means the system is indistinguishable from real."
        )
    else:
        section.notes.append("No real soundtracks were judged in this task, so d′ cannot be computed.")


def _ratings(rows: pd.DataFrame, section: Section, config: AnalysisConfig) -> None:
    rows = rows.dropna(subset=["rating"])
    section.tables["mos_by_system"] = ratings.mos_table(rows, ["system"], seed=config.bootstrap_seed)
    section.tables["mos_by_system_category"] = ratings.mos_table(
        rows, ["system", "category"], seed=config.bootstrap_seed
    )
    section.tables["distribution"] = (
        rows.pivot_table(
            index="system", columns="rating", values="participant", aggfunc="count", fill_value=0
        )
        .reindex(columns=[1, 2, 3, 4, 5], fill_value=0)
        .reset_index()
    )
    systems = sorted(rows["system"].unique())
    if len(systems) >= 2:
        reference = REAL if REAL in systems else systems[0]
        section.tables["mixed_linear"] = mixed.linear_system_effects(rows, reference)
        section.tables["proportional_odds"] = ratings.proportional_odds(rows, reference)
        wide = ratings.participant_means(rows)
        section.tables["friedman"] = pd.DataFrame([ratings.friedman(wide)])
        section.tables["pairwise"] = ratings.pairwise_wilcoxon(wide)
    units = rows.assign(unit=rows["clip"] + "|" + rows["system"]).pivot_table(
        index="participant", columns="unit", values="rating", aggfunc="mean"
    )
    alpha = agreement.krippendorff_alpha_interval(units.to_numpy())
    section.tables["agreement"] = pd.DataFrame([{"krippendorff_alpha_interval": alpha, "raters": len(units)}])


def _ranking(rows: pd.DataFrame, section: Section, config: AnalysisConfig) -> None:
    wide = ranking.rank_matrix(rows)
    section.tables["mean_rank"] = ranking.mean_ranks(wide)
    section.tables["friedman"] = pd.DataFrame([ranking.ranking_friedman(wide)])
    section.tables["win_matrix"] = ranking.win_matrix(wide).reset_index(names="system")
    section.notes.append(
        "Rank 1 is the most realistic; the win matrix gives how often the row beat the column."
    )


BUILDERS = {
    task_types.TURING_2AFC: _turing_2afc,
    task_types.TURING_SINGLE: _turing_single,
    task_types.SYNC_RATING: _ratings,
    task_types.FIDELITY_RATING: _ratings,
    task_types.RANKING: _ranking,
}
