"""Autoregressive generation: many clips at once, one sample at a time, from the same initial state
as training (learned, or the video encoder's) and with the same per-frame visual conditioning.

The categorical is sampled on the device by the Gumbel-max trick with a seeded generator: the same
seed gives the same audio, and no sample makes a round trip to the host. The carried state has a
fixed size, so memory grows with clip length only by the output buffer.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import soundfile
import torch
from torch.nn.utils import parametrize
from tqdm import tqdm

from generation.checkpoint import model_from_checkpoint
from generation.data import PreparedData
from generation.model import SampleRNN, State
from generation.quantize import dequantize, quantize
from generation.render import render_stimulus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SampleConfig:
    temperature: float = 1.0  # 0 = always the most likely level
    seed: int = 0
    batch_size: int = 16


def gumbel_noise(shape: tuple[int, ...], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Gumbel(0, 1) noise. Drawn for a whole top frame at once as (top_frame, B, levels), it consumes a
    CPU generator's stream in the same order as one (B, levels) draw per sample."""
    uniform = torch.rand(shape, generator=generator, device=device).clamp_(1e-10, 1.0)
    return -torch.log(-torch.log(uniform))


def draw_with_noise(logits: torch.Tensor, temperature: float, noise: torch.Tensor) -> torch.Tensor:
    """(B, levels) logits + (B, levels) Gumbel noise -> (B,) codes: argmax(logits / T + noise)."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    return (logits.float() / temperature + noise).argmax(dim=-1)


def draw(logits: torch.Tensor, temperature: float, generator: torch.Generator) -> torch.Tensor:
    """(B, levels) -> (B,) codes, by Gumbel-max, on the device."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    return draw_with_noise(logits, temperature, gumbel_noise(logits.shape, generator, logits.device))


class Generator:
    """Generates with a trained model's tiers, one coarse frame (top_frame samples) per step.

    On CUDA the whole top-frame step (top GRU, mid_per_top middle steps, top_frame MLP steps and draws:
    hundreds of small kernels) is captured once as a CUDA graph and replayed, which removes the
    per-kernel launch overhead that bounds an eager step. The random numbers are drawn outside the
    graph, one tensor per top frame, so a seeded run is reproducible and the graph holds no RNG state.
    """

    def __init__(self, model: SampleRNN, *, cuda_graphs: bool = True) -> None:
        self.model = model.eval()
        self.config = model.config
        self.cuda_graphs = cuda_graphs

    def _draw(self, logits: torch.Tensor, temperature: float, noise: torch.Tensor) -> torch.Tensor:
        return draw_with_noise(logits, temperature, noise)

    def _top_step(
        self,
        history: torch.Tensor,
        conditioning: torch.Tensor | None,
        top_h: torch.Tensor,
        mid_h: torch.Tensor,
        noise: torch.Tensor,
        temperature: float,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """history: (B, top_frame) the codes before this frame; noise: (top_frame, B, levels)
        -> this frame's top_frame new codes, and the two tiers' new hidden states."""
        c, m = self.config, self.model
        b = history.shape[0]
        x = 2.0 * dequantize(history, c.levels, c.quantization)
        top_out, top_h = m.top(x[:, None], None if conditioning is None else conditioning[:, None], top_h)
        codes = torch.cat([history, history.new_zeros(b, c.top_frame)], dim=1)  # (B, 2 * top_frame)
        for step in range(c.mid_per_top):
            first = c.top_frame + step * c.mid_frame  # position of this middle frame's first new sample
            previous = 2.0 * dequantize(codes[:, first - c.mid_frame : first], c.levels, c.quantization)
            mid_out, mid_h = m.mid(
                previous[:, None], top_out[:, step : step + 1], mid_h
            )  # (B, mid_frame, dim)
            for offset in range(c.mid_frame):
                t = first + offset
                logits = m.mlp.step(codes[:, t - c.mid_frame : t], mid_out[:, offset])
                codes[:, t] = self._draw(logits, temperature, noise[t - c.top_frame])
        return codes[:, c.top_frame :], top_h, mid_h

    @torch.no_grad()
    def generate(
        self,
        num_samples: int,
        *,
        batch_size: int,
        features: torch.Tensor | None = None,
        flow: torch.Tensor | None = None,
        clip_features: torch.Tensor | None = None,
        clip_frames: torch.Tensor | None = None,
        temperature: float = 1.0,
        seed: int = 0,
        progress: bool = False,
    ) -> torch.Tensor:
        """(B, num_samples) int64 codes. features/flow: (B, K, ...) for K = num_samples / video frame."""
        c = self.config
        if num_samples % c.video_frame_samples:
            raise ValueError(
                f"generate whole video frames: {num_samples} is not a multiple of {c.video_frame_samples}"
            )
        with parametrize.cached():  # weight-normed weights computed once, not at every sample
            return self._generate(
                num_samples,
                batch_size,
                features,
                flow,
                clip_features,
                clip_frames,
                temperature,
                seed,
                progress,
            )

    def _generate(
        self,
        num_samples: int,
        batch_size: int,
        features: torch.Tensor | None,
        flow: torch.Tensor | None,
        clip_features: torch.Tensor | None,
        clip_frames: torch.Tensor | None,
        temperature: float,
        seed: int,
        progress: bool,
    ) -> torch.Tensor:
        c = self.config
        device = self.model.top.h0.device
        generator = torch.Generator(device=device).manual_seed(seed)
        self._rng = generator  # the naive path draws with it directly
        state = self.model.initial_state(batch_size, clip_features, clip_frames)
        step = self._step_function(batch_size, device, temperature)
        noise_shape = (c.top_frame, batch_size, c.levels)
        silence = int(quantize(torch.zeros(1), c.levels, c.quantization))
        history = torch.full((batch_size, c.top_frame), silence, dtype=torch.long, device=device)
        out = torch.empty(batch_size, num_samples, dtype=torch.long, device=device)
        frames = num_samples // c.video_frame_samples
        bar = tqdm(
            total=num_samples / c.sample_rate,
            unit="audio s",
            disable=not progress,
            bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} audio s [{elapsed}, {postfix}]",
        )
        for frame in range(frames):
            conditioning = None
            if c.uses_features:
                window = slice(frame, frame + 1)
                cond, state = self.model.visual_conditioning(
                    features[:, window].to(device),
                    None if flow is None else flow[:, window].to(device),
                    state,
                )
                conditioning = None if cond is None else cond[:, 0]
            top_h, mid_h = state.top, state.mid
            for top_step in range(c.top_steps_per_video_frame):
                noise = gumbel_noise(noise_shape, generator, device) if temperature else None
                codes, top_h, mid_h = step(history, conditioning, top_h, mid_h, noise)
                start = frame * c.video_frame_samples + top_step * c.top_frame
                out[:, start : start + c.top_frame] = codes
                history = codes
            state = State(top_h, mid_h, state.encoder, state.flow_history)
            bar.update(min(c.video_frame_samples / c.sample_rate, bar.total - bar.n))  # no float overshoot
            elapsed = bar.format_dict["elapsed"]
            if elapsed:
                bar.set_postfix_str(f"{batch_size * bar.n / elapsed:.2f}x real time")
        bar.close()
        return out

    def _step_function(self, batch_size: int, device: torch.device, temperature: float):
        """The per-top-frame step: graph-captured on CUDA (when enabled), else eager."""
        zeros = torch.zeros((self.config.top_frame, batch_size, self.config.levels), device=device)

        def eager(history, conditioning, top_h, mid_h, noise):
            return self._top_step(history, conditioning, top_h, mid_h, noise, temperature)

        if device.type != "cuda" or not self.cuda_graphs or type(self)._draw is not Generator._draw:
            graphed = None  # the naive path's host round trip cannot be captured, by design
        else:
            graphed = GraphedTopStep(self, temperature)

        def step(history, conditioning, top_h, mid_h, noise):
            nonlocal graphed
            noise = zeros if noise is None else noise  # temperature 0: argmax, the noise is unused
            if graphed is not None:
                try:
                    return graphed(history, conditioning, top_h, mid_h, noise)
                except RuntimeError as error:  # a capture failure must not lose a sampling run
                    logger.warning("CUDA graph capture failed (%s); sampling eagerly, much slower", error)
                    graphed = None
            return eager(history, conditioning, top_h, mid_h, noise)

        return step


class GraphedTopStep:
    """One top-frame step captured as a CUDA graph over static buffers, on its first call (when the
    shapes, and whether there is visual conditioning, are known).

    Each call copies its inputs into the static buffers, replays the graph and returns the static
    outputs; callers copy what they keep (the generation loop writes codes into its output buffer
    and feeds the hidden states straight back in, which the copy into the input buffers makes safe).
    """

    def __init__(self, generator: Generator, temperature: float) -> None:
        self.generator = generator
        self.temperature = temperature
        self.graph: torch.cuda.CUDAGraph | None = None

    def _capture(self, inputs: list[torch.Tensor | None]) -> None:
        self.inputs = [None if x is None else x.clone() for x in inputs]

        def run():
            return self.generator._top_step(*self.inputs, self.temperature)

        # Warm up on a side stream (cuDNN/cuBLAS choose their kernels, the weight-norm cache fills),
        # as CUDA graph capture requires, then capture.
        device = self.inputs[0].device
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(2):
                run()
        torch.cuda.current_stream(device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self.outputs = run()
        self.graph = graph

    def __call__(self, history, conditioning, top_h, mid_h, noise):
        inputs = [history, conditioning, top_h, mid_h, noise]
        if self.graph is None:
            self._capture(inputs)
        for static, value in zip(self.inputs, inputs, strict=True):
            if static is not None:
                static.copy_(value)
        self.graph.replay()
        return self.outputs


class NaiveGenerator(Generator):
    """The old reference implementations' way, for benchmarks: each sample drawn with multinomial and
    brought to the host as Python numbers before the next step (a device round trip per sample)."""

    def _draw(self, logits: torch.Tensor, temperature: float, noise: torch.Tensor) -> torch.Tensor:
        probabilities = (logits.float() / max(temperature, 1e-6)).softmax(dim=-1)
        chosen = torch.multinomial(probabilities, 1, generator=self._rng)[:, 0].tolist()
        return torch.tensor(chosen, device=logits.device)


def reference_generate(
    model: SampleRNN,
    num_samples: int,
    *,
    batch_size: int,
    features=None,
    flow=None,
    clip_features=None,
    clip_frames=None,
    temperature: float = 1.0,
    seed: int = 0,
) -> torch.Tensor:
    """The simple, slow definition: for every sample, run the whole teacher-forced forward pass over
    everything generated so far and draw from the logits at that position. Tests check the fast path
    against it."""
    c = model.config
    generator = torch.Generator().manual_seed(seed)
    silence = int(quantize(torch.zeros(1), c.levels, c.quantization))
    codes = torch.full((batch_size, c.top_frame + num_samples), silence, dtype=torch.long)
    with torch.no_grad():
        for t in range(num_samples):
            logits, _ = model(codes[:, :-1], None, features, flow, None, clip_features, clip_frames)
            codes[:, c.top_frame + t] = draw(logits[:, t], temperature, generator)
    return codes[:, c.top_frame :]


def real_time_factor(samples: int, batch: int, seconds: float, sample_rate: int) -> float:
    """Audio seconds generated per wall second, over the whole batch."""
    return batch * samples / sample_rate / seconds if seconds > 0 else math.inf


def sample_split(
    checkpoint: Path,
    data_root: Path,
    out: Path,
    *,
    split: str = "test",
    category: str | None = None,
    config: SampleConfig | None = None,
    device: str | None = None,
    progress: bool = True,
) -> dict:
    """A soundtrack for every clip of ``split``: ``out/<category>/<clip_id>.wav`` and ``.mp4`` (the
    clip's video with it, rendered as a stimulus), plus ``out/samples.json``. Clips whose wav exists
    are skipped, so an interrupted run resumes."""
    config = config or SampleConfig()
    device_ = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model, payload = model_from_checkpoint(checkpoint, device_)
    data = PreparedData(data_root)
    category = category or payload["category"]
    records = data.clips(split=split, category=category)
    if not records:
        raise ValueError(f"no {split} clips of category {category!r} in {data_root}")
    folder = out / category
    folder.mkdir(parents=True, exist_ok=True)
    todo = [r for r in records if not (folder / f"{r.clip_id}.wav").exists()]
    generator = Generator(model)
    spf = data.config.samples_per_frame
    for first in range(0, len(todo), config.batch_size):
        group = todo[first : first + config.batch_size]
        shards = [data.load(r) for r in group]
        frames = max(s.record.num_frames for s in shards)
        features = torch.zeros(len(group), frames, data.config.feature_dim)
        flow = torch.zeros(len(group), frames, 2, data.config.flow_size, data.config.flow_size)
        for slot, shard in enumerate(shards):
            features[slot, : shard.record.num_frames] = shard.features.float()
            flow[slot, : shard.record.num_frames] = shard.flow.float()
        lengths = torch.tensor([s.record.num_frames for s in shards])
        codes = generator.generate(
            frames * spf,
            batch_size=len(group),
            features=features,
            flow=flow,
            clip_features=features.to(device_),
            clip_frames=lengths,
            temperature=config.temperature,
            seed=config.seed + first,
            progress=progress,
        )
        audio = dequantize(codes.cpu(), model.config.levels, model.config.quantization).numpy()
        for slot, record in enumerate(group):
            clip_audio = audio[slot, : record.valid_samples]
            render_stimulus(
                record.source,
                clip_audio,
                folder / f"{record.clip_id}.mp4",
                soundtrack_rate=data.config.sample_rate,
                start=record.start,
                duration=record.num_frames / data.config.fps,
            )
            # The wav last: its presence marks the clip as done.
            temporary = folder / f".{record.clip_id}.tmp.wav"
            soundfile.write(
                temporary, clip_audio, data.config.sample_rate, subtype="PCM_16"
            )  # lossless for 8-bit codes
            os.replace(temporary, folder / f"{record.clip_id}.wav")
    summary = {
        "checkpoint": str(checkpoint),
        "category": category,
        "model": model.config.conditioning,
        "split": split,
        "temperature": config.temperature,
        "seed": config.seed,
        "sample_rate": data.config.sample_rate,
        "clips": [
            {
                "clip_id": r.clip_id,
                "category": category,
                "wav": f"{category}/{r.clip_id}.wav",
                "mp4": f"{category}/{r.clip_id}.mp4",
                "source": r.source,
                "start": r.start,
                "duration": r.num_frames / data.config.fps,
            }
            for r in records
        ],
    }
    _write_listing(out / "samples.json", summary)
    return summary


def _write_listing(path: Path, summary: dict) -> None:
    """One listing per output folder, for every category sampled into it: this category's entries
    replace its earlier ones, other categories' stay. A folder holds one model's soundtracks."""
    clips = summary["clips"]
    if path.exists():
        earlier = json.loads(path.read_text())
        if earlier.get("model") != summary["model"]:
            raise ValueError(
                f"{path} lists {earlier.get('model')!r} soundtracks, not {summary['model']!r}: "
                "give each model its own --out folder"
            )
        kept = [
            c
            for c in earlier.get("clips", [])
            if c.get("category", earlier.get("category")) != summary["category"]
        ]
        for c in kept:
            c.setdefault("category", earlier.get("category"))
        clips = kept + clips
    merged = {k: v for k, v in summary.items() if k not in ("category", "checkpoint")} | {"clips": clips}
    merged["categories"] = sorted({c["category"] for c in clips})
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(merged, indent=1))
    os.replace(temporary, path)
