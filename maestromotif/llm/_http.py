"""Shared plumbing of the HTTP backends: concurrency, retries with backoff, secret handling."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from maestromotif.utils.errors import UserError

T = TypeVar("T")
R = TypeVar("R")

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class RetryableError(Exception):
    """A failure worth retrying (timeout, connection reset, 429/5xx); ``retry_after`` in seconds."""

    def __init__(self, msg: str, retry_after: float | None = None):
        super().__init__(msg)
        self.retry_after = retry_after


def read_token(env_name: str | None, required: bool = False) -> str | None:
    """The API token from environment variable ``env_name`` (never from flags, never logged)."""
    if not env_name:
        return None
    token = os.environ.get(env_name)
    if required and not token:
        raise UserError(f"environment variable {env_name} is not set", expected="the API token in it",
                        fix=f"export {env_name}=... (tokens are read from the environment only)")
    return token or None


def with_retries(fn: Callable[[], R], max_retries: int, backoff: float = 1.0, max_backoff: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep) -> R:
    """Call ``fn``; on :class:`RetryableError` wait ``backoff * 2**attempt`` (+ jitter, or the server's
    Retry-After) and try again, at most ``max_retries`` times."""
    attempt = 0
    while True:
        try:
            return fn()
        except RetryableError as e:
            if attempt >= max_retries:
                raise UserError(f"LLM server unreachable or failing, gave up after {attempt + 1} attempts: {e}",
                                fix="start the server, or check --base_url (and --max_retries/--timeout "
                                    "to wait longer)") from None
            wait = e.retry_after if e.retry_after is not None else min(max_backoff, backoff * 2 ** attempt)
            sleep(wait * (1 + 0.1 * random.random()))
            attempt += 1


def map_concurrently(fn: Callable[[T], R], items: Sequence[T], concurrency: int) -> list[R]:
    """``[fn(x) for x in items]`` with up to ``concurrency`` calls in flight, results in order."""
    if concurrency <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(fn, items))


def redact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if any(s in k.lower() for s in ("key", "token", "secret", "authorization")) else v)
            for k, v in d.items()}
