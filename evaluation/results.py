"""The responses table written by `manage.py export_results` (or the admin / API), read without
Django, and the exclusions applied before any statistic: participants the study excluded (failed
catch trials, or a researcher's decision), failed headphone screenings, and implausibly fast answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

REQUIRED_COLUMNS = [
    "participant",
    "simulated",
    "excluded",
    "exclusion_reason",
    "task_type",
    "trial_index",
    "trial_kind",
    "clip",
    "category",
    "system",
    "stimulus_role",
    "correct",
    "answer",
    "rating",
    "rank",
    "response_time_ms",
]


class ResultsError(ValueError):
    """A results file that cannot be analysed; the message names the file and what to do."""


def load_results(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise ResultsError(
            f"{path}: no such file; write one with `manage.py export_results STUDY --out {path}`"
        )
    try:
        table = pd.read_csv(path, dtype={"participant": str, "clip": str, "system": str, "category": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise ResultsError(f"{path}: not a readable CSV ({error})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ResultsError(
            f"{path}: missing column(s) {', '.join(missing)}; expected the responses table of "
            "`manage.py export_results` (not the -participants.csv)"
        )
    return normalise(table)


def normalise(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    for column in ("correct", "rating", "rank", "response_time_ms", "simulated", "excluded"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    for column in (
        "exclusion_reason",
        "answer",
        "stimulus_role",
        "system",
        "category",
        "clip",
        "participant",
    ):
        table[column] = table[column].fillna("").astype(str)
    return table


def load_participants(path: str | Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"{path}: no such file (the participants table is written beside the responses)")
    table = pd.read_csv(path, dtype={"participant": str})
    if "status" not in table.columns or "participant" not in table.columns:
        raise ResultsError(f"{path}: expected the participants table of `manage.py export_results`")
    return table


@dataclass(frozen=True)
class ExclusionRules:
    min_response_time_ms: int = 300  # faster than this after the video ended is not a considered answer
    max_fast_share: float = 0.2  # participants with more fast answers than this are excluded whole


@dataclass
class ExclusionReport:
    participants_total: int = 0
    participants_analysed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # participants excluded, by reason
    fast_responses_dropped: int = 0
    simulated: bool = False

    def lines(self) -> list[str]:
        lines = [f"{n} {reason}" for reason, n in sorted(self.reasons.items(), key=lambda kv: -kv[1])]
        if self.fast_responses_dropped:
            lines.append(
                f"{self.fast_responses_dropped} single answers faster than the response-time floor dropped"
            )
        return lines


def _reason_bucket(reason: str) -> str:
    if "catch" in reason:
        return "excluded for failing catch trials"
    return "excluded by the researcher" + (f" ({reason})" if reason else "")


def apply_exclusions(
    table: pd.DataFrame, participants: pd.DataFrame | None = None, rules: ExclusionRules | None = None
) -> tuple[pd.DataFrame, ExclusionReport]:
    """Test trials of included participants, minus fast answers; and what was excluded, and why."""
    rules = rules or ExclusionRules()
    report = ExclusionReport(simulated=bool((table["simulated"] == 1).any()))
    everyone = set(table["participant"])
    if participants is not None:
        failed = participants[participants["status"] == "screening_failed"]
        if len(failed):
            report.reasons["failed the headphone screening"] = len(failed)
        report.simulated = report.simulated or bool((participants.get("simulated", pd.Series()) == 1).any())
        everyone |= set(failed["participant"].astype(str))
    report.participants_total = len(everyone)

    flagged = table[table["excluded"] == 1].groupby("participant")["exclusion_reason"].first()
    for reason in flagged:
        bucket = _reason_bucket(reason)
        report.reasons[bucket] = report.reasons.get(bucket, 0) + 1
    kept = table[(table["excluded"] != 1) & (table["trial_kind"] == "test")]

    timed = kept.dropna(subset=["response_time_ms"])
    fast = timed["response_time_ms"] < rules.min_response_time_ms
    # One row per answer: a ranking answer has a row per soundtrack, counted once here.
    per_answer = timed.assign(fast=fast).drop_duplicates(["participant", "trial_index"])
    share = per_answer.groupby("participant")["fast"].mean()
    too_fast = set(share[share > rules.max_fast_share].index)
    if too_fast:
        report.reasons[f"excluded for answering faster than {rules.min_response_time_ms} ms too often"] = len(
            too_fast
        )
    kept = kept[~kept["participant"].isin(too_fast)]
    fast_rows = kept["response_time_ms"] < rules.min_response_time_ms
    report.fast_responses_dropped = int(
        kept[fast_rows].drop_duplicates(["participant", "trial_index"]).shape[0]
    )
    kept = kept[~fast_rows]
    report.participants_analysed = kept["participant"].nunique()
    return kept.reset_index(drop=True), report
