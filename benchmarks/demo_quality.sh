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
$P -c 'import sys; from generation.prepared import PreparedData
if not PreparedData(sys.argv[1]).write_clips_csv(sys.argv[2], split="test"):
    sys.exit(f"{sys.argv[1]} holds no test clips: run `make demo SAMPLE=1` first")' "$DATA" "$OUT/test.csv"
generated=()
for model in unconditional frame seq2seq flow; do generated+=(--generated "$model=$SOUNDTRACKS/$model"); done
$P -m evaluation metrics --real "$OUT/test.csv" "${generated[@]}" --runs $CHECKPOINTS --data "$DATA" \
  --out "$OUT/metrics.csv"
$P -m evaluation spectrograms --real "$OUT/test.csv" "${generated[@]}" --out benchmarks/figures/spectrograms-demo.png
$P -m generation.bench demo-quality --checkpoints $CHECKPOINTS --metrics "$OUT/metrics.csv"
