"""sample-factory 2.1.1 work-arounds: a checkpoint of a real run (numpy scalars inside) loads for a resume
on torch >= 2.6, and an unreadable one stops the run instead of restarting it from zero."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from maestromotif.rl import sf_compat
from maestromotif.utils.errors import UserError


def test_resume_loads_a_checkpoint_that_holds_numpy_scalars(tmp_path):
    from sample_factory.algo.learning.learner import Learner

    ck = tmp_path / "checkpoint_000000010_1000.pth"
    # what a real run writes: best_performance is a numpy float once episodes were averaged
    torch.save({"train_step": 10, "env_steps": 1000, "best_performance": np.float64(0.43),
                "model": {"w": torch.ones(2)}}, ck)
    with pytest.raises(pickle.UnpicklingError):  # torch >= 2.6's default refuses it: the run restarted
        torch.load(ck, weights_only=True)
    sf_compat.apply()
    state = Learner.load_checkpoint([str(ck)], "cpu")
    assert state["env_steps"] == 1000 and float(state["best_performance"]) == pytest.approx(0.43)
    assert Learner.load_checkpoint([], "cpu") is None  # no checkpoint: a fresh run, as before
    bad = tmp_path / "checkpoint_000000020_2000.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="cannot load the checkpoint"):
        Learner.load_checkpoint([str(ck), str(bad)], "cpu")
