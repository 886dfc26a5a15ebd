import pytest
import torch

from generation.quantize import LINEAR, MU_LAW, dequantize, quantize


@pytest.mark.parametrize("scheme", [LINEAR, MU_LAW])
def test_round_trip_stays_within_one_step(scheme: str) -> None:
    audio = torch.linspace(-1, 1, 10_001)
    codes = quantize(audio, 256, scheme)
    assert codes.min() == 0 and codes.max() == 255
    error = (dequantize(codes, 256, scheme) - audio).abs().max()
    assert error <= (1 / 128 if scheme == LINEAR else 0.04)


def test_linear_codes_use_the_fixed_range_not_the_clip_range() -> None:
    """A quiet clip stays quiet: no per-clip min-max normalisation (the old implementations' bug)."""
    quiet = 0.01 * torch.sin(torch.linspace(0, 100, 16_000)) + 0.005  # small, with a DC offset
    codes = quantize(quiet)
    assert set(codes.unique().tolist()) <= {127, 128, 129}
    assert dequantize(codes).mean() == pytest.approx(0.005, abs=0.004)


def test_silence_is_the_middle_code_and_out_of_range_is_clipped() -> None:
    assert quantize(torch.zeros(1)).item() == 128
    assert quantize(torch.tensor([-3.0, 3.0])).tolist() == [0, 255]


def test_unknown_scheme_is_named() -> None:
    with pytest.raises(ValueError, match="unknown quantisation scheme 'alaw'"):
        quantize(torch.zeros(4), scheme="alaw")
