#!/usr/bin/env bash
# Does the generated sound follow the video? One category (default drum) of the synthetic dataset at a
# size the conditioning can learn from (130 clips: 111 train / 10 val / 9 test), the label-free flow
# encoder, then the flow and frame models and the unconditional baseline, their soundtracks of the
# held-out clips, every objective metric, the vision ablation and a spectrogram figure; the summary goes
# to benchmarks/follows_video.json. Every step resumes (rerun the same command after an interruption).
#   bash benchmarks/follows_video.sh [CATEGORY]
#   (STEPS=1500 FLOW_STEPS=$STEPS MODELS="flow frame unconditional" GUIDANCE=1 LR=1e-3 RUNS=data/big/runs)
# 2-core CPU: data about 35 min, each model about 22 min (two at a time), the rest a few minutes.
set -eu
cd "$(dirname "$0")/.."
export PYTHONPATH=. PYTHONUNBUFFERED=1
P=.venv/bin/python
CATEGORY=${1:-drum}
STEPS=${STEPS:-1500}
FLOW_STEPS=${FLOW_STEPS:-$STEPS}
MODELS=${MODELS:-flow frame unconditional}
GUIDANCE=${GUIDANCE:-1}  # the flow model's --onset-guidance (2 was best on the drum validation clips)
LR=${LR:-3e-4}  # train --lr (its default); at 1e-3 the fireworks models' frame tiers die (README, `generation diagnose`)
ROOT=data/big D=data/big/prepared R=${RUNS:-data/big/runs} S=${RUNS:-data/big/runs}-samples
mkdir -p $ROOT
[ -f $ROOT/videos/synth.json ] || $P -m generation.synth --out $ROOT/videos --clips 130 --categories drum,fireworks
$P -m generation prepare --videos $ROOT/videos --out $D --frame-size 112 --val-ratio 0.08 --test-ratio 0.07
[ -f $R/flow_encoder.pt ] || $P -m generation train-flow --data $D --runs $R
for model in $MODELS; do  # two at a time, one thread each: a 2-core machine's best use
  steps=$STEPS; [ $model = flow ] && steps=$FLOW_STEPS
  OMP_NUM_THREADS=1 $P -m generation train --data $D --runs $R --category $CATEGORY --model $model \
    --steps $steps --batch-size 16 --val-every 500 --lr $LR > $ROOT/train-$CATEGORY-$model.log 2>&1 &
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do sleep 5; done
done
wait
$P -c 'import sys; from generation.prepared import PreparedData
PreparedData(sys.argv[1]).write_clips_csv(sys.argv[3], split="test", category=sys.argv[2])' \
  "$D" "$CATEGORY" "$ROOT/test-$CATEGORY.csv"
generated=()
for model in $MODELS; do
  out=$S/$model guidance=()
  if [ $model = flow ] && [ "$GUIDANCE" != 1 ]; then  # guided soundtracks in a folder of their own
    out=$S/flow-guidance-$GUIDANCE guidance=(--onset-guidance "$GUIDANCE")
  fi
  # Soundtracks of an older checkpoint would be kept (sampling skips clips already done): drop them.
  if [ -d $out/$CATEGORY ] && [ $out/$CATEGORY -ot $R/$CATEGORY/$model/best.pt ]; then
    rm -rf "${out:?}/$CATEGORY"
  fi
  OMP_NUM_THREADS=1 $P -m generation sample --checkpoint $R/$CATEGORY/$model/best.pt --data $D --split test \
    --category $CATEGORY "${guidance[@]}" --out $out > $ROOT/sample-$CATEGORY-$model.log 2>&1 &
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do sleep 5; done
  generated+=(--generated "$model=$out")
done
wait
$P -m evaluation metrics --real $ROOT/test-$CATEGORY.csv "${generated[@]}" --runs $R --data $D \
  --out $ROOT/metrics-$CATEGORY.csv
mkdir -p benchmarks/figures
$P -m evaluation spectrograms --real $ROOT/test-$CATEGORY.csv "${generated[@]}" \
  --out benchmarks/figures/spectrograms-$CATEGORY.png
$P -m generation.bench follows-video --category $CATEGORY --metrics $ROOT/metrics-$CATEGORY.csv \
  --runs $R --steps $STEPS
