"""Cost of the time budget on a call into a policy over skills: ``python -m bench.policy_budget``.

Times ``call_with_budget(f, 1.0, ...)`` against a direct ``f(...)`` for a trivial ``f`` (what a
generated ``skill_termination`` costs is noise next to it); prints medians over repeats and the load.
"""

from __future__ import annotations

import os
import statistics
import time

from maestromotif.skills.budget import call_with_budget


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
    main()
