"""Reading settings from environment variables, with errors that name the variable and what to do."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

SECRET_KEY_FILE_NAME = "secret_key"
# The alphabet and length of django.core.management.utils.get_random_secret_key, without the
# "django-insecure-" prefix that `check --deploy` rejects.
_SECRET_KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789!@#%^&*(-_=+)"
_SECRET_KEY_LENGTH = 50


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"Environment variable {name}={raw!r} is not a boolean: use 1/0, true/false, yes/no."
    )


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret_key_from_file(data_dir: Path) -> str:
    """The key stored in ``data_dir/secret_key``, generated there on first use.

    Sessions and password-reset links stay valid across restarts, and no key ever lives in the repository.
    Created with O_EXCL so two processes starting at once cannot write different keys.
    """
    path = data_dir / SECRET_KEY_FILE_NAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = "".join(secrets.choice(_SECRET_KEY_CHARS) for _ in range(_SECRET_KEY_LENGTH))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(key)
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(
            f"{path} is empty: delete it to have a new key generated, or set SECRET_KEY."
        )
    return key
