"""Work-arounds for released sample-factory 2.1.1 (applied where sample-factory builds our model).

V-trace (``--with_vtrace True``, the original recipe and our default): sample-factory 2.1.1 computes
V-trace advantages per minibatch and does not store them, but its summary code still reads
``mb.advantages`` (``Learner._record_summaries``), which crashes the learner on the first summary.
:func:`apply` wraps that method to report ``adv_min`` / ``adv_max`` as NaN in that case (``adv_mean``
and ``adv_std`` are still reported). Idempotent; harmless when GAE is used.
"""

from __future__ import annotations

import math

_APPLIED = False


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    import torch
    from sample_factory.algo.learning.learner import Learner

    original = Learner._record_summaries

    def _record_summaries(self, train_loop_vars):
        mb = train_loop_vars.get("mb")
        if mb is not None and "advantages" not in mb:
            mb["advantages"] = torch.full((1,), math.nan)
        return original(self, train_loop_vars)

    Learner._record_summaries = _record_summaries
    _APPLIED = True
