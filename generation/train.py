"""Training one SampleRNN per category with truncated BPTT; exact resume; DDP under torchrun.

`python -m generation train --data DATA --category drum --model flow --preset small` trains into
`RUNS/<category>/<model>/`: `last.pt` and `best.pt` (self-describing checkpoints), `metrics.csv`, and
TensorBoard event files when tensorboard is installed. Rerunning the same command resumes from
`last.pt` and continues exactly as if it had never stopped.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from tqdm import tqdm

from generation import warm_start
from generation.checkpoint import load_checkpoint, save_checkpoint
from generation.config import CONDITIONINGS, FLOW, PRESETS, UNCONDITIONAL, ModelConfig
from generation.data import Batch, TBPTTBatches, whole_clip_batches
from generation.diagnose import diagnose
from generation.model import SampleRNN, State
from generation.onset_strength import floored
from generation.options import option
from generation.precision import (
    AUTO,
    BF16,
    FP32,
    TRAINING_PRECISIONS,
    autocast,
    check_training_precision,
    training_precision,
)
from generation.prepared import PreparedData
from generation.scoring import bits_per_sample, sample_bits, step_inputs
from generation.train_flow import load_or_pretrain_flow_encoder

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    category: str = option(dataclasses.MISSING, "a category of the data, or all")
    preset: str = option("small", f"model size, one of {', '.join(sorted(PRESETS))}")
    steps: int = option(2000, "optimiser steps")
    batch_size: int = option(32, "parallel truncated-BPTT streams")
    chunk_frames: int = option(1, "truncated-BPTT chunk in video frames (1 = 1024 samples)")
    lr: float = option(
        3e-4,
        "Adam learning rate (at 1e-3 the fireworks models' frame tiers died: README, generation diagnose)",
    )
    lr_decay_steps: int = option(
        0,
        "the learning rate falls linearly to 0 over the last this many of --steps (0 = constant): at a "
        "constant rate validation NLL swings by 0.01-0.03 bits from one validation to the next, more than "
        "what vision adds, so models are compared only once it has settled",
    )
    warm_start: int = option(
        0,
        "conditioned models begin as the same category's unconditional run at this step (its sound tiers, "
        "their Adam moments, data position and RNG: RUNS/<category>/unconditional/step-K.pt, which the "
        "unconditional run given the same option writes) and train on to --steps, so both see the same "
        "clips for the same steps and their NLL gap is what vision adds (generation.warm_start); 0 = "
        "every model from scratch",
    )
    grad_clip: float = option(1.0, "gradient norm clip")
    val_every: int = option(250, "steps between validation and checkpoints")
    log_every: int = option(25, "steps between training-loss log lines")
    seed: int = option(0, "seed of the initialisation and the clip order")
    compile: bool = option(False, "torch.compile the model")
    precision: str = option(
        AUTO,
        "training arithmetic: auto = bf16 autocast where the device runs bf16 natively (CUDA; CPUs with "
        "AVX512-BF16 or AMX), fp32 elsewhere; fp32 = always fp32. Validation is fp32 on a CPU either way",
        choices=TRAINING_PRECISIONS,
    )
    onset_teacher: float = option(
        0.5,
        "flow-based model: share of streams per step told the audio's own onset strength instead of the "
        "one predicted from the video (0 = always the prediction)",
    )
    onset_weight: float = option(
        0.0,
        "flow-based model: in the streams told the audio's own onset strength, a window of strength s "
        "weighs 1 + this x s in the loss (0 = unweighted)",
    )
    onset_dropout: float = option(
        0.0,
        "flow-based model: share of streams per step given a learned 'no cue' input in place of the "
        "onset cue, so that --onset-guidance at sampling steers away from the model told nothing "
        "(classifier-free guidance's unconditional branch); 0 = off",
    )
    flow_encoder_steps: int = option(
        2000, "flow-based model: steps of the flow encoder's pre-training when the runs folder has none"
    )

    def __post_init__(self) -> None:
        check_training_precision(self.precision)
        if self.onset_weight < 0:
            raise ValueError(f"onset_weight must be >= 0, got {self.onset_weight}")
        if not 0.0 <= self.onset_teacher <= 1.0:
            raise ValueError(f"onset_teacher must be in [0, 1], got {self.onset_teacher}")
        if not 0.0 <= self.onset_dropout < 1.0:
            raise ValueError(f"onset_dropout must be in [0, 1), got {self.onset_dropout}")
        if not 0 <= self.lr_decay_steps <= self.steps:
            raise ValueError(f"lr_decay_steps must be in [0, steps={self.steps}], got {self.lr_decay_steps}")
        if not 0 <= self.warm_start < self.steps:
            raise ValueError(f"warm_start must be in [0, steps={self.steps}), got {self.warm_start}")

    def learning_rate(self, step: int) -> float:
        """The rate of optimiser step ``step`` (0-based). A function of the step alone, not a scheduler
        with state of its own, so that a resumed run (or one given more --steps) continues it exactly."""
        left = self.steps - step
        if self.lr_decay_steps == 0 or left >= self.lr_decay_steps:
            return self.lr
        return self.lr * max(left, 0) / self.lr_decay_steps


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    best_val_bits: float
    last_val_bits: float
    wall_seconds: float


def with_cue_dropout(model_config: ModelConfig, config: TrainConfig) -> ModelConfig:
    """The model trained: a flow-based model trained with cue dropout has the "no cue" input."""
    if not model_config.uses_onsets:
        return model_config
    if model_config.onset_null and config.onset_dropout == 0:
        raise ValueError("a model with a 'no cue' input (onset_null) needs onset_dropout > 0 to learn it")
    return model_config.replace(onset_null=config.onset_dropout > 0)


def told_onsets(
    onsets: torch.Tensor, told: torch.Tensor, onset_weight: float, samples_per_frame: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The flow-based model's teacher forcing: from each window's own onset profile (B, K, hops) and
    the streams to tell it (B,), the model's onset input (NaN = use the prediction) and each sample's
    loss weight (B, K * samples_per_frame): 1 + onset_weight * s in the windows of told streams, s the
    window's onset strength, else 1.

    The weight is a function of what the model was told, not of the sound it predicts, so what training
    converges to is unchanged; it gives the few windows with an event a say in the gradient.
    """
    given = torch.where(told[:, None, None], onsets, torch.nan)
    strength = onsets.sum(dim=2)
    per_window = 1.0 + onset_weight * torch.where(told[:, None], strength, 0.0)
    return given, per_window.repeat_interleave(samples_per_frame, dim=1)


@torch.no_grad()
def evaluate_bits(
    model: SampleRNN,
    data: PreparedData,
    records: list,
    *,
    chunk_frames: int,
    device: torch.device,
    video_records: list | None = None,
) -> float:
    """Teacher-forced NLL of whole clips in bits per sample (8.0 = uniform over 256 levels); with
    ``video_records``, each clip's sound is scored under that clip's video instead of its own."""
    model.eval()
    total, count = 0.0, 0
    for group in whole_clip_batches(
        data,
        records,
        chunk_frames=chunk_frames,
        lookback=model.config.top_frame,
        levels=model.config.levels,
        scheme=model.config.quantization,
        video_records=video_records,
    ):
        state = None
        for batch in group:
            codes = batch.audio.to(device)
            with _autocast(device):
                logits, state = model(codes[:, :-1], state, **step_inputs(batch, device))
            bits, n = bits_per_sample(logits, codes[:, model.config.top_frame :], batch.mask.to(device))
            total, count = total + float(bits), count + n
    model.train()
    return total / max(count, 1)


def _autocast(device: torch.device):
    # Scoring: bf16 on CUDA; fp32 on a CPU, so a validation NLL does not depend on which CPU ran it.
    return autocast(device, BF16 if device.type == "cuda" else FP32)


class MetricsLog:
    """metrics.csv always; TensorBoard event files too when tensorboard is installed."""

    FIELDS = ("step", "split", "bits_per_sample", "samples_per_second", "wall_seconds")

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "metrics.csv"
        new = not self.path.exists()
        self.handle = self.path.open("a", newline="")
        self.writer = csv.DictWriter(self.handle, self.FIELDS)
        if new:
            self.writer.writeheader()
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            self.tensorboard = None
        else:
            self.tensorboard = SummaryWriter(str(run_dir / "tensorboard"))

    def write(self, step: int, split: str, bits: float, samples_per_second: float, wall: float) -> None:
        self.writer.writerow(
            {
                "step": step,
                "split": split,
                "bits_per_sample": f"{bits:.5f}",
                "samples_per_second": f"{samples_per_second:.1f}",
                "wall_seconds": f"{wall:.1f}",
            }
        )
        self.handle.flush()
        if self.tensorboard is not None:
            self.tensorboard.add_scalar(f"{split}/bits_per_sample", bits, step)
            if split == "train":
                self.tensorboard.add_scalar("train/samples_per_second", samples_per_second, step)

    def close(self) -> None:
        self.handle.close()
        if self.tensorboard is not None:
            self.tensorboard.close()


def _distributed() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) when run plainly."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


# Options only a flow-based model reads (its flow encoder and its onset cue).
_FLOW_ONLY = ("flow_stabilise", "onset_hops", "onset_middle", "onset_phase", "onset_floor")


def model_config_for(data: PreparedData, base: ModelConfig, conditioning: str) -> ModelConfig:
    """The preset adapted to the prepared data's rates and shapes. The flow-only options stay at their
    defaults for the other models, so that `train --model all --onset-floor 1.0` trains (or resumes)
    the same frame, seq2seq and unconditional models as without it."""
    flow_only = {} if conditioning == FLOW else {name: getattr(ModelConfig(), name) for name in _FLOW_ONLY}
    return base.replace(
        conditioning=conditioning,
        sample_rate=data.config.sample_rate,
        video_frame_samples=data.config.samples_per_frame,
        feature_dim=data.config.feature_dim,
        flow_size=data.config.flow_size,
        **flow_only,
    )


@dataclass
class _Run:
    """What one training run holds between steps."""

    config: TrainConfig
    model_config: ModelConfig
    data: PreparedData
    records: list
    val_records: list
    run_dir: Path
    device: torch.device
    rank: int
    world: int
    model: SampleRNN
    optimizer: torch.optim.Optimizer
    batches: TBPTTBatches
    step: int = 0
    best: float = math.inf
    last_val: float = math.nan
    state: State | None = None  # carried from chunk to chunk

    @property
    def last_path(self) -> Path:
        return self.run_dir / "last.pt"

    @property
    def precision(self) -> str:
        return training_precision(self.device, self.config.precision)


def train(
    data_root: Path,
    runs: Path,
    model_config: ModelConfig,
    config: TrainConfig,
    *,
    device: str | None = None,
    flow_encoder: Path | None = None,
    progress: bool = True,
) -> TrainResult:
    model_config = with_cue_dropout(model_config, config)
    run = _setup(data_root, runs, model_config, config, device, flow_encoder, progress)
    _resume(run)
    trained = _wrapped(run)
    if run.rank == 0:
        logger.info(
            "training %s/%s on %s in %s",
            config.category,
            model_config.conditioning,
            run.device,
            run.precision,
        )
    metrics = MetricsLog(run.run_dir) if run.rank == 0 else None
    started = time.perf_counter()
    window_start, window_samples, window_bits, window_count = time.perf_counter(), 0, 0.0, 0
    bar = tqdm(
        total=config.steps,
        initial=run.step,
        desc=f"{config.category}/{model_config.conditioning}",
        unit="step",
        disable=not progress or run.rank != 0,
    )
    run.model.train()
    while run.step < config.steps:
        bits, count = _step(run, trained, next(run.batches))
        window_samples += count * run.world
        window_bits, window_count = window_bits + bits, window_count + count
        if run.step % config.log_every == 0 or run.step == config.steps:
            elapsed = time.perf_counter() - window_start
            rate = window_samples / max(elapsed, 1e-9)
            train_bits = window_bits / max(window_count, 1)
            bar.set_postfix(bits=f"{train_bits:.3f}", samples_s=f"{rate:,.0f}")
            if metrics:
                metrics.write(run.step, "train", train_bits, rate, time.perf_counter() - started)
            window_start, window_samples, window_bits, window_count = time.perf_counter(), 0, 0.0, 0
        bar.update()
        if run.step % config.val_every == 0 or run.step in (config.steps, config.warm_start):
            _validate_and_save(run, metrics, time.perf_counter() - started, bar)
    bar.close()
    if metrics:
        metrics.close()
    return TrainResult(run.run_dir, run.step, run.best, run.last_val, time.perf_counter() - started)


def _setup(
    data_root: Path,
    runs: Path,
    model_config: ModelConfig,
    config: TrainConfig,
    device: str | None,
    flow_encoder: Path | None,
    progress: bool,
) -> _Run:
    """The data, the model (with its pre-trained flow encoder), the optimiser and the batch stream."""
    rank, world, local_rank = _distributed()
    if device is None:
        device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    device_ = torch.device(device)
    if device_.type == "cuda":
        torch.cuda.set_device(device_)
    data = PreparedData(data_root)
    records = data.clips(split="train", category=config.category)
    val_records = data.clips(split="val", category=config.category)
    if not records:
        raise ValueError(
            f"no training clips of category {config.category!r} in {data_root}; "
            f"categories there: {data.categories}"
        )
    run_dir = runs / config.category / model_config.conditioning
    run_dir.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(config.seed)
    model = SampleRNN(model_config).to(device_)
    if model_config.conditioning == FLOW:
        if rank != 0:
            dist.barrier()  # rank 0 pre-trains the flow encoder if there is none yet; the others wait
        model.load_flow_encoder(
            load_or_pretrain_flow_encoder(
                data,
                runs,
                model_config,
                steps=config.flow_encoder_steps,
                given=flow_encoder,
                device=device,
                progress=progress and rank == 0,
            )
        )
        if rank == 0 and world > 1:
            dist.barrier()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr)
    batches = TBPTTBatches(
        data,
        records,
        batch_size=config.batch_size,
        chunk_frames=config.chunk_frames,
        lookback=model_config.top_frame,
        levels=model_config.levels,
        scheme=model_config.quantization,
        seed=config.seed,
        rank=rank,
        world_size=world,
    )
    return _Run(
        config,
        model_config,
        data,
        records,
        val_records,
        run_dir,
        device_,
        rank,
        world,
        model,
        optimizer,
        batches,
    )


def _resume(run: _Run) -> None:
    """Continue from last.pt exactly: weights, optimiser, step, data position, carried state, RNG; a
    conditioned run with --warm-start and no last.pt yet begins from the unconditional run instead."""
    if not run.last_path.exists():
        if run.config.warm_start and run.model_config.conditioning != UNCONDITIONAL:
            _warm_start(run)
        return
    saved = load_checkpoint(run.last_path, map_location=run.device)
    if ModelConfig.from_dict(saved["model_config"]) != run.model_config:
        raise ValueError(
            f"{run.last_path} holds a model with another config; use another --runs folder "
            "or delete it to start over"
        )
    run.model.load_state_dict(saved["model"])
    run.optimizer.load_state_dict(saved["optimizer"])
    run.step, run.best, run.last_val = saved["step"], saved["best_val_bits"], saved["last_val_bits"]
    if len(saved["data_state"]) != run.world:
        raise ValueError(
            f"{run.last_path} was written by {len(saved['data_state'])} processes, this run has "
            f"{run.world}: resume with the same number of processes"
        )
    run.batches.load_state_dict(saved["data_state"][run.rank])
    run.state = State.from_dict({k: v.to(run.device) for k, v in saved["stream_state"][run.rank].items()})
    torch.set_rng_state(saved["rng"])
    logger.info("resuming %s from step %d", run.run_dir, run.step)


def _warm_start(run: _Run) -> None:
    saved = warm_start.load_snapshot(
        run.run_dir.parent.parent, run.config.category, run.config.warm_start, run.device
    )
    if len(saved["data_state"]) != run.world:
        raise ValueError(
            f"the unconditional run was trained by {len(saved['data_state'])} processes, this one has "
            f"{run.world}: warm-start with the same number of processes"
        )
    run.state = warm_start.apply(run.model, run.optimizer, saved, run.device, run.rank)
    run.step = saved["step"]
    run.batches.load_state_dict(saved["data_state"][run.rank])
    torch.set_rng_state(saved["rng"])


def _wrapped(run: _Run) -> torch.nn.Module:
    """The module the steps call: compiled and/or data-parallel as configured."""
    trained: torch.nn.Module = run.model
    if run.config.compile:
        trained = torch.compile(run.model)
    if run.world > 1:
        trained = torch.nn.parallel.DistributedDataParallel(
            trained,
            device_ids=[run.device.index] if run.device.type == "cuda" else None,
            find_unused_parameters=True,
        )
    return trained


def _step(run: _Run, trained: torch.nn.Module, batch: Batch) -> tuple[float, int]:
    """One optimiser step on one truncated-BPTT chunk; the summed bits and the samples they cover."""
    codes = batch.audio.to(run.device, non_blocking=True)
    mask = batch.mask.to(run.device)
    inputs = step_inputs(batch, run.device)
    weight = mask.float()
    if run.model_config.uses_onsets:
        told = torch.rand(batch.onsets.shape[0]) < run.config.onset_teacher
        onsets, per_sample = told_onsets(
            floored(batch.onsets, run.model_config.onset_floor),
            told,
            run.config.onset_weight,
            run.model_config.video_frame_samples,
        )
        inputs["onsets"] = onsets.to(run.device)
        if run.model_config.onset_null:
            inputs["uncued"] = (torch.rand(batch.onsets.shape[0]) < run.config.onset_dropout).to(run.device)
        weight = weight * per_sample.to(run.device)
    with autocast(run.device, run.precision):
        logits, state = trained(codes[:, :-1], run.state, **inputs)
    nll = sample_bits(logits, codes[:, run.model_config.top_frame :])
    bits, count = (nll * mask).sum(), int(mask.sum())
    loss = (nll * weight).sum() / weight.sum().clamp_min(1.0)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.config.grad_clip)
    for group in run.optimizer.param_groups:
        group["lr"] = run.config.learning_rate(run.step)
    run.optimizer.step()
    run.state = state.detach()  # gradients stop at chunk boundaries; the state carries on
    run.step += 1
    return float(bits.detach()), count


def _validate_and_save(run: _Run, metrics: MetricsLog | None, wall: float, bar: tqdm) -> None:
    """Validation NLL on rank 0, then last.pt (and best.pt when it improved) with every rank's data
    position and carried state, so a resumed run continues each rank exactly."""
    data_states = _gather(run.batches.state_dict(), run.world)
    stream_states = _gather({k: v.cpu() for k, v in run.state.to_dict().items()}, run.world)
    if run.rank == 0:
        run.last_val = evaluate_bits(
            run.model,
            run.data,
            run.val_records or run.records,
            chunk_frames=run.config.chunk_frames,
            device=run.device,
        )
        metrics.write(run.step, "val", run.last_val, 0.0, wall)
        _warn_of_dead_tiers(run)
        payload = {
            "model_config": dataclasses.asdict(run.model_config),
            "train_config": dataclasses.asdict(run.config),
            "model": run.model.state_dict(),
            "optimizer": run.optimizer.state_dict(),
            "step": run.step,
            "best_val_bits": min(run.best, run.last_val),
            "last_val_bits": run.last_val,
            "data_state": data_states,
            "rng": torch.get_rng_state(),
            "stream_state": stream_states,
            "category": run.config.category,
            "val_clips": len(run.val_records),
        }
        if run.last_val < run.best:
            run.best = run.last_val
            save_checkpoint(run.run_dir / "best.pt", payload)
        if run.step == run.config.warm_start and run.model_config.conditioning == UNCONDITIONAL:
            save_checkpoint(
                warm_start.snapshot_path(run.run_dir.parent.parent, run.config.category, run.step), payload
            )
        save_checkpoint(run.last_path, payload)
        bar.write(f"step {run.step}: validation {run.last_val:.3f} bits/sample (best {run.best:.3f})")
    if run.world > 1:
        dist.barrier()


def _warn_of_dead_tiers(run: _Run) -> None:
    """A frame tier that stopped learning (saturated; `generation.diagnose`) cuts the video off from the
    sound while validation NLL still falls — the fireworks models at lr 1e-3 — so say it at once."""
    records = (run.val_records or run.records)[:2]
    tiers = diagnose(
        run.model, run.data, records, chunk_frames=run.config.chunk_frames, device=run.device
    ).tiers
    run.model.train()
    for tier in tiers:
        if not tier.healthy:
            logger.warning(
                "step %d: the %s tier is dead (%.0f %% of its units saturated, gradient %.1e of the sample "
                "MLP's): nothing entering above it reaches the sound. Train with a lower --lr (3e-4 kept "
                "the fireworks models alive where 1e-3 killed them); `python -m generation diagnose`",
                run.step,
                tier.tier,
                100 * tier.saturated,
                tier.relative_gradient,
            )


def _gather(value: dict, world: int) -> list[dict]:
    """Every rank's ``value`` (data position, carried state), so a resumed run continues each rank."""
    if world == 1:
        return [value]
    gathered: list[dict | None] = [None] * world
    dist.all_gather_object(gathered, value)
    return gathered  # type: ignore[return-value]


def conditionings_for(model: str) -> list[str]:
    if model == "all":
        return list(CONDITIONINGS)
    if model not in CONDITIONINGS:
        raise ValueError(f"--model {model!r}: choose from {', '.join(CONDITIONINGS)} or all")
    return [model]
