"""`manage.py demo` (what `make demo` runs): the whole mission on the embedded default, each step
skipped when its output exists, so a second run starts the server within a minute.

demo dataset → prepare → checkpoints (shipped in demo/checkpoints, or trained with TRAIN=1) →
soundtracks of the test clips for the three models and the unconditional baseline → stimuli →
the demo study (every task type), opened → a researcher account.

By default the soundtracks are the shipped ones (demo/soundtracks: what the shipped checkpoints
generated for the test clips, each listing naming the checkpoint that made it), so only the test
clips' videos are built and nothing is prepared: 36 clips × 4 models of CPU sampling would not fit the
demo's 10 minutes. SAMPLE=1 prepares the test clips and samples them here; TRAIN=1 does everything.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model

from generation.checkpoint import load_checkpoint
from generation.config import PrepareConfig, SplitConfig, preset
from generation.listing import SampleListing
from generation.prepare import prepare
from generation.prepared import PreparedData, read_manifest
from generation.sample import SampleConfig, sample_split
from generation.synth.dataset import SynthConfig, build_dataset
from generation.train import TrainConfig, model_config_for, train
from generation.weights import sha256_file
from studyapp import services
from studyapp.models import Study
from studyapp.study_spec import load_study_file

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parent.parent
MODELS = ("unconditional", "frame", "seq2seq", "flow")
# The shipped checkpoints were trained on data prepared like this (README, "Demo").
DEMO_PREPARE = PrepareConfig(frame_size=112)
# 130 clips per category: 111 to train on, 10 to validate, 9 to test (the study and the metrics). Of a
# category's 9 test clips 1 is for practice and 1 reserved for catch trials, so the 7 under test cover
# the demo study's 8 trials per task with 4 categories without reusing a clip. Without TRAIN=1 only the
# test clips are prepared: the split is drawn over all 130 (`SplitConfig.only`), so they are the clips
# the shipped checkpoints never saw.
DEMO_SYNTH = SynthConfig(clips_per_category=130)
DEMO_SPLIT = SplitConfig(val_ratio=0.08, test_ratio=0.07)


@dataclass(frozen=True)
class DemoConfig:
    root: Path = Path("data/demo")  # videos/, prepared/, runs/, samples/
    checkpoints: Path = REPO / "demo" / "checkpoints"  # shipped: <category>/<model>.pt
    soundtracks: Path = REPO / "demo" / "soundtracks"  # shipped: <model>/ as `generation sample` writes it
    study_file: Path = REPO / "demo" / "study.yaml"
    synth: SynthConfig = DEMO_SYNTH
    prepare: PrepareConfig = DEMO_PREPARE
    split: SplitConfig = DEMO_SPLIT
    train: bool = False  # True: train every model here instead of using the shipped checkpoints
    sample: bool = False  # True: prepare the test clips and sample them here (implied by train)
    train_preset: str = "small"
    train_steps: int = 400
    train_batch_size: int = 16
    # The shipped checkpoints' learning rate, kept so that TRAIN=1 reproduces them: 400 steps at the
    # training default of 3e-4 learn less, and 1e-3 kills the fireworks frame tiers only later on.
    train_lr: float = 1e-3
    flow_encoder_steps: int = 2000  # its pre-training, before the flow models train
    models: tuple[str, ...] = MODELS
    sample_batch_size: int = 16
    practice_per_category: int = 1
    catch_per_category: int = 1
    jobs: int = 2
    username: str = "researcher"
    progress: bool = True

    @property
    def samples_here(self) -> bool:
        return self.train or self.sample


@dataclass
class DemoResult:
    study: Study
    username: str
    password: str | None  # only when the account was created by this run
    steps: list[tuple[str, str, float]] = field(default_factory=list)  # (step, what happened, seconds)


def _step(result_steps: list, name: str, run: Callable[[], str]) -> None:
    started = time.perf_counter()
    log.info("demo: %s …", name)
    outcome = run()
    seconds = time.perf_counter() - started
    result_steps.append((name, outcome, seconds))
    log.info("demo: %s — %s (%.1f s)", name, outcome, seconds)


def shipped_listings(config: DemoConfig) -> dict[str, SampleListing]:
    """model → the listing of its shipped soundtracks."""
    listings = {model: SampleListing.read(config.soundtracks / model) for model in config.models}
    for model, listing in listings.items():
        if listing.model != model:
            raise ValueError(
                f"{config.soundtracks / model}: lists {listing.model!r} soundtracks, not {model!r}"
            )
    return listings


def _dataset(config: DemoConfig) -> str:
    # Without sampling here, only the clips with shipped soundtracks: a clip's content depends on its
    # id alone, so a later SAMPLE=1 or TRAIN=1 adds the others around them unchanged.
    only = None
    if not config.samples_here:
        only = {c.clip_id for listing in shipped_listings(config).values() for c in listing.clips}
    report = build_dataset(
        config.synth, config.root / "videos", only=only, jobs=config.jobs, progress=config.progress
    )
    if report.failed:
        raise RuntimeError(f"demo dataset: {len(report.failed)} clips failed: {list(report.failed)[:3]}")
    if not report.built:
        return "exists"
    return f"{len(report.built)} clips written" + (" (the test clips)" if only else "")


def prepared_split(config: DemoConfig) -> SplitConfig:
    """Training needs every clip; sampling with the shipped checkpoints only the test clips."""
    return config.split if config.train else dataclasses.replace(config.split, only="test")


def _prepared(config: DemoConfig) -> str:
    if not config.samples_here:
        return "not needed: the shipped soundtracks are used (SAMPLE=1 prepares the test clips)"
    out = config.root / "prepared"
    split = prepared_split(config)
    manifest = read_manifest(out)
    if (
        manifest is not None
        and manifest.get("complete", True)
        and manifest["split"] == dataclasses.asdict(split)
    ):
        return "exists"
    # Missing, or prepared with another split (TRAIN=1 after a run without it): prepare reuses every
    # shard, prepares the clips still missing and re-assigns splits.
    report = prepare(
        config.root / "videos", out, config.prepare, split=split, jobs=config.jobs, progress=config.progress
    )
    if report.skipped:
        log.warning("prepare skipped %d clips: %s", len(report.skipped), report.skipped[:3])
    which = "test clips" if split.only else "clips"
    return f"{len(report.prepared)} {which} prepared, {len(report.reused)} reused"


def checkpoint_paths(config: DemoConfig) -> dict[tuple[str, str], Path]:
    """(category, model) → the checkpoint the demo samples with (or whose soundtracks it ships)."""
    if config.samples_here:
        categories = PreparedData(config.root / "prepared").categories
    else:
        categories = sorted({c for listing in shipped_listings(config).values() for c in listing.categories})
    paths = {}
    for category in categories:
        for model in config.models:
            if config.train:
                paths[category, model] = config.root / "runs" / category / model / "best.pt"
            else:
                paths[category, model] = config.checkpoints / category / f"{model}.pt"
    return paths


def _checkpoints(config: DemoConfig) -> str:
    paths = checkpoint_paths(config)
    if not config.train:
        missing = [f"{c}/{m}" for (c, m), p in paths.items() if not p.is_file()]
        if missing:
            raise FileNotFoundError(
                f"no shipped checkpoint for {', '.join(missing)} in {config.checkpoints}; "
                "run `make demo TRAIN=1` to train them here"
            )
        if config.samples_here:
            _warn_if_features_differ(config)
        else:
            _check_soundtracks_are_the_checkpoints(config, paths)
        return f"{len(paths)} shipped checkpoints"
    data = PreparedData(config.root / "prepared")
    trained = 0
    for (category, model), path in paths.items():
        if path.is_file() and _finished(path.parent, config.train_steps):
            continue
        model_config = model_config_for(data, preset(config.train_preset), model)
        steps = TrainConfig(
            category=category,
            preset=config.train_preset,
            steps=config.train_steps,
            batch_size=config.train_batch_size,
            lr=config.train_lr,
            val_every=max(1, config.train_steps // 2),
            flow_encoder_steps=config.flow_encoder_steps,
        )
        train(config.root / "prepared", config.root / "runs", model_config, steps, progress=config.progress)
        trained += 1
    return f"{trained} trained, {len(paths) - trained} already trained"


def _warn_if_features_differ(config: DemoConfig) -> None:
    """The shipped models were trained on features of one VGG19 (demo/checkpoints/checkpoints.json);
    data prepared with other weights (say, ImageNet's, where they can be downloaded) does not suit them."""
    made = config.checkpoints / "checkpoints.json"
    here = PreparedData(config.root / "prepared").feature_weights
    shipped = {row.get("vgg_weights") for row in json.loads(made.read_text())} if made.is_file() else set()
    if shipped and here not in shipped:
        log.warning(
            "!!!!! the shipped checkpoints were trained on %s VGG19 features, but %s was prepared with %s: "
            "their soundtracks will be poor; run `make demo TRAIN=1` to train on these features !!!!!",
            ", ".join(sorted(shipped)),
            config.root / "prepared",
            here,
        )


def _check_soundtracks_are_the_checkpoints(config: DemoConfig, paths: dict[tuple[str, str], Path]) -> None:
    listings = shipped_listings(config)
    stale = [
        f"{category}/{model}"
        for (category, model), path in paths.items()
        if listings[model].checkpoints.get(category) != sha256_file(path)
    ]
    if stale:
        raise ValueError(
            f"the shipped soundtracks of {', '.join(stale)} in {config.soundtracks} were not made by the "
            f"checkpoints in {config.checkpoints}; run `make demo SAMPLE=1` to sample them here"
        )


def _finished(run: Path, steps: int) -> bool:
    last = run / "last.pt"
    return last.is_file() and load_checkpoint(last).get("step", 0) >= steps


def _shipped_samples(config: DemoConfig) -> str:
    """The shipped soundtracks into the demo's samples folders, each listed with the demo's own video
    of its clip."""
    copied = 0
    for model, listing in shipped_listings(config).items():
        out = config.root / "samples" / model
        clips = []
        for clip in listing.clips:
            target = out / clip.wav
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(config.soundtracks / model / clip.wav, target)
                copied += 1
            video = config.root / "videos" / clip.category / f"{clip.clip_id}.mp4"
            clips.append(dataclasses.replace(clip, source=str(video.resolve()), start=0.0))
        dataclasses.replace(listing, clips=clips).merge_into(out)
    return f"{copied} shipped soundtracks copied" if copied else "all exist"


def _samples(config: DemoConfig) -> str:
    if not config.samples_here:
        return _shipped_samples(config)
    written = 0
    sample_config = SampleConfig(batch_size=config.sample_batch_size)
    for (category, model), path in checkpoint_paths(config).items():
        out = config.root / "samples" / model
        before = len(list((out / category).glob("*.wav"))) if (out / category).is_dir() else 0
        sample_split(
            path, config.root / "prepared", out, split="test", category=category, config=sample_config,
            device=None, progress=config.progress,
        )  # fmt: skip
        written += len(list((out / category).glob("*.wav"))) - before
    return f"{written} soundtracks generated" if written else "all exist"


def _stimuli(config: DemoConfig) -> str:
    folders = [config.root / "samples" / model for model in config.models]
    report = services.stimuli_import(
        samples=folders,
        practice_per_category=config.practice_per_category,
        catch_per_category=config.catch_per_category,
        jobs=config.jobs,
        progress=config.progress,
    )  # fmt: skip
    if report.problems:
        raise RuntimeError("stimuli: " + "; ".join(report.problems[:5]))
    return f"{report.rendered} rendered, {report.unchanged} unchanged"


def _study(config: DemoConfig) -> tuple[str, Study]:
    spec = load_study_file(config.study_file)
    study = Study.objects.filter(slug=spec.slug).first()
    if study is None:
        study = services.study_create(spec=spec)
        outcome = "created"
    else:
        outcome = "exists"
    if study.status == Study.Status.DRAFT:
        study = services.study_open(study=study)
        outcome += ", opened"
    return outcome, study


def _researcher(config: DemoConfig) -> str | None:
    users = get_user_model()
    if users.objects.filter(username=config.username).exists():
        return None
    password = secrets.token_urlsafe(12)
    users.objects.create_superuser(config.username, f"{config.username}@localhost", password)
    return password


def run_demo(config: DemoConfig) -> DemoResult:
    steps: list[tuple[str, str, float]] = []
    _step(steps, "demo dataset", lambda: _dataset(config))
    _step(steps, "prepare", lambda: _prepared(config))
    _step(steps, "checkpoints", lambda: _checkpoints(config))
    _step(steps, "soundtracks", lambda: _samples(config))
    _step(steps, "stimuli", lambda: _stimuli(config))
    holder: dict = {}

    def study() -> str:
        outcome, holder["study"] = _study(config)
        return outcome

    _step(steps, "study", study)
    password = _researcher(config)
    (config.root / "demo.json").write_text(
        json.dumps({"study": holder["study"].slug, "steps": steps}, indent=1)
    )
    return DemoResult(holder["study"], config.username, password, steps)
