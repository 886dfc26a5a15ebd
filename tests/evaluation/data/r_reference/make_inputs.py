"""The models' input rows, from the committed export, as the analysis selects them (exclusions
applied, test trials only): turing_2afc.csv (y = fooled) and fidelity_rating.csv (y = rating).
study.csv / study-participants.csv came from the app itself: 16 demo-synth clips (1 practice and 1
catch clip per category), systems real / sys-delay / sys-noise, a 2AFC and a fidelity task of 6 trials,
`simulate_participants rref --into-study --n 60 --quality sys-delay=0.92 --quality sys-noise=0.75
--careless 0.1 --seed 7`, then `export_results --include-excluded`. Run from the repository root:
    python tests/evaluation/data/r_reference/make_inputs.py && Rscript tests/evaluation/data/r_reference/fit.R
"""

from __future__ import annotations

from pathlib import Path

from evaluation.results import apply_exclusions, load_participants, load_results

HERE = Path(__file__).parent


def model_inputs() -> dict[str, object]:
    table = load_results(HERE / "study.csv")
    kept, _ = apply_exclusions(table, load_participants(HERE / "study-participants.csv"))
    columns = ["y", "system", "participant", "clip"]
    turing = kept[kept["task_type"] == "turing_2afc"]
    ratings = kept[kept["task_type"] == "fidelity_rating"].dropna(subset=["rating"])
    return {
        "turing_2afc": turing.assign(y=1 - turing["correct"].astype(int))[columns],
        "fidelity_rating": ratings.assign(y=ratings["rating"].astype(int))[columns],
    }


if __name__ == "__main__":
    for name, rows in model_inputs().items():
        rows.to_csv(HERE / f"{name}.csv", index=False)
        print(f"{name}.csv: {len(rows)} rows, {rows['participant'].nunique()} participants")
