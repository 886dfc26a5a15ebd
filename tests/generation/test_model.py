"""SampleRNN and its three visual conditionings, on tiny configs on the CPU."""

from __future__ import annotations

import pytest
import torch

from generation.config import CONDITIONINGS, FLOW, FRAME, SEQ2SEQ, UNCONDITIONAL, ModelConfig, preset
from generation.model import SampleRNN
from generation.onset_strength import HOPS_PER_WINDOW

B, FEATURES, FLOW_SIZE = 3, 24, 8
TOP = 16  # the tiny preset's coarse frame
SPF = 64  # a small "video frame" keeps the tests fast; the bookkeeping is the same as with 1024


def config(conditioning: str) -> ModelConfig:
    return preset(
        "tiny",
        conditioning=conditioning,
        feature_dim=FEATURES,
        flow_size=FLOW_SIZE,
        video_frame_samples=SPF,
        # The flow model's onset cue at each of the 4 coarse steps of a 64-sample frame.
        **({"onset_hops": 4} if conditioning == FLOW else {}),
    )


def inputs(frames: int, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {
        "codes": torch.randint(0, 256, (B, TOP - 1 + frames * SPF), generator=g),
        "features": torch.rand(B, frames, FEATURES, generator=g),
        "flow": torch.randn(B, frames, 2, FLOW_SIZE, FLOW_SIZE, generator=g),
        "clip_features": torch.rand(B, frames, FEATURES, generator=g),
        "clip_frames": torch.full((B,), frames),
    }


def run(model: SampleRNN, x: dict, state=None) -> tuple[torch.Tensor, object]:
    return model(
        x["codes"],
        state,
        x["features"],
        x["flow"],
        None,
        x["clip_features"],
        x["clip_frames"],
        x.get("onsets"),
    )


@pytest.mark.parametrize("conditioning", CONDITIONINGS)
def test_shapes(conditioning: str) -> None:
    torch.manual_seed(0)
    model = SampleRNN(config(conditioning))
    logits, state = run(model, inputs(frames=2))
    assert logits.shape == (B, 2 * SPF, 256)
    assert state.top.shape == state.mid.shape == (1, B, 32)
    assert (state.encoder is not None) == (conditioning in (SEQ2SEQ, FLOW))
    assert (state.flow_history is not None) == (conditioning == FLOW)


@pytest.mark.parametrize("conditioning", CONDITIONINGS)
def test_chunked_forward_with_carried_state_equals_full_forward(conditioning: str) -> None:
    torch.manual_seed(0)
    model = SampleRNN(config(conditioning)).eval()
    frames = 4
    x = inputs(frames)
    with torch.no_grad():
        full, _ = run(model, x)
        pieces, state = [], None
        for k in range(frames):
            chunk = {
                "codes": x["codes"][:, k * SPF : (k + 1) * SPF + TOP - 1],
                "features": x["features"][:, k : k + 1],
                "flow": x["flow"][:, k : k + 1],
                "clip_features": x["clip_features"],
                "clip_frames": x["clip_frames"],
            }
            logits, state = run(model, chunk, state)
            pieces.append(logits)
    assert torch.allclose(torch.cat(pieces, dim=1), full, atol=1e-5)


def trained_gain(model: SampleRNN) -> SampleRNN:
    """The per-frame visual projection as training leaves it: open (it starts silent)."""
    if hasattr(model, "visual"):
        with torch.no_grad():
            model.visual.parametrizations.weight.original0.fill_(1.0)
    return model


@pytest.mark.parametrize("conditioning", [FRAME, FLOW])
def test_per_frame_vision_starts_silent_and_the_gain_learns(conditioning: str) -> None:
    torch.manual_seed(0)
    model = SampleRNN(config(conditioning))
    # The flow model's onset strength has a path of its own, which is not silent: hold it fixed.
    x, other = inputs(2, seed=0) | {"onsets": torch.ones(B, 2, HOPS_PER_WINDOW)}, inputs(2, seed=1)
    seen = dict(x, features=other["features"], flow=other["flow"])
    with torch.no_grad():
        assert torch.equal(run(model, x)[0], run(model, seen)[0])  # the per-frame path adds zero
    logits, _ = run(model, x)
    logits.logsumexp(-1).mean().backward()
    assert model.visual.parametrizations.weight.original0.grad.abs().sum() > 0


@pytest.mark.parametrize("conditioning", [FRAME, SEQ2SEQ, FLOW])
def test_the_video_changes_the_output_distribution(conditioning: str) -> None:
    torch.manual_seed(0)
    model = trained_gain(SampleRNN(config(conditioning))).eval()
    x, other = inputs(2, seed=0), inputs(2, seed=1)
    seen = dict(x, features=other["features"], flow=other["flow"], clip_features=other["clip_features"])
    with torch.no_grad():
        a, b = run(model, x)[0].log_softmax(-1), run(model, seen)[0].log_softmax(-1)
    # Far above float noise (~1e-7); the unconditional model below gives exactly equal outputs.
    assert (a - b).abs().max() > 1e-3


def test_flow_model_sees_the_flow_itself() -> None:
    torch.manual_seed(0)
    model = trained_gain(SampleRNN(config(FLOW))).eval()
    x = inputs(2)
    moved = dict(x, flow=x["flow"] * 3)
    with torch.no_grad():
        assert not torch.allclose(run(model, x)[0], run(model, moved)[0])


def test_unconditional_model_ignores_the_video() -> None:
    torch.manual_seed(0)
    model = SampleRNN(config(UNCONDITIONAL)).eval()
    x, other = inputs(2, seed=0), inputs(2, seed=1)
    with torch.no_grad():
        assert torch.equal(run(model, x)[0], run(model, dict(x, features=other["features"]))[0])


def test_reset_restarts_only_the_flagged_streams() -> None:
    torch.manual_seed(0)
    model = SampleRNN(config(SEQ2SEQ)).eval()
    x = inputs(1)
    with torch.no_grad():
        _, state = run(model, x)
        reset = torch.tensor([True, False, False])
        fresh = model.initial_state(B, x["clip_features"], x["clip_frames"])
        after = state.where(reset, fresh)
    assert torch.equal(after.top[:, 0], fresh.top[:, 0])
    assert torch.equal(after.top[:, 1:], state.top[:, 1:])


def test_rate_bookkeeping_is_checked() -> None:
    with pytest.raises(ValueError, match="whole number of coarse steps"):
        ModelConfig(top_frame=48, mid_frame=16, video_frame_samples=1024)
    with pytest.raises(ValueError, match="multiple of mid_frame"):
        ModelConfig(top_frame=8, mid_frame=3)
    paper = preset("paper")
    assert (paper.top_steps_per_video_frame, paper.mid_per_top, paper.fps) == (128, 4, 15.625)


def test_misaligned_features_are_an_error() -> None:
    model = SampleRNN(config(FRAME))
    x = inputs(2)
    with pytest.raises(ValueError, match="needs 2 whole video frames of features, got 1"):
        model(x["codes"], None, x["features"][:, :1])


def test_flow_model_follows_the_predicted_onset_profile_or_the_one_it_is_told() -> None:
    torch.manual_seed(0)
    model = SampleRNN(config(FLOW)).eval()
    x = inputs(2)
    hops = model.config.onset_hops  # 4: one per coarse step of the tests' 64-sample frames
    with torch.no_grad():
        predicted = model.flow_encoder.onset_profile(
            model.flow_encoder.per_frame(
                model.initial_state(B, x["clip_features"], x["clip_frames"]).flow_history, x["flow"]
            )[0]
        )
        assert predicted.shape == (B, 2, hops)
        plain = run(model, x)[0]
        # NaN = "use the prediction"; a told profile replaces it for that frame only. It is told at
        # the data's 8 hops per window, which the model sums pairwise to its 4.
        assert torch.equal(
            run(model, x | {"onsets": torch.full((B, 2, HOPS_PER_WINDOW), torch.nan)})[0], plain
        )
        same = torch.zeros(B, 2, HOPS_PER_WINDOW)
        same[..., ::2] = predicted
        assert torch.allclose(run(model, x | {"onsets": same})[0], plain, atol=1e-6)
        told = same.clone()
        told[0, 1, 5] += 3.0  # a strike in stream 0's second frame, hop 5 of 8 = the model's hop 2
        out = run(model, x | {"onsets": told})[0]
    assert torch.equal(out[1:], plain[1:])
    # Causal, and placed: nothing changes before the coarse step of the strike's hop.
    strike = SPF + 2 * (SPF // hops)
    assert torch.equal(out[0, :strike], plain[0, :strike])
    assert not torch.allclose(out[0, strike:], plain[0, strike:])


def test_the_middle_tier_cue_is_causal_placed_and_learns() -> None:
    torch.manual_seed(0)
    model = SampleRNN(config(FLOW).replace(onset_middle=True))
    with torch.no_grad():  # the coarsest tier deaf to the cue: what changes, the middle path changed
        model.onset_input.parametrizations.weight.original0.zero_()
    x = inputs(2) | {"onsets": torch.zeros(B, 2, HOPS_PER_WINDOW)}
    told = x["onsets"].clone()
    told[0, 1, 5] = 3.0  # a strike in stream 0's second frame, hop 5 of 8 = the model's hop 2
    with torch.no_grad():
        plain, out = run(model, x)[0], run(model, x | {"onsets": told})[0]
    strike = SPF + 2 * (SPF // model.config.onset_hops)
    assert torch.equal(out[0, :strike], plain[0, :strike]) and torch.equal(out[1:], plain[1:])
    assert not torch.allclose(out[0, strike:], plain[0, strike:])
    run(model, x | {"onsets": told})[0].logsumexp(-1).mean().backward()
    assert model.onset_middle_input.parametrizations.weight.original0.grad.abs().sum() > 0


def test_the_phase_cue_ramps_within_the_window_is_causal_and_learns() -> None:
    torch.manual_seed(0)
    model = SampleRNN(config(FLOW).replace(onset_phase=True))
    c = model.config
    assert c.conditioning_steps_per_video_frame == c.top_steps_per_video_frame
    strength = torch.tensor([[[2.0]]])  # one stream, one frame, one hop
    cue, _ = model._with_phase(strength, model.onset_input(strength.unsqueeze(-1)), None)
    ramp = cue - model.onset_input(strength.unsqueeze(-1))  # (1, 1, steps, dim): the phase term
    assert cue.shape[2] == c.top_steps_per_video_frame
    assert torch.allclose(ramp[0, 0, 1:] - ramp[0, 0, :-1], ramp[0, 0, 1] - ramp[0, 0, 0], atol=1e-5)
    assert ramp[0, 0, -1].abs().sum() > ramp[0, 0, 0].abs().sum()  # grows toward the window's end
    with torch.no_grad():  # only the phase path hears the cue: what changes, the phase changed
        model.onset_input.parametrizations.weight.original0.zero_()
    x = inputs(2) | {"onsets": torch.zeros(B, 2, HOPS_PER_WINDOW)}
    told = x["onsets"].clone()
    told[0, 1, 0] = 3.0  # a strike in stream 0's second frame
    with torch.no_grad():
        plain, out = run(model, x)[0], run(model, x | {"onsets": told})[0]
    assert torch.equal(out[0, :SPF], plain[0, :SPF]) and torch.equal(out[1:], plain[1:])
    assert not torch.allclose(out[0, SPF:], plain[0, SPF:])
    run(model, x | {"onsets": told})[0].logsumexp(-1).mean().backward()
    assert model.onset_phase_input.parametrizations.weight.original0.grad.abs().sum() > 0


def test_flow_models_from_before_onset_hops_keep_one_cue_per_frame() -> None:
    old = {k: v for k, v in vars(config(FLOW)).items() if k != "onset_hops"}
    rebuilt = ModelConfig.from_dict(old)
    assert rebuilt.onset_hops == 1 and rebuilt.conditioning_steps_per_video_frame == 1
    model = SampleRNN(rebuilt)
    assert model.flow_encoder.onset.out_features == 1  # the strength alone, as then
    x = inputs(2)
    logits, _ = run(model, x | {"onsets": torch.ones(B, 2, HOPS_PER_WINDOW)})
    assert logits.shape == (B, 2 * SPF, model.config.levels)
    frame = {k: v for k, v in vars(config(FRAME)).items() if k != "onset_hops"}
    assert ModelConfig.from_dict(frame) == config(FRAME)  # for the other models it means nothing


def test_configs_written_before_onset_conditioning_rebuild_the_model_they_came_from() -> None:
    old = {k: v for k, v in vars(config(FLOW)).items() if k != "onset_conditioning"}
    model = SampleRNN(ModelConfig.from_dict(old))
    assert not hasattr(model, "onset_input") and model.flow_encoder.onset is None
    assert ModelConfig.from_dict(vars(config(FLOW))).onset_conditioning
    # For the other models the flag means nothing: their old configs equal today's.
    frame = {k: v for k, v in vars(config(FRAME)).items() if k != "onset_conditioning"}
    assert ModelConfig.from_dict(frame) == config(FRAME)


def test_the_cpu_window_lookup_is_the_window_convolution() -> None:
    """The sample MLP's table lookup (CPU) and its convolution (GPU) are one function with one gradient."""
    torch.manual_seed(0)
    mlp = SampleRNN(config(UNCONDITIONAL)).mlp.double()
    codes = torch.randint(0, 256, (B, 40 + mlp.window.kernel_size[0] - 1))
    by_lookup = mlp._window_by_lookup(codes)
    by_convolution = mlp.window(mlp.embed(codes).transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(by_lookup, by_convolution, rtol=1e-10, atol=1e-12)
    weights = torch.randn_like(by_lookup)
    parameters = [mlp.embed.weight, *mlp.window.parameters()]
    lookup_grads = torch.autograd.grad((by_lookup * weights).sum(), parameters)
    conv_grads = torch.autograd.grad((by_convolution * weights).sum(), parameters)
    for a, b in zip(lookup_grads, conv_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
