#!/usr/bin/env bash
# The shipped demo checkpoints against their targets: the real and the shipped soundtracks of every demo
# test clip scored by `python -m evaluation metrics` (onset F1 / AP, AV-Align; the test NLL under each
# checkpoint with its clips' own videos and with shuffled ones), a spectrogram figure (real vs. each
# model, one clip per category), and the summary with the targets in benchmarks/quality.json
# ("demo_checkpoints"). Needs the test clips prepared: `make demo SAMPLE=1` (or TRAIN=1) leaves them.
#   bash benchmarks/demo_quality.sh        (DATA=data/demo/prepared OUT=data/demo/quality)
# 2-core CPU: about 5 minutes.
set -eu
cd "$(dirname "$0")/.."
export PYTHONPATH=. PYTHONUNBUFFERED=1
P=.venv/bin/python
DATA=${DATA:-data/demo/prepared} OUT=${OUT:-data/demo/quality}
CHECKPOINTS=demo/checkpoints SOUNDTRACKS=demo/soundtracks
mkdir -p "$OUT" benchmarks/figures
$P - "$DATA" "$OUT/test.csv" <<'PY'
import csv, json, sys
data, out = sys.argv[1:]
clips = [c for c in json.load(open(f"{data}/manifest.json"))["clips"] if c["split"] == "test"]
if not clips:
    sys.exit(f"{data} holds no test clips: run `make demo SAMPLE=1` first")
with open(out, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["path", "category", "clip_id"])
    writer.writerows([c["source"], c["category"], c["clip_id"]] for c in clips)
PY
generated=()
for model in unconditional frame seq2seq flow; do generated+=(--generated "$model=$SOUNDTRACKS/$model"); done
$P -m evaluation metrics --real "$OUT/test.csv" "${generated[@]}" --runs $CHECKPOINTS --data "$DATA" \
  --out "$OUT/metrics.csv"
$P -m evaluation spectrograms --real "$OUT/test.csv" "${generated[@]}" --out benchmarks/figures/spectrograms-demo.png
$P -m generation.bench demo-quality --checkpoints $CHECKPOINTS --metrics "$OUT/metrics.csv"
