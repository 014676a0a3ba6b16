"""A time budget for every call into LLM-written code (a policy over skills).

:func:`call_with_budget` runs ``fn(*args)`` and, when it has not returned after ``budget_s``
seconds, interrupts it by raising :class:`PolicyTimeout` inside it (``SIGALRM`` via ``setitimer``).
``PolicyTimeout`` derives from ``BaseException``, so the ``except Exception:`` blocks generated code
likes to write do not swallow it; the timer re-fires every ``budget_s / 4`` until the call returns,
so even a loop that catches everything is interrupted again and again (each re-fire is a chance for
the ``PolicyTimeout`` to escape).

Signals reach only the main thread of a process. Elsewhere (a thread pool) the call cannot be
interrupted: it runs to its end and, if it overran, the caller still gets a ``PolicyTimeout`` after
the fact, so the overrun is counted. Sample-factory rollout workers and evaluation workers call
policies from their main thread, so there the budget interrupts.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

DEFAULT_BUDGET_S = 1.0  # a policy over skills answers in microseconds; 1 s is a hang, not slowness
IMPORT_BUDGET_S = 10.0  # importing an execution.py (class bodies, module-level code)


class PolicyTimeout(BaseException):  # noqa: N818 - BaseException on purpose (see module doc)
    """A call into generated code ran past its time budget."""


@contextlib.contextmanager
def time_budget(budget_s: float | None) -> Iterator[None]:
    """Raise :class:`PolicyTimeout` in the ``with`` body once it has run ``budget_s`` seconds."""
    if not budget_s or budget_s <= 0:
        yield
        return
    if threading.current_thread() is not threading.main_thread():
        t0 = time.perf_counter()
        yield
        if time.perf_counter() - t0 > budget_s:
            raise PolicyTimeout(f"ran {time.perf_counter() - t0:.2f} s, over its {budget_s:g} s budget")
        return

    def on_alarm(signum, frame):
        raise PolicyTimeout(f"did not return within its {budget_s:g} s budget")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, budget_s, budget_s / 4)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def call_with_budget(fn: Callable[..., Any], budget_s: float | None, *args: Any) -> Any:
    with time_budget(budget_s):
        return fn(*args)
