"""Autoregressive generation: many clips at once, one sample at a time, from the same initial state
as training (learned, or the video encoder's) and with the same per-frame visual conditioning.

The categorical is sampled on the device by the Gumbel-max trick with a seeded generator: the same
seed gives the same audio, and no sample makes a round trip to the host. The carried state has a
fixed size, so memory grows with clip length only by the output buffer.

Onset guidance (flow-based model, `SampleConfig.onset_guidance`): classifier-free guidance (Ho and
Salimans 2022; AudioGen and MusicGen guide their autoregressive decoders the same way) between the
video's onset cue and the same cue with its events taken out (`without_events`) — or, for a model
trained with cue dropout (`train --onset-dropout`), its learned "no cue" input. Each clip runs
twice, as two rows of the batch that share every drawn sample; a sample is drawn from
l_without + w · (l_with − l_without): w = 1 is plain sampling, w > 1 makes the model strike more
surely where the video shows a strike, and changes nothing where it shows none.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import soundfile
import torch
from torch.nn.utils import parametrize
from tqdm import tqdm

from generation.atomic import atomic_path
from generation.checkpoint import model_from_checkpoint
from generation.listing import ListedClip, SampleListing
from generation.model import SampleRNN, State
from generation.onset_strength import EVENT_STRENGTH, HOPS_PER_WINDOW
from generation.options import option
from generation.prepared import PreparedData
from generation.quantize import dequantize, quantize
from generation.weights import sha256_file

logger = logging.getLogger(__name__)


AUDIO_FORMATS = ("wav", "flac")


@dataclass(frozen=True)
class SampleConfig:
    temperature: float = option(1.0, "sampling temperature; 0 = always the most likely level")
    onset_guidance: float = option(
        1.0,
        "flow-based model: guidance scale toward the video's onset cue against the same cue without "
        "its events, or against the learned 'no cue' input of a model trained with --onset-dropout "
        "(1 = off; 2 raised drum onset F1 from 0.35 to 0.64; sampling takes twice as long)",
    )
    seed: int = option(0, "seed of the sampling noise: the same seed gives the same audio")
    batch_size: int = option(16, "clips generated together")
    audio_format: str = option(
        "wav", "soundtrack files: wav, or flac (lossless, a fifth of the size)", choices=AUDIO_FORMATS
    )

    def __post_init__(self) -> None:
        if self.onset_guidance < 1.0:
            raise ValueError(f"onset_guidance must be >= 1 (1 = off), got {self.onset_guidance}")
        if self.audio_format not in AUDIO_FORMATS:
            raise ValueError(f"audio_format must be one of {AUDIO_FORMATS}, got {self.audio_format!r}")


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


def without_events(strength: torch.Tensor) -> torch.Tensor:
    """An onset cue with its events taken out: every window at most EVENT_STRENGTH, the level of a
    window in which nothing starts. What onset guidance steers away from."""
    return strength.clamp(max=EVENT_STRENGTH)


def guided(logits: torch.Tensor, scale: float) -> torch.Tensor:
    """(2B, levels) logits of B streams with the cue then B without its events -> (B, levels)."""
    with_cue, without = logits.chunk(2)
    return without + scale * (with_cue - without)


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

    graphable = True  # whether the step can be captured as a CUDA graph (no host round trip)

    def __init__(self, model: SampleRNN, *, cuda_graphs: bool = True) -> None:
        self.model = model.eval()
        self.config = model.config
        self.cuda_graphs = cuda_graphs
        self.guidance = 1.0  # onset guidance of the generation in progress (set by generate)

    def _draw_function(self, temperature: float, noise: torch.Tensor):
        """How the model's step draws sample t of a top frame: Gumbel-max with this frame's noise;
        under onset guidance from the guided logits of each pair of rows, the code given to both."""
        if self.guidance == 1.0:
            return lambda logits, t: draw_with_noise(logits, temperature, noise[t])
        scale = self.guidance
        return lambda logits, t: draw_with_noise(guided(logits, scale), temperature, noise[t]).repeat(2)

    def _top_step(
        self,
        history: torch.Tensor,
        conditioning: torch.Tensor | None,
        top_h: torch.Tensor,
        mid_h: torch.Tensor,
        noise: torch.Tensor,
        temperature: float,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """noise: (top_frame, B, levels); the model's one-frame step with this sampler's draw."""
        return self.model.generate_top_frame(
            history, conditioning, top_h, mid_h, self._draw_function(temperature, noise)
        )

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
        onset_guidance: float = 1.0,
    ) -> torch.Tensor:
        """(B, num_samples) int64 codes. features/flow: (B, K, ...) for K = num_samples / video frame.
        onset_guidance: see the module docstring (flow-based models with onset conditioning only)."""
        c = self.config
        if num_samples % c.video_frame_samples:
            raise ValueError(
                f"generate whole video frames: {num_samples} is not a multiple of {c.video_frame_samples}"
            )
        if onset_guidance != 1.0 and not c.uses_onsets:
            raise ValueError(
                f"onset guidance needs a flow-based model with an onset cue, not {c.conditioning}"
            )
        self.guidance = onset_guidance
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
        self._rng = generator  # a sampler that draws on the host (the benchmarks' naive one) uses it
        state = self.model.initial_state(batch_size, clip_features, clip_frames)
        rows = batch_size if self.guidance == 1.0 else 2 * batch_size  # guided: each clip twice
        if rows != batch_size:
            state = State(
                state.top.repeat(1, 2, 1), state.mid.repeat(1, 2, 1), state.encoder, state.flow_history
            )
        step = self._step_function(rows, device, temperature)
        noise_shape = (c.top_frame, batch_size, c.levels)
        silence = int(quantize(torch.zeros(1), c.levels, c.quantization))
        history = torch.full((rows, c.top_frame), silence, dtype=torch.long, device=device)
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
                frame_features = features[:, window].to(device)
                frame_flow = None if flow is None else flow[:, window].to(device)
                cond, advanced = self.model.visual_conditioning(frame_features, frame_flow, state)
                if rows != batch_size:
                    cond = torch.cat([cond, self._guidance_baseline(frame_features, frame_flow, state)])
                state = advanced
            top_h, mid_h = state.top, state.mid
            steps_per_vector = c.top_steps_per_video_frame // c.conditioning_steps_per_video_frame
            for top_step in range(c.top_steps_per_video_frame):
                if c.uses_features:
                    conditioning = None if cond is None else cond[:, top_step // steps_per_vector]
                noise = gumbel_noise(noise_shape, generator, device) if temperature else None
                codes, top_h, mid_h = step(history, conditioning, top_h, mid_h, noise)
                start = frame * c.video_frame_samples + top_step * c.top_frame
                out[:, start : start + c.top_frame] = codes[:batch_size]
                history = codes
            state = State(top_h, mid_h, state.encoder, state.flow_history)
            bar.update(min(c.video_frame_samples / c.sample_rate, bar.total - bar.n))  # no float overshoot
            elapsed = bar.format_dict["elapsed"]
            if elapsed:
                bar.set_postfix_str(f"{batch_size * bar.n / elapsed:.2f}x real time")
        bar.close()
        return out

    def _guidance_baseline(self, features: torch.Tensor, flow: torch.Tensor, state: State) -> torch.Tensor:
        """The conditioning of one video frame with the onset cue the video predicts, its events taken
        out (`without_events`), told to the model as training tells it its own; for a model trained
        with cue dropout, its learned "no cue" input instead. State as before it."""
        if self.config.onset_null:
            uncued = torch.ones(features.shape[0], dtype=torch.bool, device=features.device)
            cond, _ = self.model.visual_conditioning(features, flow, state, uncued=uncued)
            return cond
        flow_features, _ = self.model.flow_encoder.per_frame(state.flow_history, flow)
        strength = without_events(self.model.flow_encoder.onset_profile(flow_features))
        told = torch.zeros(*strength.shape[:2], HOPS_PER_WINDOW, device=strength.device)
        per_hop = HOPS_PER_WINDOW // strength.shape[2]
        told[..., ::per_hop] = strength  # the model sums each group of hops back to its own
        cond, _ = self.model.visual_conditioning(features, flow, state, onsets=told)
        return cond

    def _step_function(self, batch_size: int, device: torch.device, temperature: float):
        """The per-top-frame step: graph-captured on CUDA (when enabled), else eager."""
        zeros = torch.zeros((self.config.top_frame, batch_size, self.config.levels), device=device)

        def eager(history, conditioning, top_h, mid_h, noise):
            return self._top_step(history, conditioning, top_h, mid_h, noise, temperature)

        if device.type != "cuda" or not self.cuda_graphs or not self.graphable:
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
) -> SampleListing:
    """A soundtrack for every clip of ``split``: ``out/<category>/<clip_id>.wav`` (or .flac), listed in
    ``out/samples.json`` (generation.listing). Clips whose file exists are skipped, so an interrupted
    run resumes. Stimuli (the clip's video with a soundtrack) are the study's business:
    `manage.py import_stimuli --samples OUT` renders them."""
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
    suffix = f".{config.audio_format}"
    todo = [r for r in records if not (folder / f"{r.clip_id}{suffix}").exists()]
    generator = Generator(model)
    spf = data.config.samples_per_frame
    for first in range(0, len(todo), config.batch_size):
        group = todo[first : first + config.batch_size]
        shards = [data.load(r) for r in group]
        frames = max(s.record.num_frames for s in shards)
        features = torch.zeros(len(group), frames, data.config.feature_dim)
        clip_features = torch.zeros_like(features)
        flow = torch.zeros(len(group), frames, 2, data.config.flow_size, data.config.flow_size)
        for slot, shard in enumerate(shards):
            features[slot, : shard.record.num_frames] = shard.window_features.float()
            clip_features[slot, : shard.record.num_frames] = shard.features.float()
            flow[slot, : shard.record.num_frames] = shard.window_flow.float()
        lengths = torch.tensor([s.record.num_frames for s in shards])
        codes = generator.generate(
            frames * spf,
            batch_size=len(group),
            features=features,
            flow=flow,
            clip_features=clip_features.to(device_),
            clip_frames=lengths,
            temperature=config.temperature,
            seed=config.seed + first,
            progress=progress,
            onset_guidance=config.onset_guidance if model.config.uses_onsets else 1.0,
        )
        audio = dequantize(codes.cpu(), model.config.levels, model.config.quantization).numpy()
        for slot, record in enumerate(group):
            with atomic_path(folder / f"{record.clip_id}{suffix}", suffix=suffix) as temporary:
                # 16-bit PCM is lossless for 8-bit codes; soundfile takes the format from the suffix.
                soundfile.write(
                    temporary, audio[slot, : record.valid_samples], data.config.sample_rate, subtype="PCM_16"
                )
    listing = SampleListing(
        model=model.config.conditioning,
        split=split,
        temperature=config.temperature,
        onset_guidance=config.onset_guidance if model.config.uses_onsets else 1.0,
        seed=config.seed,
        sample_rate=data.config.sample_rate,
        checkpoints={category: sha256_file(Path(checkpoint))},
        clips=[
            ListedClip(
                clip_id=r.clip_id,
                category=category,
                wav=f"{category}/{r.clip_id}{suffix}",
                source=r.source,
                start=r.start,
                duration=r.num_frames / data.config.fps,
            )
            for r in records
        ],
    )
    listing.merge_into(out)
    return listing
