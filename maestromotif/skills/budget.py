"""A time budget for every call into LLM-written code (a policy over skills).

:func:`call_with_budget` runs ``fn(*args)``; when it has not returned after ``budget_s`` seconds a
watchdog thread sends ``SIGALRM`` to the main thread, whose handler raises :class:`PolicyTimeout`
inside the running call. ``PolicyTimeout`` derives from ``BaseException``, so the ``except
Exception:`` blocks generated code likes to write do not swallow it, and the watchdog re-sends the
signal every ``budget_s / 4`` until the call returns, so even a loop that catches everything is
interrupted again and again.

Why a watchdog and not ``setitimer`` per call: arming and disarming a timer costs two system calls
and two handler swaps per call (~28 us measured at load 19 on 2 cores, three calls per env step);
here a call costs one clock read and two assignments, and one sleeping thread per process does the
watching. The handler is installed once per process, the first time a budget is used from its main
thread (only if ``SIGALRM`` has no other handler; otherwise, and in other threads, a call that
overran is reported after it returns: it cannot be interrupted, but it is still counted).

Limits: a signal is handled between Python bytecodes, so a call stuck inside one long C operation
(a gigantic numpy allocation) is interrupted only when that operation ends.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

DEFAULT_BUDGET_S = 1.0  # a policy over skills answers in microseconds; 1 s is a hang, not slowness
IMPORT_BUDGET_S = 10.0  # importing an execution.py (class bodies, module-level code)


class PolicyTimeout(BaseException):  # noqa: N818 - BaseException on purpose (see module doc)
    """A call into generated code ran past its time budget."""


class _Watchdog:
    """One per process: watches the deadline of the call in flight in the main thread."""

    def __init__(self) -> None:
        self.deadline: float | None = None
        self.budget = DEFAULT_BUDGET_S
        self.pid = -1
        self.armed = False  # our SIGALRM handler is installed in this process

    def ensure(self) -> bool:
        """Start the thread / install the handler in this process if needed; False: cannot interrupt."""
        if self.pid == os.getpid():
            return self.armed
        self.pid = os.getpid()  # a forked child has no watchdog thread yet
        current = signal.getsignal(signal.SIGALRM)
        self.armed = current in (signal.SIG_DFL, None) or getattr(current, "__self__", None) is self
        if self.armed:
            signal.signal(signal.SIGALRM, self._on_alarm)
            self.main_ident = threading.main_thread().ident
            threading.Thread(target=self._watch, name="policy-budget-watchdog", daemon=True).start()
        return self.armed

    def _watch(self) -> None:
        while True:
            time.sleep(max(0.01, self.budget / 4))
            d = self.deadline
            # only while our handler is installed: never fire someone else's SIGALRM handler
            if d is not None and time.monotonic() > d and signal.getsignal(signal.SIGALRM) == self._on_alarm:
                signal.pthread_kill(self.main_ident, signal.SIGALRM)

    def _on_alarm(self, signum, frame) -> None:
        d = self.deadline
        if d is not None and time.monotonic() > d:
            raise PolicyTimeout(f"did not return within its {self.budget:g} s budget")


_WATCHDOG = _Watchdog()


def call_with_budget(fn: Callable[..., Any], budget_s: float | None, *args: Any) -> Any:
    """``fn(*args)``, raising :class:`PolicyTimeout` once it has run ``budget_s`` seconds (None/0: no budget)."""
    if not budget_s or budget_s <= 0:
        return fn(*args)
    wd = _WATCHDOG
    in_main = threading.current_thread() is threading.main_thread()
    if not in_main or wd.deadline is not None or not wd.ensure():  # nested, other thread, or foreign handler
        t0 = time.monotonic()
        out = fn(*args)
        if time.monotonic() - t0 > budget_s:
            raise PolicyTimeout(f"ran {time.monotonic() - t0:.2f} s, over its {budget_s:g} s budget")
        return out
    wd.budget = budget_s
    wd.deadline = deadline = time.monotonic() + budget_s
    try:
        out = fn(*args)
    finally:
        wd.deadline = None
    if time.monotonic() > deadline:  # overran but was not interrupted (e.g. stuck in C): same outcome
        raise PolicyTimeout(f"returned after its {budget_s:g} s budget")
    return out
