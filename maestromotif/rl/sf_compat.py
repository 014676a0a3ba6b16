"""Work-arounds for released sample-factory 2.1.1 (applied where sample-factory builds our model).

V-trace (``--with_vtrace True``, the original recipe and our default): sample-factory 2.1.1 computes
V-trace advantages per minibatch and does not store them, but its summary code still reads
``mb.advantages`` (``Learner._record_summaries``), which crashes the learner on the first summary.
:func:`apply` wraps that method so that in that case it reads a placeholder and drops ``adv_min`` /
``adv_max`` from the summary (a NaN scalar made TensorBoard print "NaN or Inf found in input tensor"
on every summary); ``adv_mean`` and ``adv_std`` are still reported. Idempotent; harmless with GAE.
"""

from __future__ import annotations

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
        placeholder = mb is not None and "advantages" not in mb
        if placeholder:
            mb["advantages"] = torch.zeros(1)
        stats = original(self, train_loop_vars)
        if placeholder and stats is not None:
            for key in ("adv_min", "adv_max"):
                stats.pop(key, None)
        return stats

    Learner._record_summaries = _record_summaries
    _APPLIED = True
