"""Work-arounds for released sample-factory 2.1.1 (applied where sample-factory builds our model).

V-trace (``--with_vtrace True``, the original recipe and our default): sample-factory 2.1.1 computes
V-trace advantages per minibatch and does not store them, but its summary code still reads
``mb.advantages`` (``Learner._record_summaries``), which crashes the learner on the first summary.
:func:`apply` wraps that method so that in that case it reads a placeholder and drops ``adv_min`` /
``adv_max`` from the summary (a NaN scalar made TensorBoard print "NaN or Inf found in input tensor"
on every summary); ``adv_mean`` and ``adv_std`` are still reported. Idempotent; harmless with GAE.

Resume: torch >= 2.6 loads with ``weights_only=True`` by default, and a real run's checkpoint holds a
numpy scalar (``best_performance``), so sample-factory's ``Learner.load_checkpoint`` failed, logged
"Could not load from checkpoint" and **started the run again from zero** (and would then have deleted
the real checkpoints under ``--keep_checkpoints``). :func:`apply` replaces it: the latest checkpoint of
the run's own directory is loaded with ``weights_only=False`` (the run wrote it), and a checkpoint that
cannot be read stops the run with its path instead of silently restarting.
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
    Learner.load_checkpoint = staticmethod(load_checkpoint)
    _APPLIED = True


def load_checkpoint(checkpoints, device):
    """sample-factory's ``Learner.load_checkpoint`` contract (the latest of ``checkpoints``, or None when
    there is none), loading the run's own file with ``weights_only=False``; errors name the file."""
    import torch
    from sample_factory.utils.utils import log

    from maestromotif.utils.errors import UserError

    if not checkpoints:
        log.warning("No checkpoints found")
        return None
    latest = checkpoints[-1]
    log.warning("Loading state from checkpoint %s...", latest)
    try:
        return torch.load(latest, map_location=device, weights_only=False)
    except Exception as e:  # a resume must never fall back to a fresh run
        raise UserError(f"cannot load the checkpoint to resume from ({type(e).__name__}: {e})", path=latest,
                        fix="move the unreadable file out of checkpoint_p0/ to resume from the one before it, "
                            "or pass --restart_behavior restart to start over") from e
