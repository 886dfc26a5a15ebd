"""The responses table written by `manage.py export_results` (or the admin / API), read without
Django, and the exclusions applied before any statistic: participants the study excluded (failed
catch trials, or a researcher's decision), failed headphone screenings, and implausibly fast answers."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str
    analysed: bool = False  # the statistics read it, so a table without it cannot be analysed


RESPONSE_TABLE = (
    Column("study", "the study's slug"),
    Column("participant", "opaque participant id", analysed=True),
    Column("participant_number", "order of arrival"),
    Column("simulated", "1 for a participant made by simulate_participants", analysed=True),
    Column("excluded", "1 when the participant is excluded", analysed=True),
    Column("exclusion_reason", "why", analysed=True),
    Column("task", "the task's order in the study"),
    Column("task_type", "turing_2afc, turing_single, sync_rating, fidelity_rating, ranking", analysed=True),
    Column("trial_index", "position in the participant's sequence", analysed=True),
    Column("trial_kind", "test, practice or catch", analysed=True),
    Column("clip", "clip id", analysed=True),
    Column("category", "sound category", analysed=True),
    Column("system", "the system of the soundtrack this row describes", analysed=True),
    Column("stimulus_role", "test, practice or anchor", analysed=True),
    Column("anchor", "the anchor variant, when the soundtrack is one"),
    Column("position", "the letter it was shown under"),
    Column("positions", "every letter of the trial"),
    Column("answer", "the answer as given (a letter, real/generated, a rating, A>B>C)", analysed=True),
    Column("correct", "Turing tasks: 1 when the real soundtrack was identified", analysed=True),
    Column("catch_passed", "catch trials: 1 when passed"),
    Column("rating", "rating tasks: 1 to 5", analysed=True),
    Column("rank", "ranking: this soundtrack's rank, 1 = best", analysed=True),
    Column("response_time_ms", "from the moment every soundtrack had played", analysed=True),
    Column("plays", "plays of the trial's soundtracks"),
    Column("client_time", "the browser's clock at the answer"),
    Column("server_time", "the server's clock when it was saved"),
    Column("delivered_time", "the server's clock when it first sent the trial"),
    Column("server_answer_ms", "server_time − delivered_time: the answer's time by the server's clock"),
    Column("min_play_ms", "the least time the trial's videos take to play as required (90 % of each)"),
    Column("faster_than_media", "1 when the answer came sooner than the videos could have played"),
    Column("response_id", "the response's database id"),
)
PARTICIPANT_TABLE = (
    Column("study", "the study's slug"),
    Column("participant", "opaque participant id", analysed=True),
    Column("participant_number", "order of arrival"),
    Column("status", "consented, screening_failed, in_progress or finished", analysed=True),
    Column("simulated", "1 for a simulated participant"),
    Column("excluded", "1 when excluded"),
    Column("exclusion_reason", "why"),
    Column("screening_score", "headphone check: correct of 6"),
    Column("screening_passed", "1 when passed"),
    Column("prolific_pid", "Prolific participant id"),
    Column("prolific_study_id", "Prolific study id"),
    Column("prolific_session_id", "Prolific session id"),
    Column("mturk_worker_id", "MTurk worker id"),
    Column("mturk_assignment_id", "MTurk assignment id"),
    Column("mturk_hit_id", "MTurk HIT id"),
    Column("user_agent", "the browser"),
    Column("consented_at", "time of consent"),
    Column("started_at", "time of arrival"),
    Column("finished_at", "time of finishing"),
    Column("responses", "answers given"),
    Column("catch_trials", "catch trials answered"),
    Column("catch_failed", "catch trials failed"),
    Column("questionnaire", "the questionnaire's answers, as JSON"),
)
# The responses table written by `manage.py export_results`, the admin and the API, in this order.
COLUMNS = [c.name for c in RESPONSE_TABLE]
PARTICIPANT_COLUMNS = [c.name for c in PARTICIPANT_TABLE]
REQUIRED_COLUMNS = [c.name for c in RESPONSE_TABLE if c.analysed]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (``=HYPERLINK(…)`` as a participant id or a
    questionnaire answer) gets a leading apostrophe (OWASP's CSV-injection advice); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(columns: list[str], rows: list[dict]) -> str:
    """A table of ``columns`` as CSV text, the one way the tables are written; text cells are made
    spreadsheet-safe."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


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
        table[column] = table[column].astype(object).fillna("").astype(str)
    return table


def load_participants(path: str | Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"{path}: no such file (the participants table is written beside the responses)")
    table = pd.read_csv(path, dtype={"participant": str})
    if any(c.analysed and c.name not in table.columns for c in PARTICIPANT_TABLE):
        raise ResultsError(f"{path}: expected the participants table of `manage.py export_results`")
    return table


@dataclass(frozen=True)
class ExclusionRules:
    min_response_time_ms: int = 300  # faster than this after the video ended is not a considered answer
    max_fast_share: float = 0.2  # participants with more fast answers than this are excluded whole
    # Someone who left half-way is not a participant whose judgements the design balanced, and may have
    # left because of the task: their answers are left out unless asked for, and counted.
    include_unfinished: bool = False


UNFINISHED = ("consented", "in_progress")


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


def _fast(table: pd.DataFrame, rules: ExclusionRules) -> pd.Series:
    """Per row: 1.0 for an answer too fast to be considered, 0.0 if not, nan when unknown. By the
    server's clock where the export has it (sooner than the videos could play, or less than
    min_response_time_ms after that), else by the browser's response time."""
    client = (table["response_time_ms"] < rules.min_response_time_ms).astype(float)
    fast = client.where(table["response_time_ms"].notna())
    if "server_answer_ms" in table and "min_play_ms" in table:
        server_ms = pd.to_numeric(table["server_answer_ms"], errors="coerce")
        least = pd.to_numeric(table["min_play_ms"], errors="coerce")
        by_server = ((server_ms - least) < rules.min_response_time_ms).astype(float)
        known = server_ms.notna() & least.notna()
        fast = by_server.where(known, fast)
    return fast


def apply_exclusions(
    table: pd.DataFrame, participants: pd.DataFrame | None = None, rules: ExclusionRules | None = None
) -> tuple[pd.DataFrame, ExclusionReport]:
    """Test trials of included participants, minus fast answers; and what was excluded, and why.
    Participants the participants table lists as unfinished are left out (and counted) unless
    ``rules.include_unfinished``."""
    rules = rules or ExclusionRules()
    report = ExclusionReport(simulated=bool((table["simulated"] == 1).any()))
    everyone = set(table["participant"])
    if participants is not None:
        failed = participants[participants["status"] == "screening_failed"]
        if len(failed):
            report.reasons["failed the headphone screening"] = len(failed)
        report.simulated = report.simulated or bool((participants.get("simulated", pd.Series()) == 1).any())
        everyone |= set(failed["participant"].astype(str))
        if not rules.include_unfinished:
            unfinished = set(
                participants.loc[participants["status"].isin(UNFINISHED), "participant"].astype(str)
            )
            if unfinished:
                report.reasons["did not finish the study"] = len(unfinished)
                everyone |= unfinished
                table = table[~table["participant"].isin(unfinished)]
    report.participants_total = len(everyone)

    flagged = table[table["excluded"] == 1].groupby("participant")["exclusion_reason"].first()
    for reason in flagged:
        bucket = _reason_bucket(reason)
        report.reasons[bucket] = report.reasons.get(bucket, 0) + 1
    kept = table[(table["excluded"] != 1) & (table["trial_kind"] == "test")]

    kept = kept.assign(fast=_fast(kept, rules))
    timed = kept.dropna(subset=["fast"])
    fast = timed["fast"] > 0.5
    # One row per answer: a ranking answer has a row per soundtrack, counted once here.
    per_answer = timed.assign(fast=fast).drop_duplicates(["participant", "trial_index"])
    share = per_answer.groupby("participant")["fast"].mean()
    too_fast = set(share[share > rules.max_fast_share].index)
    if too_fast:
        report.reasons[f"excluded for answering faster than {rules.min_response_time_ms} ms too often"] = len(
            too_fast
        )
    kept = kept[~kept["participant"].isin(too_fast)]
    fast_rows = kept["fast"] > 0.5  # unknown (nan) is not fast
    report.fast_responses_dropped = int(
        kept[fast_rows].drop_duplicates(["participant", "trial_index"]).shape[0]
    )
    kept = kept[~fast_rows].drop(columns="fast")
    report.participants_analysed = kept["participant"].nunique()
    return kept.reset_index(drop=True), report
