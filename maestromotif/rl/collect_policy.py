"""A trained skill policy as a dataset-collection policy (``scripts.collect_dataset --policy <checkpoint>``).

:class:`CheckpointPolicy` follows the :class:`maestromotif.data.policies.CollectionPolicy` protocol
(``reset(obs, info)``, ``act(obs, info) -> action``): the skill-conditioned network of
:func:`maestromotif.rl.actor.load_actor` runs the skills that the training policy over skills (the
``execution.py`` recorded in the experiment's config, or ``meta_policy=``) selects, call-and-return,
exactly as during training.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from maestromotif.rl.actor import find_checkpoint, load_actor
from maestromotif.rl.config import meta_policy_file
from maestromotif.skills.interface import load_policy_class
from maestromotif.skills.options import OptionsController


class CheckpointPolicy:
    def __init__(self, path: str | Path, seed: int = 0, meta_policy: str | Path | None = None,
                 deterministic: bool = False, device: str = "cpu"):
        import torch

        torch.manual_seed(seed)  # sampling actions uses torch's generator
        self.actor = load_actor(path, device=device)
        if meta_policy is None:  # the recorded one, read from any directory (also the checkpoint's workspace)
            meta_policy = meta_policy_file(self.actor.cfg, bases=tuple(find_checkpoint(path)[1].resolve().parents))
        self.controller = OptionsController(load_policy_class(meta_policy), rng=random.Random(seed))
        self.deterministic = deterministic
        self.state = self.actor.initial_state(1)
        self._fresh = True

    @property
    def skill(self) -> str:
        return self.controller.skill

    def reset(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> None:
        self.controller.reset(obs, info)
        self.state = self.actor.initial_state(1)
        self._fresh = True

    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> int:
        # The first call sees the reset observation; later ones the result of our last action.
        skill = self.controller.skill_index if self._fresh else self.controller.step(obs, info)
        self._fresh = False
        actions, self.state = self.actor.act(self.actor.obs_batch(obs, skill), self.state, self.deterministic)
        return int(actions[0])
