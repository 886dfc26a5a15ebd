from generation.bench.__main__ import bench_prepare, bench_synth


def test_synth_benchmark_reports_rate_and_machine() -> None:
    result = bench_synth(clips_per_category=1, jobs=1)
    assert result["clips"] == 4
    assert result["failed"] == 0
    assert result["clips_per_minute"] > 0
    assert result["machine"]["cores"] >= 1


def test_prepare_benchmark_reports_rate_precision_and_weights() -> None:
    result = bench_prepare(clips_per_category=1, jobs=1, frame_size=32, device="cpu")
    assert result["clips"] == 4
    assert result["vgg_weights"] == "random-init"
    assert result["feature_precision"] in {"bf16", "fp32"}
    assert result["clips_per_minute"] > 0


def test_train_benchmark_measures_a_real_step() -> None:
    import torch

    from generation.bench.train import measure
    from generation.precision import native_precision

    result = measure("tiny", batch_size=2, chunk=1024, steps=2, warmup=1, conditioning="flow", device="cpu")
    assert result["samples_per_second"] > 0
    assert result["precision"] == native_precision(torch.device("cpu"))  # bf16 only where native
    forced = measure("tiny", batch_size=2, chunk=1024, steps=1, warmup=1, precision="fp32", device="cpu")
    assert forced["precision"] == "fp32"
    assert result["parameters"] > 0
    assert result["matmul_bound_samples_per_second"] > 0 and result["matmul_gflops"] > 0


def test_the_flop_model_counts_the_small_preset_by_hand() -> None:
    from generation.bench.train import flops_per_sample
    from generation.config import preset

    # small: dim 256, tiers 16/4, 1-layer GRU, sample MLP = window conv (4 x 64 -> 256) + output (256 -> 256).
    gru = 2 * 3 * 256 * 256
    top = (16 * 256 + gru + 256 * 1024) / 16
    mid = (4 * 256 + gru + 256 * 1024) / 4
    mlp = 4 * 64 * 256 + 256 * 256
    assert flops_per_sample(preset("small")) == 6 * (top + mid + mlp)
    assert 1.9e6 < flops_per_sample(preset("small")) < 2.1e6
    # The CPU's window lookup: the tables (256 codes x the window's products) once per step of 16 384.
    lookup = 256 * 4 * 64 * 256 / 16384 + 256 * 256
    assert flops_per_sample(preset("small"), window_lookup_samples=16384) == 6 * (top + mid + lookup)


def test_sampling_benchmark_measures_both_paths() -> None:
    from generation.bench.sample import measure_sampling

    for naive in (False, True):
        result = measure_sampling(
            "tiny", batch_size=2, seconds=0.064, naive=naive, conditioning="flow", device="cpu"
        )
        assert result["path"] == ("naive" if naive else "fast")
        assert result["rtf"] > 0


def test_follows_video_summary_joins_metrics_nll_and_runs(tmp_path) -> None:
    from generation.bench.follows_video import summarise

    metrics = tmp_path / "metrics-drum.csv"
    metrics.write_text(
        "system,category,clips,onset_acc,onset_ap,onset_f1,av_align,log_mel_distance\n"
        "real,drum,9,1.0,1.0,1.0,0.367,0.0\nflow,drum,9,0.5,0.6,0.75,0.3,0.5\n"
        "flow,all,9,0.5,0.6,0.75,0.3,0.5\nflow,fireworks,9,0.1,0.1,0.1,0.1,0.1\n"
    )
    (tmp_path / "metrics-drum-nll.csv").write_text(
        "category,model,nll_bits_per_sample,nll_shuffled_video,vision_gain_bits,clips,checkpoint_step\n"
        "drum,flow,1.8,1.9,0.1,9,1500\n"
    )
    first = summarise("drum", metrics, tmp_path / "runs", 1500)
    summary = summarise("fireworks", metrics, tmp_path / "runs", 1500, first)
    drum = summary["categories"]["drum"]["systems"]
    assert drum["real"]["onset_f1"] == 1.0 and drum["flow"]["onset_f1"] == 0.75
    assert drum["flow"]["vision_gain_bits"] == 0.1 and drum["flow"]["checkpoint_step"] == 1500
    assert summary["categories"]["fireworks"]["systems"]["flow"]["onset_f1"] == 0.1
    assert summary["categories"]["drum"]["flow_encoder_val_onset_correlation"] is None


def test_demo_quality_judges_the_shipped_checkpoints_against_their_targets(tmp_path) -> None:
    import csv
    import json

    from generation.bench.demo_quality import merge_into, summarise_checkpoints

    def checkpoint(category: str, model: str, val: float) -> dict:
        return {"category": category, "model": model, "step": 15000, "bytes": 1, "val_clips": 10,
                "val_bits_exported": val, "val_bits_shuffled_videos": val, "vision_gain_bits": 0}  # fmt: skip

    vals = {"drum": {"unconditional": 1.60, "frame": 1.59, "seq2seq": 1.58, "flow": 1.57},
            "fireworks": {"unconditional": 1.55, "frame": 1.52, "seq2seq": 1.51, "flow": 1.53}}  # fmt: skip
    (tmp_path / "checkpoints.json").write_text(
        json.dumps([checkpoint(c, m, v) for c, models in vals.items() for m, v in models.items()])
    )
    f1 = {("real", "drum"): 1.0, ("flow", "drum"): 0.85, ("unconditional", "drum"): 0.1,
          ("real", "fireworks"): 0.94, ("flow", "fireworks"): 0.55}  # fmt: skip
    metrics = tmp_path / "metrics.csv"
    with metrics.open("w", newline="") as handle:  # as `python -m evaluation metrics` writes it
        writer = csv.writer(handle)
        writer.writerow(["system", "category", "clips", "onset_f1", "av_align"])
        writer.writerows([system, category, 9, value, 0.3] for (system, category), value in f1.items())
    with metrics.with_name("metrics-nll.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["category", "model", "nll_bits_per_sample", "nll_shuffled_video", "checkpoint_step"])
        writer.writerow(["drum", "flow", 1.7, 1.71, 15000])
    summary = summarise_checkpoints(tmp_path, metrics)
    drum = summary["categories"]["drum"]
    assert drum["flow"]["onset_f1"] == 0.85 and drum["real"]["onset_f1"] == 1.0
    assert drum["flow"]["val_bits"] == 1.57 and drum["flow"]["test_nll_bits_per_sample"] == 1.7
    met = {(t["category"], t["id"]): t["met"] for t in summary["targets"]}
    assert met == {
        ("drum", "conditioned_below_unconditional"): True, ("drum", "flow_lowest"): True,
        ("drum", "flow_onset_f1"): True, ("fireworks", "conditioned_below_unconditional"): True,
        ("fireworks", "flow_lowest"): False, ("fireworks", "flow_onset_f1"): False,
    }  # fmt: skip
    # The training benchmark's results stay beside the summary in benchmarks/quality.json.
    quality = tmp_path / "quality.json"
    quality.write_text(json.dumps({"benchmark": "quality", "results": [{"model": "flow"}]}))
    merged = merge_into(quality, summary, tmp_path, metrics)
    assert (
        merged["results"] == [{"model": "flow"}]
        and merged["demo_checkpoints"]["targets"] == summary["targets"]
    )
