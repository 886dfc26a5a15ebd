"""Every statistic of a study, from its (exclusion-filtered) responses table: one section per task
type, each a set of named tables, the methods that ran (for the report's methods paragraph) and those
that could not, with why. `evaluation.report` turns an Analysis into HTML, CSV and figures."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation import task_types
from evaluation.results import ExclusionReport, ExclusionRules, apply_exclusions
from evaluation.statistics import agreement, detection, mixed, ranking, ratings
from evaluation.statistics.proportions import clustered_rate, holm

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
    methods: list[str] = field(default_factory=list)  # analyses that ran, as the methods paragraph says
    not_run: list[str] = field(default_factory=list)  # analyses that could not, and why

    def ran(self, text: str) -> None:
        self.methods.append(text)

    def skipped(self, text: str) -> None:
        self.not_run.append(text)


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
            except (ValueError, np.linalg.LinAlgError, RuntimeError) as error:  # too little data
                log.warning("%s: %s", task_type, error)
                section.notes.append(f"Some statistics could not be computed: {error}")
                section.skipped(f"some statistics could not be computed ({error})")
            sections.append(section)
    return Analysis(
        report, sections, config, responses=kept.drop_duplicates(["participant", "trial_index"]).shape[0]
    )


def _rates(rows: pd.DataFrame, outcome: str, by: list[str], margin: float) -> pd.DataFrame:
    """Per group: the rate of ``outcome`` with participant-clustered interval and tests against 50 %."""
    out = []
    for key, group in rows.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        r = clustered_rate(group[outcome], group["participant"], margin=margin)
        out.append(
            {
                **dict(zip(by, key, strict=True)),
                "n": r.n,
                "participants": r.clusters,
                outcome: int(group[outcome].sum()),
                "rate": r.rate,
                "std_error": r.std_error,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "p_chance": r.p_chance,
                "p_tost": r.p_tost,
                "equivalent_to_chance": r.equivalent(),
            }
        )
    result = pd.DataFrame(out)
    result["p_chance_holm"] = holm(result["p_chance"].to_numpy())
    return result


CLUSTERED = (
    "95 % intervals and tests account for each participant giving several answers (cluster-robust "
    "standard errors over participants, t with participants − 1 degrees of freedom)"
)


def _within_participant(
    section: Section, wide: pd.DataFrame, systems: list[str], what: str, *, friedman: bool
) -> None:
    """Friedman's and pairwise Wilcoxon tests need participants who judged every system."""
    if len(wide) < 2:
        section.skipped(
            f"{'Friedman and ' if friedman else ''}pairwise Wilcoxon tests on {what}: only {len(wide)} "
            f"participant(s) judged all {len(systems)} systems (raise trials_per_participant to at least "
            "the number of systems)"
        )
        return
    if friedman:
        if len(systems) >= 3:
            section.tables["friedman"] = pd.DataFrame([ratings.friedman(wide)])
            section.ran(f"Friedman's test on {what} (n = {len(wide)} participants) with Kendall's W")
        else:
            section.skipped("Friedman's test: needs at least 3 systems")
    section.tables["pairwise"] = ratings.pairwise_wilcoxon(wide)
    section.ran(
        f"pairwise Wilcoxon signed-rank tests on {what} (n = {len(wide)} participants), Holm-corrected, "
        "with rank-biserial r and Cohen's d_z"
    )


def _turing_2afc(rows: pd.DataFrame, section: Section, config: AnalysisConfig) -> None:
    rows = rows.assign(fooled=1 - rows["correct"].astype(int))
    margin = config.equivalence_margin
    by_system = _rates(rows, "fooled", ["system"], margin).rename(columns={"rate": "fool_rate"})
    section.tables["fool_rate_by_system"] = by_system
    section.tables["fool_rate_by_system_category"] = _rates(
        rows, "fooled", ["system", "category"], margin
    ).rename(columns={"rate": "fool_rate"})
    section.ran(
        f"fool rates per system and per system × category; {CLUSTERED}: t-tests against 50 % "
        f"(Holm-corrected across systems) and two one-sided tests of equivalence to chance "
        f"(margin ±{margin:.0%})"
    )
    systems = sorted(rows["system"].unique())
    if len(systems) >= 2:
        reference = min(systems, key=lambda s: rows.loc[rows["system"] == s, "fooled"].mean())
        fitted = mixed.logistic_system_effects(rows, "fooled", reference)
        section.tables["mixed_logistic"] = fitted.table
        section.ran(
            f"a logistic mixed model, fooled ~ system + (1|participant) + (1|clip), against {reference} "
            f"(fitted by {fitted.engine}; Wald 95 % intervals)"
        )
        section.notes.extend(f"Mixed model: {note}" for note in fitted.notes)
        _within_participant(
            section, ratings.participant_means(rows, "fooled"), systems, "per-participant fool rates",
            friedman=False,
        )  # fmt: skip
    else:
        section.skipped("system comparisons: only one generated system was tested")
    section.notes.append(
        f"Fool rate: share of trials where the generated soundtrack was chosen as real; chance is 50 %. "
        f"Equivalence (TOST) margin ±{margin:.0%}."
    )


def _turing_single(rows: pd.DataFrame, section: Section, config: AnalysisConfig) -> None:
    rows = rows.assign(judged_real=(rows["answer"] == "real").astype(int))
    section.tables["judged_real_by_system"] = _rates(
        rows, "judged_real", ["system"], config.equivalence_margin
    ).drop(columns=["p_tost", "equivalent_to_chance"])
    section.ran(f"the share judged real per system; {CLUSTERED}")
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
        section.ran(
            "d′ and criterion per system against the real soundtracks (log-linear correction, "
            "Gourevitch–Galanter intervals, which treat answers as independent)"
        )
        section.notes.append(
            "d′ = z(hit) − z(false alarm): hits are real soundtracks judged real, false alarms a system's "
            "judged real (log-linear correction); d′ = 0 means the system is indistinguishable from real."
        )
    else:
        section.skipped("d′: no real soundtracks were judged in this task")
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
    section.ran("MOS per system with t-based and participant-cluster bootstrap 95 % intervals")
    systems = sorted(rows["system"].unique())
    if len(systems) >= 2:
        reference = REAL if REAL in systems else systems[0]
        section.tables["mixed_linear"] = mixed.linear_system_effects(rows, reference)
        section.ran(
            f"a linear mixed model, rating ~ system + (1|participant) + (1|clip), against {reference} "
            "(statsmodels MixedLM, REML; Wald 95 % intervals)"
        )
        fitted = mixed.ordinal_system_effects(rows, reference)
        if len(fitted.table):
            section.tables["ordinal"] = fitted.table
            mixed_or_marginal = (
                "" if fitted.engine.startswith("statsmodels") else " + (1|participant) + (1|clip)"
            )
            section.ran(
                f"a cumulative-link (proportional-odds) model, rating ~ system{mixed_or_marginal}, "
                f"against {reference} (fitted by {fitted.engine})"
            )
            section.notes.extend(f"Ordinal model: {note}" for note in fitted.notes)
        else:
            section.skipped(f"the ordinal model: {fitted.engine}")
        _within_participant(
            section, ratings.participant_means(rows), systems, "per-participant mean ratings", friedman=True
        )
    else:
        section.skipped("system comparisons: only one system was rated")
    units = rows.assign(unit=rows["clip"] + "|" + rows["system"]).pivot_table(
        index="participant", columns="unit", values="rating", aggfunc="mean"
    )
    alpha = agreement.krippendorff_alpha_interval(units.to_numpy())
    section.tables["agreement"] = pd.DataFrame([{"krippendorff_alpha_interval": alpha, "raters": len(units)}])
    section.ran("Krippendorff's α (interval) for agreement between raters")


def _ranking(rows: pd.DataFrame, section: Section, config: AnalysisConfig) -> None:
    trials = ranking.rank_matrix(rows)
    people = ranking.participant_mean_ranks(rows)
    section.tables["mean_rank"] = ranking.mean_ranks(people)
    section.ran(
        f"mean rank per system over participants' mean ranks (n = {len(people)} participants), with t "
        "95 % intervals"
    )
    if len(people) >= 2 and people.shape[1] >= 3:
        section.tables["friedman"] = pd.DataFrame([ranking.ranking_friedman(people)])
        section.ran(
            f"Friedman's test on per-participant mean ranks (n = {len(people)} participants) with Kendall's W"
        )
    else:
        section.skipped(
            f"Friedman's test: needs 2 participants and 3 systems ({len(people)} and {people.shape[1]})"
        )
    section.tables["win_matrix"] = ranking.win_matrix(trials).reset_index(names="system")
    section.ran("the pairwise win matrix over trials")
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
