"""The environment a benchmark runs the app in, in processes of its own: a scratch database
and directory, the emulator, production's settings but for TLS, and no Redis unless the
benchmark names one."""

from __future__ import annotations

import os
from pathlib import Path


def scratch_env(*, database: str, scratch: Path, **settings: str) -> dict[str, str]:
    """This process's environment with the scratch database and directory, plus `settings`."""
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "RAILZPUSH_VAR_DIR": str(scratch),
        "RAILZ_EMULATOR": "1",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        **settings,
    }
    env.pop("REDIS_URL", None)
    return env
