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
