"""How well the flow encoder's onset cue alone places a clip's events: the bound on what a flow-based
model that strikes exactly where it is cued would score.

Each window whose predicted onset strength is a local maximum above a threshold counts as one onset at
the window's centre; onset F1 (±50 ms, `evaluation.metrics.sync.onset_scores`) against the event times
of the clips' sidecars. The same for the audio's own onset profile (what training tells the model in
`--onset-teacher` streams) as a reference. Where the cue scores far above the model's soundtracks, what
limits the model is its sound model's response to the cue, not the flow encoder.

    python benchmarks/cue_onsets.py --data data/big/prepared --flow-encoder data/big/runs-lr/flow_encoder.pt \
        --category drum --split test
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from evaluation.metrics.sync import onset_scores
from generation.config import SAMPLE_RATE
from generation.prepared import PreparedData
from generation.sources import sidecar_onsets
from generation.train_flow import onset_predictor, predict_onsets

THRESHOLDS = (0.3, 0.5, 0.8, 1.2)  # onset strength 1 = a rise of 10 dB between 8-ms hops


def peak_times(strength: np.ndarray, threshold: float, window_seconds: float) -> np.ndarray:
    """Centres (s) of the windows whose strength is above threshold and not below either neighbour's."""
    before, after = np.r_[0.0, strength[:-1]], np.r_[strength[1:], 0.0]
    windows = np.flatnonzero((strength > threshold) & (strength >= before) & (strength >= after))
    return (windows + 0.5) * window_seconds


def cue_scores(data: PreparedData, encoder_path: str, category: str, split: str) -> dict:
    encoder = onset_predictor(torch.load(encoder_path, weights_only=False, map_location="cpu"))
    records = data.clips(split=split, category=category)
    cued, told, references = [], [], []
    for record in records:
        shard = data.load(record)
        events = sidecar_onsets(record.source, record.start, record.num_samples / SAMPLE_RATE)
        if events is None:
            print(f"skipped {record.clip_id}: no sidecar with event times next to {record.source}")
            continue
        cued.append(predict_onsets(encoder, shard.window_flow).sum(dim=1).numpy())
        told.append(shard.window_onsets.sum(dim=1).numpy())
        references.append(np.asarray(events, float))
    window_seconds = records[0].num_samples / records[0].num_frames / SAMPLE_RATE
    rows = {}
    for threshold in THRESHOLDS:
        for name, strengths in (("flow encoder cue", cued), ("audio's own profile", told)):
            detected = [peak_times(s, threshold, window_seconds) for s in strengths]
            scores = onset_scores(detected, references)
            rows.setdefault(name, {})[str(threshold)] = {k: round(v, 3) for k, v in scores.items()}
    return {"category": category, "split": split, "clips": len(references), "thresholds": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--flow-encoder", required=True, help="flow_encoder.pt that training pre-trained")
    parser.add_argument("--category", required=True)
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    torch.set_num_threads(1)
    scores = cue_scores(PreparedData(args.data), args.flow_encoder, args.category, args.split)
    print(json.dumps(scores, indent=1))


if __name__ == "__main__":
    main()
