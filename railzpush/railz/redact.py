"""Strip secrets from anything the client logs or hands to `on_exchange`.

Exchange records are stored on the push timeline and shown to staff, so a token or key must
never reach them, whatever shape the body has.
"""

from __future__ import annotations

import functools
import re
from typing import Any

REDACTED = "[redacted]"

# Matched as substrings of the lower-cased key, so `access_token`, `clientSecret`,
# `X-Api-Key` and `Authorization` are all caught.
_SECRET_KEY_PARTS = ("token", "secret", "password", "authorization", "apikey", "api_key")


_SECRET_KEY = re.compile("|".join(map(re.escape, _SECRET_KEY_PARTS)))


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    # Every key of every body a push sends and receives is asked, and bodies repeat their
    # keys: each is decided once.
    return _SECRET_KEY.search(key.lower().replace("-", "_")) is not None


def redact(value: Any) -> Any:
    """A copy of `value` with every secret-looking key's value replaced by a placeholder."""
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and is_secret_key(key) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def redact_text(text: str, secrets: list[str]) -> str:
    """`text` with each known secret value replaced (for error messages from libraries)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
