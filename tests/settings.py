"""Settings for the test suite: the real settings, with fast and isolated pieces swapped in."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("CHAPBOOK_HOME", tempfile.mkdtemp(prefix="chapbook-test-"))

from chapbook.settings import *  # noqa: E402,F401,F403
from chapbook.settings import DATABASES, MIDDLEWARE  # noqa: E402

# Tasks run inside the call that enqueues them, so a test sees their effect at once.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHAPBOOK_HITS_CACHE = "default"  # one cache, which each test starts by emptying
# The pool keeps connections to the database it opened first; the test runner swaps
# databases under it, so tests connect plainly.
if str(DATABASES["default"]["ENGINE"]).endswith("postgresql"):
    options = DATABASES["default"]["OPTIONS"]
    assert isinstance(options, dict)
    options.pop("pool", None)

# WhiteNoise scans every static file each time a test client builds its handler; static
# files are tested against the real server in test_cli instead.
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise.")]

# xdist workers share CHAPBOOK_HOME and, on SQLite, the in-memory database's name: each
# worker keeps its filter index snapshots in a folder of its own.
FILTER_INDEX_DIR = Path(tempfile.mkdtemp(prefix="chapbook-index-"))
