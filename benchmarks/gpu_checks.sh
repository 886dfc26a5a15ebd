#!/usr/bin/env bash
# The checks that need a GPU, as one bounded script for a lent GPU machine (no Django there):
#   the CUDA-graph sampling test, the training and sampling throughput benchmarks, and the quality
#   benchmark with the paper preset on a prepared dataset.
# Usage: bash benchmarks/gpu_checks.sh PREPARED_DIR OUT_DIR [QUALITY_STEPS]
# Each step has its own time limit so that one slow step cannot take the others' results with it;
# the benchmark JSON files and a log of every step are copied to OUT_DIR as they finish.
set -u
prepared=${1:?prepared dataset folder}
out=${2:?output folder}
quality_steps=${3:-300}
export PYTHONUNBUFFERED=1
mkdir -p "$out"

step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    local started=$SECONDS
    timeout "$limit" "$@" >"$out/$name.log" 2>&1
    local rc=$?
    echo "$name: exit $rc in $((SECONDS - started)) s" | tee -a "$out/steps.txt"
    tail -n 5 "$out/$name.log"
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/steps.txt"
step cuda_graph 90 python3 -m pytest -q -p no:cacheprovider -o addopts= \
    tests/generation/test_sample.py -k cuda_graph
step bench_train 120 python3 -m generation.bench train
cp benchmarks/train.json "$out/" 2>/dev/null
step bench_sample 120 python3 -m generation.bench sample
cp benchmarks/sample.json "$out/" 2>/dev/null
step bench_quality 280 python3 -m generation.bench quality --preset paper --data "$prepared" \
    --runs /tmp/quality-runs --steps "$quality_steps" --val-every $((quality_steps / 2)) --batch-size 32
cp benchmarks/quality.json "$out/quality_paper.json" 2>/dev/null
true
