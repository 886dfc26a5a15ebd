"""import_stimuli: real media rendered identically, opaque names, anchors, idempotent re-import, bad
files reported and skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
from django.core.management import call_command

from generation.media import decode_audio
from studyapp.models import Clip, Stimulus, System
from tests.studyapp.conftest import CATEGORIES, CLIPS_PER_CATEGORY, EXTERNAL_SYSTEMS
from tests.studyapp.stimuli.probe import audio_packet_sizes

pytestmark = pytest.mark.django_db


def test_import_creates_clips_systems_and_every_stimulus(imported) -> None:
    clips = CLIPS_PER_CATEGORY * len(CATEGORIES)
    assert Clip.objects.count() == clips
    assert Clip.objects.filter(practice=True).count() == len(CATEGORIES)  # --practice 1
    assert set(System.objects.values_list("name", "kind")) == {
        ("real", "real"),
        *((name, "external") for name in EXTERNAL_SYSTEMS),
    }
    # Per clip: real, its three anchors, one per external system.
    assert Stimulus.objects.count() == clips * (4 + len(EXTERNAL_SYSTEMS))
    assert Clip.objects.get(clip_id="drum_0000").ground_truth["onsets"]  # the sidecar's event times


def test_stimulus_files_are_named_by_opaque_id_only(imported) -> None:
    for stimulus in Stimulus.objects.select_related("system", "clip"):
        name = stimulus.media.name
        assert name == f"stimuli/{stimulus.public_id}.mp4"
        assert len(stimulus.public_id) == 32
        for telling in (stimulus.system.name, stimulus.clip.clip_id, stimulus.clip.category, "real"):
            assert telling not in name
        assert Path(stimulus.media.path).stat().st_size > 0


def test_every_stimulus_of_a_clip_has_the_same_size_packet_for_packet(imported) -> None:
    """Real, external and anchor soundtracks of a clip cannot be told apart by the file's bytes count
    or by the mp4's table of audio packet sizes."""
    for clip in Clip.objects.all():
        stimuli = list(clip.stimuli.all())
        assert len(stimuli) >= 2
        sizes = {Path(s.media.path).stat().st_size for s in stimuli}
        assert len(sizes) == 1, (str(clip), sizes)
        packets = {tuple(audio_packet_sizes(s.media.path)) for s in stimuli}
        assert len(packets) == 1, str(clip)


def test_anchors_are_the_real_sound_shifted_and_degraded(imported) -> None:
    clip = Clip.objects.get(clip_id="drum_0001")
    audio = {
        s.variant: decode_audio(s.media.path, sample_rate=16_000)
        for s in Stimulus.objects.filter(clip=clip, system__name="real")
    }
    real = audio[""]
    lag = 8000  # 0.5 s at 16 kHz

    def corr(a, b):
        return float(np.corrcoef(a, b)[0, 1])

    assert corr(audio["shift_late"][lag:], real[:-lag]) > 0.9
    assert corr(audio["shift_early"][:-lag], real[lag:]) > 0.9
    spectrum = np.abs(np.fft.rfft(audio["degraded"]))
    frequencies = np.fft.rfftfreq(audio["degraded"].size, 1 / 16_000)
    band = spectrum[(frequencies > 3500) & (frequencies < 3800)].mean()
    above = spectrum[frequencies > 5000].mean()
    assert above > 0.05 * band  # the noise is broadband: the anchor is not silence above the cut-off


def test_reimport_changes_nothing(imported, study_videos, external_audio) -> None:
    before = {
        s.pk: (s.public_id, s.media.name, Path(s.media.path).stat().st_mtime_ns)
        for s in Stimulus.objects.all()
    }
    call_command("import_stimuli", "--videos", study_videos, "--external", external_audio, verbosity=0)
    after = {
        s.pk: (s.public_id, s.media.name, Path(s.media.path).stat().st_mtime_ns)
        for s in Stimulus.objects.all()
    }
    assert after == before
    assert Clip.objects.count() == CLIPS_PER_CATEGORY * len(CATEGORIES)


def test_bad_files_are_reported_and_the_rest_imported(imported, external_audio, tmp_path, capsys) -> None:
    other = tmp_path / "other"
    shutil.copytree(external_audio / "sys-noise", other / "sys-new")
    (other / "sys-new" / "drum_0002.wav").write_bytes(b"not audio at all")
    (other / "sys-new" / "no_such_clip.wav").write_bytes(b"RIFF")
    shutil.copytree(external_audio / "sys-noise", other / "real")
    call_command("import_stimuli", "--external", other, verbosity=0)
    err = capsys.readouterr().err
    assert "drum_0002.wav" in err
    assert "no imported clip 'no_such_clip'; import its video first" in err
    assert "'real' is reserved for the real soundtracks; rename the folder" in err
    imported_now = Stimulus.objects.filter(system__name="sys-new").count()
    assert imported_now == CLIPS_PER_CATEGORY * len(CATEGORIES) - 1


def test_a_changed_soundtrack_is_rendered_again_under_a_new_id(imported, external_audio, tmp_path) -> None:
    other = tmp_path / "other"
    shutil.copytree(external_audio / "sys-delay", other / "sys-changing")
    call_command("import_stimuli", "--external", other, verbosity=0)
    stimulus = Stimulus.objects.get(system__name="sys-changing", clip__clip_id="drum_0003")
    wav = other / "sys-changing" / "drum_0003.wav"
    audio, rate = soundfile.read(wav)
    soundfile.write(wav, audio[::-1].copy(), rate)
    call_command("import_stimuli", "--external", other, verbosity=0)
    again = Stimulus.objects.get(pk=stimulus.pk)
    assert again.public_id != stimulus.public_id and again.fingerprint != stimulus.fingerprint


def test_samples_output_of_generation_is_imported_as_our_system(imported, study_videos, tmp_path) -> None:
    out = tmp_path / "samples"
    (out / "drum").mkdir(parents=True)
    clips = []
    for clip in Clip.objects.filter(category="drum", practice=False)[:2]:
        soundfile.write(out / "drum" / f"{clip.clip_id}.wav", np.zeros(16_000, np.float32) + 0.01, 16_000)
        entry = {"clip_id": clip.clip_id, "wav": f"drum/{clip.clip_id}.wav", "source": clip.source}
        clips.append({**entry, "start": clip.start, "duration": clip.duration})
    summary = {"category": "drum", "model": "flow", "split": "test", "clips": clips}
    (out / "samples.json").write_text(json.dumps(summary))
    call_command("import_stimuli", "--samples", out, verbosity=0)
    system = System.objects.get(name="ours-flow")
    assert system.kind == "ours"
    assert system.stimuli.count() == 2


def test_nothing_to_import_is_an_error() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="nothing to import"):
        call_command("import_stimuli")
