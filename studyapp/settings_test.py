"""Test settings: the defaults, with local state in a temporary folder and a fast password hasher."""

import os
import tempfile

_TEST_DATA_DIR = tempfile.mkdtemp(prefix="vis2sound-test-")
os.environ.setdefault("VIS2SOUND_DATA_DIR", _TEST_DATA_DIR)
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-never-used-outside-the-test-suite-0123456789")

from studyapp.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Pages and the admin's CSS come straight from the source folders: tests never run `collectstatic`.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Every test client comes from 127.0.0.1: the rate limits are switched on only by their own tests.
RATELIMIT_ENABLE = False
