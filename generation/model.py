"""SampleRNN (Mehri et al., ICLR 2017), 3 tiers, and the paper's three ways of conditioning it on video.

Tiers, coarsest first: a GRU over frames of `top_frame` samples, a GRU over frames of `mid_frame`
samples, and a sample-level MLP over overlapping windows of the last `mid_frame` samples. Each frame
tier's output is upsampled to the tier below by r separate linear projections. The coarsest tier is
where vision enters:

- frame-to-frame: each video frame's fc6 feature, projected, is added to the coarsest tier's input at
  every coarse step the frame spans;
- sequence-to-sequence: a GRU encoder reads the clip's fc6 features; its final state, projected,
  replaces the coarsest tier's learned initial state;
- flow-based: sequence-to-sequence, plus, per frame, the encoder's hidden state concatenated with a
  frozen temporal ConvNet's flow feature, projected and added like frame-to-frame; and that ConvNet's
  prediction of the window's onset strength (how sharply the sound rises, the task it was pre-trained
  on) in each of its 8-ms hops, through a projection of its own, to the coarse steps of that hop — so
  the cue says where in the window a strike begins, not only that one does. Per-sample likelihood
  gives that timing cue almost no gradient — a strike's first samples are a handful in 60 000 — so
  training shows the model the audio's own onset profile in place of the prediction for a share of its
  streams (as FastSpeech 2 trains on ground-truth energy and pitch and is driven by predicted ones):
  it learns what the cue means.
  Sampling and every likelihood it is scored by use the prediction from the video alone.

Input codes have `top_frame - 1` samples of context before the C predicted ones; a chunk of C
samples spans C / video_frame_samples video frames, whose features and flow come with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from generation.config import FLOW, FRAME, ModelConfig
from generation.cpu_gru import run_gru
from generation.flow_encoder import FlowEncoder, FlowEncoderConfig, trunk_weights
from generation.onset_strength import pool_profile
from generation.quantize import dequantize


def wn_linear(in_features: int, out_features: int, bias: bool = True) -> nn.Linear:
    return weight_norm(nn.Linear(in_features, out_features, bias=bias))


def silent_at_start(layer: nn.Linear) -> nn.Linear:
    """A weight-normed projection whose output starts at zero (gain and bias zero): vision enters a
    model that begins as the unconditional one and grows its say only as far as it helps. With the
    default gain the video's features — nearly constant within a clip and larger than the coarsest
    tier's sample input — drove that tier's GRU into saturation in the first steps, where its gradient
    is zero: the tier stopped learning and the model ignored the video (own vs. shuffled video NLL
    equal to 1e-7 bits)."""
    with torch.no_grad():
        layer.parametrizations.weight.original0.zero_()
        if layer.bias is not None:
            layer.bias.zero_()
    return layer


def cue_projection(dim: int) -> nn.Linear:
    """The onset cue's projection: open gain (a scalar cannot saturate a tier the way 4 096 features
    can), but no bias. For one input the default bias is uniform in ±1 per unit: a constant vector of
    that size on every coarse step that tells nothing and pushes the coarsest GRU toward saturation.
    (Zeroing it alone did not keep the fireworks flow model's tiers alive at lr 1e-3 — 54 % of the
    coarsest tier's units beyond ±0.99 after 1 000 steps; the learning rate did, `generation.diagnose`.)"""
    layer = wn_linear(1, dim)
    with torch.no_grad():
        layer.bias.zero_()
    return layer


@dataclass
class State:
    """What a stream carries from one chunk to the next. Tensors are batch-second for the GRUs."""

    top: torch.Tensor  # (layers, B, dim)
    mid: torch.Tensor  # (layers, B, dim)
    encoder: torch.Tensor | None = None  # (1, B, encoder_dim): the causal pass of the video encoder
    flow_history: torch.Tensor | None = None  # (B, stack-1, 2, S, S): the flows before the chunk

    def _items(self) -> dict[str, torch.Tensor | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def detach(self) -> State:
        return State(**{k: None if v is None else v.detach() for k, v in self._items().items()})

    def where(self, reset: torch.Tensor, fresh: State) -> State:
        """Streams flagged in ``reset`` (B,) take ``fresh``'s state; the others keep theirs."""
        out = {}
        for name, value in self._items().items():
            if value is None:
                out[name] = None
                continue
            batch_dim = 0 if name == "flow_history" else 1
            shape = [1] * value.dim()
            shape[batch_dim] = -1
            out[name] = torch.where(reset.view(shape), getattr(fresh, name), value)
        return State(**out)

    def to_dict(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self._items().items() if v is not None}

    @classmethod
    def from_dict(cls, values: dict[str, torch.Tensor]) -> State:
        return cls(**values)


class FrameTier(nn.Module):
    """A GRU over frames of ``frame`` samples, conditioned by the tier above, upsampled ``ratio`` times."""

    def __init__(self, frame: int, ratio: int, dim: int, layers: int) -> None:
        super().__init__()
        self.frame, self.ratio, self.dim = frame, ratio, dim
        self.input = wn_linear(frame, dim)
        self.rnn = nn.GRU(dim, dim, layers, batch_first=True)
        self.h0 = nn.Parameter(torch.zeros(layers, 1, dim))  # learned; used only at a clip's start
        self.upsample = wn_linear(dim, dim * ratio)  # r separate projections, one per output step

    def forward(
        self, samples: torch.Tensor, conditioning: torch.Tensor | None, hidden: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """samples: (B, T, frame) in [-2, 2]; conditioning: (B, T, dim) -> (B, T·ratio, dim), hidden."""
        x = self.input(samples)
        if conditioning is not None:
            x = x + conditioning
        out, hidden = run_gru(self.rnn, x, hidden)  # (B, T, dim)
        b, t, _ = out.shape
        return self.upsample(out).view(b, t * self.ratio, self.dim), hidden


class SampleMLP(nn.Module):
    """Predicts each sample from a learned embedding of the previous ``window`` samples and the tier above."""

    def __init__(self, window: int, dim: int, layers: int, embed_dim: int, levels: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(levels, embed_dim)
        # A convolution over the embedded samples = one linear layer over each overlapping window.
        self.window = weight_norm(nn.Conv1d(embed_dim, dim, kernel_size=window, bias=False))
        self.hidden = nn.ModuleList(wn_linear(dim, dim) for _ in range(max(0, layers - 2)))
        self.output = wn_linear(dim, levels)

    def forward(self, codes: torch.Tensor, conditioning: torch.Tensor) -> torch.Tensor:
        """codes: (B, C + window - 1) int64; conditioning: (B, C, dim) -> logits (B, C, levels)."""
        if codes.device.type == "cpu":
            x = self._window_by_lookup(codes)
        else:
            x = self.window(self.embed(codes).transpose(1, 2)).transpose(1, 2)  # (B, C, dim)
        return self._head(x + conditioning)

    def _window_by_lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """The window convolution without its matrix product, for the CPU: a sample enters it only
        through its code's embedding, so the convolution's tap k applied to every code's embedding is a
        (levels, dim) table, and each output is the sum of `window` rows of those tables. The tables
        cost levels·embed_dim·dim multiply-adds per tap and step; the product they replace costs
        window·embed_dim·dim per sample — a fifth of the `small` preset's training arithmetic. Same
        parameters, same function; the GPU keeps the convolution (unchanged numerics there)."""
        weight = self.window.weight  # (dim, embed_dim, window)
        taps = weight.shape[-1]
        tables = torch.einsum("le,dek->kld", self.embed.weight, weight).reshape(-1, weight.shape[0])
        offsets = torch.arange(taps, device=codes.device) * self.embed.num_embeddings
        windows = codes.unfold(1, taps, 1) + offsets  # (B, C, window): tap k reads table k
        b, c, _ = windows.shape
        summed = nn.functional.embedding_bag(windows.reshape(b * c, taps), tables, mode="sum")
        return summed.view(b, c, -1)  # (B, C, dim)

    def step(self, window: torch.Tensor, conditioning: torch.Tensor) -> torch.Tensor:
        """One sample during generation: window (B, window) int64, conditioning (B, dim) -> (B, levels)."""
        # The convolution at a single position, as a matrix product: far cheaper than conv1d per sample.
        weight = self.window.weight  # (dim, embed_dim, window)
        x = (
            self.embed(window).transpose(1, 2).reshape(window.shape[0], -1)
            @ weight.reshape(weight.shape[0], -1).T
        )
        return self._head(x + conditioning)

    def _head(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(x)
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.output(x)


class VideoEncoder(nn.Module):
    """A GRU over per-frame fc6 features: its final state summarises the clip (seq2seq), its per-frame
    states describe the video so far (flow-based)."""

    def __init__(self, feature_dim: int, dim: int) -> None:
        super().__init__()
        self.input = wn_linear(feature_dim, dim)
        self.rnn = nn.GRU(dim, dim, 1, batch_first=True)

    def forward(
        self, features: torch.Tensor, hidden: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.rnn(torch.relu(self.input(features)), hidden)

    def summary(self, clip_features: torch.Tensor, clip_frames: torch.Tensor) -> torch.Tensor:
        """(B, T_max, F) padded clips, (B,) lengths -> (B, dim): the state after each clip's last frame."""
        outputs, _ = self(clip_features)  # (B, T_max, dim)
        last = (clip_frames - 1).clamp(min=0).to(outputs.device)
        return outputs[torch.arange(outputs.shape[0], device=outputs.device), last]


class SampleRNN(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = c = config
        self.top = FrameTier(c.top_frame, c.mid_per_top, c.dim, c.rnn_layers)
        self.mid = FrameTier(c.mid_frame, c.mid_frame, c.dim, c.rnn_layers)
        self.mlp = SampleMLP(c.mid_frame, c.dim, c.mlp_layers, c.embed_dim, c.levels)
        if c.conditioning == FRAME:
            self.visual = silent_at_start(wn_linear(c.feature_dim, c.dim))
        if c.uses_encoder:
            self.encoder = VideoEncoder(c.feature_dim, c.encoder_dim)
            self.encoder_to_h0 = wn_linear(c.encoder_dim, c.rnn_layers * c.dim)
        if c.conditioning == FLOW:
            self.flow_encoder = FlowEncoder(
                c.flow_encoder_config,
                onset_hops=c.onset_hops if c.onset_conditioning else 0,
            )
            self.flow_encoder.requires_grad_(False)
            self.visual = silent_at_start(wn_linear(c.encoder_dim + c.flow_feature_dim, c.dim))
        if c.uses_onsets:
            # Open from the start, unlike the visual projections: one scalar cannot saturate the tier the
            # way 4 096 features did, and started silent its gain had moved to 0.01 after 1 000 steps
            # (0.49 open) — the model never learned to listen to it.
            self.onset_input = cue_projection(c.dim)
        if c.uses_onsets and c.onset_middle:
            # The same cue straight into the middle tier: there the GRU that has to turn "a strike now"
            # into a jump in amplitude steps every mid_frame samples, and nothing coarse stands between.
            self.onset_middle_input = cue_projection(c.dim)
        if c.uses_onsets and c.onset_phase:
            # The cue's strength times the coarse step's place in its hop (0 to 1): with the cue's own
            # term, a per-unit ramp across the window whose slope the cue sets.
            self.onset_phase_input = cue_projection(c.dim)
        if c.uses_onsets and c.onset_null:
            # What a stream told nothing about onsets sees in the cue's place; starts as a cue of 0.
            self.onset_null = nn.Parameter(torch.zeros(c.dim))

    def train(self, mode: bool = True) -> SampleRNN:
        super().train(mode)
        if self.config.conditioning == FLOW:
            self.flow_encoder.eval()  # pre-trained and frozen
        return self

    def load_flow_encoder(self, exported: dict) -> None:
        """Weights from `FlowEncoder.export()` (pre-trained here or elsewhere), checked against the config;
        with onset conditioning, also its onset head (exported["onset_head"], `generation.train_flow`)."""
        expected = self.flow_encoder.config
        given = FlowEncoderConfig(**exported["config"])
        if given != expected:
            raise ValueError(f"flow encoder weights are for {given}, this model needs {expected}")
        weights = trunk_weights(exported["state_dict"])
        if self.config.uses_onsets:
            hops = int(exported.get("onset_hops", 1))
            if "onset_head" not in exported or hops != self.config.onset_hops:
                raise ValueError(
                    f"these flow encoder weights have no onset head of {self.config.onset_hops} hops "
                    "per window: fit one with generation.train_flow.fit_onset_head (training does it "
                    "for --flow-encoder weights)"
                )
            weights |= exported["onset_head"]
        self.flow_encoder.load_state_dict(weights)

    def initial_state(
        self,
        batch_size: int,
        clip_features: torch.Tensor | None = None,
        clip_frames: torch.Tensor | None = None,
    ) -> State:
        """The state at a clip's start: learned h0, or (seq2seq, flow) the video encoder's projection."""
        c = self.config
        device = self.top.h0.device
        top = self.top.h0.expand(-1, batch_size, -1).contiguous()
        mid = self.mid.h0.expand(-1, batch_size, -1).contiguous()
        encoder = flow_history = None
        if c.uses_encoder:
            if clip_features is None or clip_frames is None:
                raise ValueError(f"the {c.conditioning} model needs the whole clip's features at its start")
            summary = self.encoder.summary(clip_features.to(device), clip_frames)  # (B, encoder_dim)
            top = torch.tanh(self.encoder_to_h0(summary)).view(batch_size, c.rnn_layers, c.dim)
            top = top.transpose(0, 1).contiguous()
            encoder = torch.zeros(1, batch_size, c.encoder_dim, device=device)
        if c.uses_flow:
            flow_history = torch.zeros(
                batch_size, c.flow_stack - 1, 2, c.flow_size, c.flow_size, device=device
            )
        return State(top, mid, encoder, flow_history)

    def visual_conditioning(
        self,
        features: torch.Tensor | None,
        flow: torch.Tensor | None,
        state: State,
        onsets: torch.Tensor | None = None,
        uncued: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor | None, State]:
        """(B, K·n, dim) for the coarsest tier, n = conditioning_steps_per_video_frame vectors per video
        frame (one, or one per onset hop); and the state with the encoder advanced. With onset_middle
        each vector is (2·dim): the coarsest tier's, then the middle tier's (`_split_conditioning`).

        onsets (B, K, HOPS_PER_WINDOW): the audio's own onset profile, told to the model in place of
        the flow encoder's prediction where it is not NaN (training only; see the module docstring).
        uncued (B,) bool: streams given the learned "no cue" input instead (models with onset_null:
        training's cue dropout, and the branch onset guidance steers away from).
        """
        c = self.config
        if c.conditioning == FRAME:
            return self.visual(features), state
        if c.conditioning == FLOW:
            encoded, encoder = self.encoder(features, state.encoder)  # (B, K, encoder_dim)
            with torch.no_grad():
                flow_features, history = self.flow_encoder.per_frame(state.flow_history, flow)
            joined = self.visual(torch.cat([encoded, flow_features], dim=-1))
            if c.uses_onsets:
                with torch.no_grad():
                    strength = self.flow_encoder.onset_profile(flow_features)  # (B, K, hops)
                if onsets is not None:
                    told = pool_profile(onsets, c.onset_hops)
                    strength = torch.where(told.isnan(), strength, told)
                cue = self.onset_input(strength.unsqueeze(-1))  # (B, K, hops, dim)
                middle = self.onset_middle_input(strength.unsqueeze(-1)) if c.onset_middle else None
                if c.onset_phase:
                    cue, middle = self._with_phase(strength, cue, middle)
                if uncued is not None:
                    if not c.onset_null:
                        raise ValueError("this model has no 'no cue' input (trained without --onset-dropout)")
                    flags = uncued.view(-1, 1, 1, 1)
                    cue = torch.where(flags, self.onset_null.to(cue.dtype), cue)
                    if middle is not None:  # told nothing, the middle tier hears nothing
                        middle = torch.where(flags, torch.zeros_like(middle), middle)
                joined = joined.unsqueeze(2) + cue
                if middle is not None:  # the top tier's vector, then the middle tier's
                    joined = torch.cat([joined, middle], dim=-1)
                joined = joined.flatten(1, 2)
            return joined, State(state.top, state.mid, encoder, history)
        return None, state

    def forward(
        self,
        codes: torch.Tensor,
        state: State | None,
        features: torch.Tensor | None = None,
        flow: torch.Tensor | None = None,
        reset: torch.Tensor | None = None,
        clip_features: torch.Tensor | None = None,
        clip_frames: torch.Tensor | None = None,
        onsets: torch.Tensor | None = None,
        uncued: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, State]:
        """One truncated-BPTT chunk.

        codes: (B, top_frame - 1 + C) int64, the C predicted samples preceded by their context;
        features: (B, K, F) and flow: (B, K, 2, S, S) for the chunk's K = C / video_frame_samples frames;
        reset: (B,) streams starting a clip here, which begin from the initial state (computed from
        clip_features (B, T_max, F) and clip_frames (B,) for the encoder models); state None = all reset;
        onsets (B, K): the audio's own onset strength per frame, NaN where the prediction is to be used
        (training's teacher forcing of the flow-based model; None = the prediction everywhere);
        uncued (B,): streams given the "no cue" input (training's cue dropout; `visual_conditioning`).
        Returns logits (B, C, levels) predicting codes[:, top_frame:] and the state after the chunk.
        Resetting inside forward keeps every parameter in the graph that DistributedDataParallel sees.
        """
        c = self.config
        b = codes.shape[0]
        if state is None or (reset is not None and bool(reset.any())):
            fresh = self.initial_state(b, clip_features, clip_frames)
            state = fresh if state is None else state.where(reset.to(codes.device), fresh)
        chunk = codes.shape[1] - c.top_frame + 1
        if chunk <= 0 or chunk % c.top_frame:
            raise ValueError(
                f"chunk of {chunk} samples is not a positive multiple of top_frame {c.top_frame}"
            )
        x = self._frame_input(codes)

        conditioning, state = self.visual_conditioning(features, flow, state, onsets, uncued)
        if conditioning is not None:
            frames = chunk // c.video_frame_samples
            per_frame = c.conditioning_steps_per_video_frame
            if chunk % c.video_frame_samples or conditioning.shape[1] != frames * per_frame:
                raise ValueError(
                    f"a chunk of {chunk} samples needs {chunk / c.video_frame_samples:g} whole "
                    f"video frames of features, got {conditioning.shape[1] / per_frame:g}"
                )
            conditioning = conditioning.repeat_interleave(c.top_steps_per_video_frame // per_frame, dim=1)

        conditioning, middle = self._split_conditioning(conditioning)
        top_in = x[:, :chunk].reshape(b, chunk // c.top_frame, c.top_frame)
        top_out, top_h = self.top(top_in, conditioning, state.top)  # (B, C / mid_frame, dim)
        if middle is not None:
            top_out = top_out + middle.repeat_interleave(c.mid_per_top, dim=1)
        start = c.top_frame - c.mid_frame
        mid_in = x[:, start : start + chunk].reshape(b, chunk // c.mid_frame, c.mid_frame)
        mid_out, mid_h = self.mid(mid_in, top_out, state.mid)  # (B, C, dim)
        logits = self.mlp(codes[:, start:], mid_out)  # (B, C, levels)
        return logits, State(top_h, mid_h, state.encoder, state.flow_history)

    def _with_phase(
        self, strength: torch.Tensor, cue: torch.Tensor, middle: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The cue per hop (B, K, hops, dim) -> per coarse step (B, K, top steps per frame, dim), each
        step's with the strength times its place in the hop added (`ModelConfig.onset_phase`)."""
        steps = self.config.top_steps_per_video_frame // strength.shape[2]  # coarse steps per hop
        place = (torch.arange(steps, device=strength.device, dtype=strength.dtype) + 0.5) / steps
        ramp = (strength.unsqueeze(-1) * place).flatten(2)  # (B, K, hops · steps)
        cue = cue.repeat_interleave(steps, dim=2) + self.onset_phase_input(ramp.unsqueeze(-1))
        return cue, None if middle is None else middle.repeat_interleave(steps, dim=2)

    def _split_conditioning(
        self, conditioning: torch.Tensor | None
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(..., dim) or, with onset_middle, (..., 2·dim) -> the coarsest tier's part, the middle's."""
        if conditioning is None or not (self.config.uses_onsets and self.config.onset_middle):
            return conditioning, None
        return conditioning.split(self.config.dim, dim=-1)

    def _frame_input(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes as the frame tiers see them: samples in [-2, 2]."""
        return 2.0 * dequantize(codes, self.config.levels, self.config.quantization)

    def generate_top_frame(
        self,
        history: torch.Tensor,
        conditioning: torch.Tensor | None,
        top_h: torch.Tensor,
        mid_h: torch.Tensor,
        draw: Callable[[torch.Tensor, int], torch.Tensor],
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One coarse frame of generation: the top tier once, the middle tier mid_per_top times, the
        sample MLP top_frame times — what `forward` computes for that frame, one sample at a time.

        history: (B, top_frame) the codes before this frame; conditioning: (B, dim) or None (with
        onset_middle (B, 2·dim): the coarsest tier's vector, then the middle tier's);
        draw(logits (B, levels), t) -> (B,) codes for the frame's t-th sample (the sampler's noise).
        Returns this frame's (B, top_frame) codes and the two tiers' new hidden states.
        """
        c = self.config
        b = history.shape[0]
        conditioning, middle = self._split_conditioning(conditioning)
        top_out, top_h = self.top(
            self._frame_input(history)[:, None],
            None if conditioning is None else conditioning[:, None],
            top_h,
        )  # (B, mid_per_top, dim)
        if middle is not None:
            top_out = top_out + middle[:, None]
        codes = torch.cat([history, history.new_zeros(b, c.top_frame)], dim=1)  # (B, 2 * top_frame)
        for step in range(c.mid_per_top):
            first = c.top_frame + step * c.mid_frame  # position of this middle frame's first new sample
            previous = self._frame_input(codes[:, first - c.mid_frame : first])
            mid_out, mid_h = self.mid(
                previous[:, None], top_out[:, step : step + 1], mid_h
            )  # (B, mid_frame, dim)
            for offset in range(c.mid_frame):
                t = first + offset
                logits = self.mlp.step(codes[:, t - c.mid_frame : t], mid_out[:, offset])
                codes[:, t] = draw(logits, t - c.top_frame)
        return codes[:, c.top_frame :], top_h, mid_h
