"""Cost of the time budget on a call into a policy over skills: ``python -m bench.policy_budget``.

Times ``call_with_budget(f, 1.0, ...)`` against a direct ``f(...)`` for a trivial ``f`` (what a
generated ``skill_termination`` costs is noise next to it); prints medians over repeats and the load.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

from maestromotif.skills.budget import call_with_budget
from maestromotif.utils.cli import arg, parse


@dataclass
class BenchArgs:
    calls: int = arg(20_000, "calls per repeat")
    repeats: int = arg(5, "repeats (the median is printed)")


def _f(a, b):
    return a


def main(calls: int = 20_000, repeats: int = 5) -> None:
    direct, budgeted = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(calls):
            _f(1, 2)
        direct.append((time.perf_counter() - t) / calls * 1e6)
        t = time.perf_counter()
        for _ in range(calls):
            call_with_budget(_f, 1.0, 1, 2)
        budgeted.append((time.perf_counter() - t) / calls * 1e6)
    print(f"direct {statistics.median(direct):.2f} us/call, budgeted {statistics.median(budgeted):.2f} us/call "
          f"(median of {repeats} x {calls}); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    a = parse(BenchArgs, None, prog="python -m bench.policy_budget", description=__doc__)
    main(a.calls, a.repeats)
