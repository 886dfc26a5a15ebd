"""From an exported results table to the report: loading with clear errors, exclusions counted with
their reasons, every section's tables, and the files `python -m evaluation report` writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from evaluation.analysis import analyse
from evaluation.report import render_html
from evaluation.results import ExclusionRules, ResultsError, apply_exclusions, load_results, normalise
from tests.evaluation.simulated_results import SYSTEMS, results_table

REPO = Path(__file__).resolve().parents[2]


def test_clear_errors_for_files_that_are_not_a_results_table(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="no such file; write one with"):
        load_results(tmp_path / "missing.csv")
    (tmp_path / "participants.csv").write_text("participant,status\np1,finished\n")
    with pytest.raises(ResultsError, match=r"participants\.csv: missing column\(s\) simulated"):
        load_results(tmp_path / "participants.csv")


def test_exclusions_are_applied_before_analysis_and_counted() -> None:
    table = normalise(results_table(participants=10, clips=2))
    table.loc[table["participant"] == "p000", ["excluded", "exclusion_reason"]] = [
        1,
        "failed 2 of 2 catch trials",
    ]
    table.loc[table["participant"] == "p001", ["excluded", "exclusion_reason"]] = [
        1,
        "said they used speakers",
    ]
    table.loc[table["participant"] == "p002", "response_time_ms"] = 120  # every answer implausibly fast
    first = table.index[table["participant"] == "p003"][0]
    table.loc[first, "response_time_ms"] = 100  # one fast answer: dropped, participant kept
    table.loc[table.index[:3], "trial_kind"] = "catch"
    participants = pd.DataFrame({"participant": ["p900", "p901"], "status": ["screening_failed"] * 2})
    kept, report = apply_exclusions(table, participants, ExclusionRules(min_response_time_ms=300))
    assert report.participants_total == 12 and report.participants_analysed == 7
    assert report.reasons == {
        "failed the headphone screening": 2,
        "excluded for failing catch trials": 1,
        "excluded by the researcher (said they used speakers)": 1,
        "excluded for answering faster than 300 ms too often": 1,
    }
    assert report.fast_responses_dropped == 1
    assert (
        set(kept["trial_kind"]) == {"test"} and not kept["participant"].isin(["p000", "p001", "p002"]).any()
    )


def test_analysis_sections_recover_the_simulated_truth() -> None:
    analysis = analyse(normalise(results_table()))
    assert [s.task_type for s in analysis.sections] == [
        "turing_2afc",
        "turing_single",
        "fidelity_rating",
        "ranking",
    ]
    fool = analysis.table("turing_2afc", "fool_rate_by_system").set_index("system")
    for system, rate in SYSTEMS.items():
        assert fool.loc[system, "ci_low"] - 0.05 < rate < fool.loc[system, "ci_high"] + 0.05
    assert fool.loc["baseline", "p_chance"] < 0.001 and not fool.loc["baseline", "equivalent_to_chance"]
    mos = analysis.table("fidelity_rating", "mos_by_system").set_index("system")["mos"]
    assert mos["real"] > mos["ours"] > mos["baseline"]
    sensitivity = analysis.table("turing_single", "sensitivity").set_index("system")["d_prime"]
    assert sensitivity["baseline"] > sensitivity["ours"] > 0
    assert analysis.table("ranking", "mean_rank")["system"].tolist() == ["real", "ours", "baseline"]


def test_report_command_writes_html_figures_tables_and_methods(tmp_path: Path) -> None:
    table = results_table(participants=12, clips=4)
    table.loc[table["participant"] == "p000", "simulated"] = 1
    table.to_csv(tmp_path / "study.csv", index=False)
    pd.DataFrame({"participant": ["x"], "status": ["screening_failed"], "simulated": [0]}).to_csv(
        tmp_path / "study-participants.csv", index=False
    )
    pd.DataFrame([{"system": "ours", "category": "all", "onset_f1": 0.5}]).to_csv(
        tmp_path / "m.csv", index=False
    )
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "evaluation", "report", "--results", str(tmp_path / "study.csv"),
         "--out", str(out), "--metrics", str(tmp_path / "m.csv")],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "excluded: 1 failed the headphone screening" in done.stdout
    page = (out / "index.html").read_text()
    assert "SIMULATED DATA" in page and "Objective metrics" in page and "Methods" in page
    assert "13 participants took part; 12 were analysed" in (out / "methods.txt").read_text()
    for name in ("turing_2afc-fool-rate", "fidelity_rating-mos", "fidelity_rating-distribution"):
        assert (out / "figures" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert f"figures/{name}.png" in page
    fool = pd.read_csv(out / "tables" / "turing_2afc-fool_rate_by_system.csv")
    assert set(fool["system"]) == set(SYSTEMS) and {"ci_low", "p_tost", "p_chance_holm"} <= set(fool.columns)
    assert (out / "tables" / "exclusions.csv").is_file() and (
        out / "tables" / "objective-metrics.csv"
    ).is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "evaluation", "report", "--results", str(tmp_path / "nope.csv"),
         "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "nope.csv: no such file" in bad.stderr


def test_inline_report_embeds_its_figures() -> None:
    page = render_html(analyse(normalise(results_table(participants=6, clips=2))), title="Inline <b>")
    assert "data:image/png;base64," in page and "Inline &lt;b&gt;" in page and "SIMULATED" not in page


def test_unfinished_participants_are_left_out_and_counted_unless_asked_for() -> None:
    table = normalise(results_table(participants=6, clips=2))
    participants = pd.DataFrame(
        {
            "participant": ["p000", "p001", "p002", "p900"],
            "status": ["in_progress", "finished", "finished", "consented"],
        }
    )
    kept, report = apply_exclusions(table, participants)
    assert "p000" not in set(kept["participant"]) and report.reasons["did not finish the study"] == 2
    assert report.participants_total == 7 and report.participants_analysed == 5
    everyone, _ = apply_exclusions(table, participants, ExclusionRules(include_unfinished=True))
    assert "p000" in set(everyone["participant"])
