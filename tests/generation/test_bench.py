from generation.bench.__main__ import bench_synth


def test_synth_benchmark_reports_rate_and_machine() -> None:
    result = bench_synth(clips_per_category=1, jobs=1)
    assert result["clips"] == 4
    assert result["failed"] == 0
    assert result["clips_per_minute"] > 0
    assert result["machine"]["cores"] >= 1
