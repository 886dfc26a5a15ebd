"""Results tables with known truth, in the export's columns, for the statistics tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

SYSTEMS = {"ours": 0.42, "baseline": 0.22}  # true 2AFC fool rates
MOS = {"real": 4.2, "ours": 3.6, "baseline": 2.4}
CATEGORIES = ("drum", "fireworks")


def results_table(participants: int = 30, clips: int = 8, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []

    def row(p: int, index: int, task: str, clip: int, system: str, **values) -> dict:
        return {
            "participant": f"p{p:03d}",
            "simulated": 0,
            "excluded": 0,
            "exclusion_reason": "",
            "task_type": task,
            "trial_index": index,
            "trial_kind": "test",
            "clip": f"c{clip}",
            "category": CATEGORIES[clip % 2],
            "system": system,
            "stimulus_role": "test",
            "correct": "",
            "answer": "",
            "rating": "",
            "rank": "",
            "response_time_ms": int(rng.integers(800, 4000)),
            **values,
        }

    for p in range(participants):
        bias = rng.normal(0, 0.4)
        index = 0
        for clip in range(clips):
            for system, rate in SYSTEMS.items():
                fooled = rng.random() < rate
                rows.append(row(p, index, "turing_2afc", clip, system, correct=int(not fooled)))
                index += 1
            for system in ("real", *SYSTEMS):
                says_real = rng.random() < {"real": 0.75, "ours": 0.5, "baseline": 0.3}[system]
                truth = system == "real"
                answer = "real" if says_real else "generated"
                rows.append(
                    row(
                        p,
                        index,
                        "turing_single",
                        clip,
                        system,
                        answer=answer,
                        correct=int(says_real == truth),
                    )
                )
                index += 1
                rating = int(np.clip(np.round(MOS[system] + bias + rng.normal(0, 0.7)), 1, 5))
                rows.append(row(p, index, "fidelity_rating", clip, system, rating=rating))
                index += 1
            order = sorted(("real", *SYSTEMS), key=lambda s: -MOS[s] + rng.normal(0, 1.0))
            for rank, system in enumerate(order, start=1):
                rows.append(row(p, index, "ranking", clip, system, rank=rank))
            index += 1
    return pd.DataFrame(rows)
