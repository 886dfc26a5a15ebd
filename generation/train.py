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
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn import functional
from tqdm import tqdm

from generation.checkpoint import load_checkpoint, save_checkpoint
from generation.config import CONDITIONINGS, FLOW, ModelConfig
from generation.data import Batch, PreparedData, TBPTTBatches, whole_clip_batches
from generation.model import SampleRNN, State
from generation.train_flow import load_or_pretrain_flow_encoder

logger = logging.getLogger(__name__)

LN2 = math.log(2.0)


@dataclass(frozen=True)
class TrainConfig:
    category: str
    preset: str = "small"
    steps: int = 2000
    batch_size: int = 32
    chunk_frames: int = 1  # truncated-BPTT chunk, in video frames (1 = 1024 samples)
    lr: float = 1e-3
    grad_clip: float = 1.0
    val_every: int = 250
    log_every: int = 25
    seed: int = 0
    compile: bool = False


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    best_val_bits: float
    last_val_bits: float
    wall_seconds: float


def bits_per_sample(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, int]:
    """Summed NLL in bits over the masked samples, and how many there were."""
    nll = functional.cross_entropy(logits.float().transpose(1, 2), targets, reduction="none")  # (B, C)
    return (nll * mask).sum() / LN2, int(mask.sum())


def step_inputs(batch: Batch, device: torch.device) -> dict:
    return {
        "features": batch.features.to(device, non_blocking=True),
        "flow": batch.flow.to(device, non_blocking=True),
        "reset": batch.reset.to(device),
        "clip_features": None if batch.clip_features is None else batch.clip_features.to(device),
        "clip_frames": batch.clip_frames,
    }


@torch.no_grad()
def evaluate_bits(
    model: SampleRNN, data: PreparedData, records: list, *, chunk_frames: int, device: torch.device
) -> float:
    """Teacher-forced NLL of whole clips in bits per sample (8.0 = uniform over 256 levels)."""
    model.eval()
    total, count = 0.0, 0
    for group in whole_clip_batches(
        data,
        records,
        chunk_frames=chunk_frames,
        lookback=model.config.top_frame,
        levels=model.config.levels,
        scheme=model.config.quantization,
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
    # bf16 on CUDA; CPU training stays in fp32 so results are exact and comparable.
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()


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


def model_config_for(data: PreparedData, base: ModelConfig, conditioning: str) -> ModelConfig:
    """The preset adapted to the prepared data's rates and shapes."""
    return base.replace(
        conditioning=conditioning,
        sample_rate=data.config.sample_rate,
        video_frame_samples=data.config.samples_per_frame,
        feature_dim=data.config.feature_dim,
        flow_size=data.config.flow_size,
    )


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
                data, runs, model_config, given=flow_encoder, device=device, progress=progress and rank == 0
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
    step, best, last_val, state = 0, math.inf, math.nan, None
    last_path = run_dir / "last.pt"
    if last_path.exists():
        saved = load_checkpoint(last_path, map_location=device_)
        if saved["model_config"] != dataclasses.asdict(model_config):
            raise ValueError(
                f"{last_path} holds a model with another config; use another --runs folder "
                "or delete it to start over"
            )
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        step, best, last_val = saved["step"], saved["best_val_bits"], saved["last_val_bits"]
        if len(saved["data_state"]) != world:
            raise ValueError(
                f"{last_path} was written by {len(saved['data_state'])} processes, this run has "
                f"{world}: resume with the same number of processes"
            )
        batches.load_state_dict(saved["data_state"][rank])
        state = State.from_dict({k: v.to(device_) for k, v in saved["stream_state"][rank].items()})
        torch.set_rng_state(saved["rng"])
        logger.info("resuming %s from step %d", run_dir, step)

    trained = model
    if config.compile:
        trained = torch.compile(model)
    if world > 1:
        trained = torch.nn.parallel.DistributedDataParallel(
            trained,
            device_ids=[device_.index] if device_.type == "cuda" else None,
            find_unused_parameters=True,
        )
    metrics = MetricsLog(run_dir) if rank == 0 else None
    started = time.perf_counter()
    window_start, window_samples, window_bits, window_count = time.perf_counter(), 0, 0.0, 0
    bar = tqdm(
        total=config.steps,
        initial=step,
        desc=f"{config.category}/{model_config.conditioning}",
        unit="step",
        disable=not progress or rank != 0,
    )
    model.train()
    while step < config.steps:
        batch = next(batches)
        codes = batch.audio.to(device_, non_blocking=True)
        mask = batch.mask.to(device_)
        with _autocast(device_):
            logits, state = trained(codes[:, :-1], state, **step_inputs(batch, device_))
        bits, count = bits_per_sample(logits, codes[:, model_config.top_frame :], mask)
        loss = bits / max(count, 1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        state = state.detach()  # gradients stop at chunk boundaries; the state carries on
        step += 1
        window_samples += count * world
        window_bits, window_count = window_bits + float(bits.detach()), window_count + count
        if step % config.log_every == 0 or step == config.steps:
            elapsed = time.perf_counter() - window_start
            rate = window_samples / max(elapsed, 1e-9)
            train_bits = window_bits / max(window_count, 1)
            bar.set_postfix(bits=f"{train_bits:.3f}", samples_s=f"{rate:,.0f}")
            if metrics:
                metrics.write(step, "train", train_bits, rate, time.perf_counter() - started)
            window_start, window_samples, window_bits, window_count = time.perf_counter(), 0, 0.0, 0
        bar.update()
        if step % config.val_every == 0 or step == config.steps:
            data_states = _gather(batches.state_dict(), world)
            stream_states = _gather({k: v.cpu() for k, v in state.to_dict().items()}, world)
            if rank == 0:
                last_val = evaluate_bits(
                    model, data, val_records or records, chunk_frames=config.chunk_frames, device=device_
                )
                metrics.write(step, "val", last_val, 0.0, time.perf_counter() - started)
                payload = {
                    "model_config": dataclasses.asdict(model_config),
                    "train_config": dataclasses.asdict(config),
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "step": step,
                    "best_val_bits": min(best, last_val),
                    "last_val_bits": last_val,
                    "data_state": data_states,
                    "rng": torch.get_rng_state(),
                    "stream_state": stream_states,
                    "category": config.category,
                    "val_clips": len(val_records),
                }
                if last_val < best:
                    best = last_val
                    save_checkpoint(run_dir / "best.pt", payload)
                save_checkpoint(last_path, payload)
                bar.write(f"step {step}: validation {last_val:.3f} bits/sample (best {best:.3f})")
            if world > 1:
                dist.barrier()
    bar.close()
    if metrics:
        metrics.close()
    return TrainResult(run_dir, step, best, last_val, time.perf_counter() - started)


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
