"""R's mixed models, run through `Rscript`: lme4's `glmer` for the Turing tests and ordinal's `clmm` for
ratings are the references reviewers check against, and no maintained Python library fits a logistic
or cumulative-link model with crossed random effects by maximum likelihood (statsmodels offers
variational Bayes for the first and a marginal model for the second). The scripts live in
`evaluation/statistics/r/`; each reads a CSV and writes one.

R is optional: `engine()` says whether it can be used (Rscript on PATH with the package installed;
`VIS2SOUND_R=off` turns it off), and the callers fall back to a labelled approximation without it.
Debian/Ubuntu: `apt-get install r-cran-lme4 r-cran-ordinal`.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SCRIPTS = Path(__file__).with_name("r")
TIMEOUT_S = 600


class REngineError(RuntimeError):
    pass


@dataclass(frozen=True)
class RFit:
    effects: pd.DataFrame  # name, estimate, std_error, ci_low, ci_high, p_value
    random_sd: dict[str, float]
    notes: list[str]  # warnings R raised (singular fit, convergence)


@functools.cache
def _package_version(rscript: str, package: str) -> str | None:
    command = f'cat(as.character(packageVersion("{package}")))'
    try:
        done = subprocess.run(
            [rscript, "--vanilla", "-e", command], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def engine(package: str) -> str | None:
    """'R <package> <version>' when `Rscript` can load the package here, else None."""
    if os.environ.get("VIS2SOUND_R", "").lower() in {"0", "off", "no", "false"}:
        return None
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    version = _package_version(rscript, package)
    return f"R {package} {version}" if version else None


def fit(script: str, data: pd.DataFrame, reference: str) -> RFit:
    """Run `r/<script>.R` on ``data`` (columns y, system, participant, clip) with ``reference`` as the
    baseline level of system."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise REngineError("Rscript is not on PATH")
    with tempfile.TemporaryDirectory(prefix="vis2sound-r-") as scratch:
        data_path, out_path = Path(scratch) / "data.csv", Path(scratch) / "out.csv"
        data[["y", "system", "participant", "clip"]].to_csv(data_path, index=False)
        done = subprocess.run(
            [rscript, "--vanilla", str(SCRIPTS / f"{script}.R"), str(data_path), str(out_path), reference],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0 or not out_path.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise REngineError(f"{script}.R failed: {' / '.join(tail) or f'exit {done.returncode}'}")
        out = pd.read_csv(out_path, keep_default_na=False, na_values=["NA"])
    effects = out[out["kind"] == "effect"].drop(columns="kind").reset_index(drop=True)
    random_sd = {r.name: float(r.estimate) for r in out[out["kind"] == "random_sd"].itertuples()}
    notes = [str(n) for n in out.loc[out["kind"] == "note", "name"]]
    return RFit(effects, random_sd, notes)
