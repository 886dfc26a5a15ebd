"""Command-line options come from the config dataclasses: every field is an option with its default,
and the parsed options rebuild the config."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from generation.config import PrepareConfig, SplitConfig
from generation.options import add_config_options, config_from_args
from generation.sample import SampleConfig
from generation.train import TrainConfig


@pytest.mark.parametrize("config", [PrepareConfig, SplitConfig, SampleConfig])
def test_defaults_round_trip(config: type) -> None:
    parser = argparse.ArgumentParser()
    add_config_options(parser, config)
    assert config_from_args(config, parser.parse_args([])) == config()


def test_values_types_flags_and_required_fields() -> None:
    parser = argparse.ArgumentParser()
    add_config_options(parser, TrainConfig)
    add_config_options(parser, SplitConfig, flags={"seed": "--split-seed"}, dest_prefix="split_")
    args = parser.parse_args(
        ["--category", "drum", "--steps", "7", "--lr", "0.01", "--compile", "--split-seed", "3"]
    )
    train = config_from_args(TrainConfig, args)
    assert train == TrainConfig(category="drum", steps=7, lr=0.01, compile=True)
    assert config_from_args(SplitConfig, args, dest_prefix="split_") == SplitConfig(seed=3)
    with pytest.raises(SystemExit):
        parser.parse_args(["--steps", "x", "--category", "drum"])  # not a whole number
    with pytest.raises(SystemExit):
        parser.parse_args([])  # --category is required: TrainConfig has no default for it
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    assert names <= set(vars(args))


def test_choices_come_from_the_field() -> None:
    parser = argparse.ArgumentParser()
    add_config_options(parser, PrepareConfig, flags={"flow_method": "--flow"})
    assert parser.parse_args(["--flow", "raft"]).flow_method == "raft"
    with pytest.raises(SystemExit):
        parser.parse_args(["--flow", "farneback"])
