"""Run a trained skill-conditioned policy outside sample-factory's runner (evaluation, data collection).

    actor = load_actor("train_dir/skill_policy/default")        # or a checkpoint_*.pth file
    state = actor.initial_state(1)
    obs, info = env.reset()                                       # a MaestroNLE observation
    batch = actor.obs_batch(obs, skill_index)                     # the training preprocessing
    actions, state = actor.act(batch, state)                      # np.ndarray of action ids
    # after an episode ends: state = actor.reset_state(state, done_mask)

The network, its config and the observation preprocessing are exactly those of training: the
experiment's ``config.json`` (written by sample-factory) rebuilds the model with the registered
encoder, and :func:`maestromotif.rl.obs.build_obs` turns an env observation + skill index into the
input dict. The environment needs at least :data:`maestromotif.rl.obs.ENV_OBS_KEYS` (MaestroNLE's
default keys include them).
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from maestromotif.nethack.actions import NUM_ACTIONS
from maestromotif.rl.obs import batch_obs, observation_space
from maestromotif.utils.errors import UserError

CHECKPOINT_GLOB = "checkpoint_*.pth"


def checkpoint_env_steps(path: str | Path) -> int:
    """Env steps in a sample-factory checkpoint's name (``checkpoint_<iteration>_<env_steps>.pth``)."""
    return int(Path(path).stem.rsplit("_", 1)[1])


def find_checkpoint(path: str | Path) -> tuple[Path, Path]:
    """``(checkpoint file, experiment dir)`` for an experiment dir, its checkpoint dir or a file."""
    path = Path(path)
    if path.is_file():
        exp = path.parent.parent if path.parent.name.startswith("checkpoint_p") else path.parent
        return path, exp
    if not path.is_dir():
        raise UserError("skill policy not found", path=path,
                        expected="an experiment directory (train_dir/skill_policy/<experiment>) or a "
                                 "checkpoint_*.pth file", fix="train one with `python -m scripts.main` or fix the path")
    exp = path.parent if path.name.startswith("checkpoint_p") else path
    ckpts = sorted((exp / "checkpoint_p0").glob(CHECKPOINT_GLOB)) or sorted(exp.glob(CHECKPOINT_GLOB))
    if not ckpts:
        raise UserError("no checkpoint in the experiment directory", path=exp,
                        expected=f"checkpoint_p0/{CHECKPOINT_GLOB}", fix="train (or resume) until a checkpoint is saved")
    return ckpts[-1], exp


def load_cfg(exp: Path) -> Any:
    from sample_factory.utils.attr_dict import AttrDict

    f = exp / "config.json"
    if not f.is_file():
        raise UserError("experiment config not found", path=f,
                        expected="the config.json sample-factory writes beside checkpoint_p0/",
                        fix="keep config.json with the checkpoint (copy both)")
    return AttrDict(json.loads(f.read_text()))


@contextlib.contextmanager
def _quiet_sample_factory():
    """Building a model logs INFO lines in every process (encoder registered, normaliser shapes): noise
    when a trained policy is only loaded for inference (evaluation workers, collection)."""
    log = logging.getLogger("rl")  # sample-factory's logger
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)


class SkillActor:
    """A skill-conditioned actor-critic (sample-factory model) with numpy in, numpy out."""

    def __init__(self, cfg: Any, model: torch.nn.Module, device: str = "cpu", env_steps: int = 0):
        self.cfg = cfg
        self.model = model.eval()
        self.device = torch.device(device)
        self.encoder = cfg.encoder
        self.env_steps = env_steps

    @classmethod
    def fresh(cls, cfg: Any, device: str = "cpu") -> SkillActor:
        """A freshly initialised network for ``cfg`` (e.g. ``maestromotif.rl.config.parse_cfg([...])``)."""
        from sample_factory.model.actor_critic import create_actor_critic

        from maestromotif.rl.train import register_components

        with _quiet_sample_factory():
            register_components()
            model = create_actor_critic(cfg, observation_space(cfg.encoder), gym.spaces.Discrete(NUM_ACTIONS))
        model.model_to_device(torch.device(device))
        return cls(cfg, model, device)

    # ------------------------------------------------------------------ inference
    @property
    def rnn_size(self) -> int:
        from sample_factory.model.model_utils import get_rnn_size

        return get_rnn_size(self.cfg)

    def initial_state(self, batch_size: int) -> torch.Tensor:
        return torch.zeros(batch_size, self.rnn_size, device=self.device)

    @staticmethod
    def reset_state(rnn_state: torch.Tensor, done: np.ndarray) -> torch.Tensor:
        """Zero the recurrent state of the environments whose episode ended."""
        rnn_state = torch.as_tensor(rnn_state)
        mask = torch.as_tensor(np.asarray(done, dtype=bool), device=rnn_state.device)
        return rnn_state.masked_fill(mask[:, None], 0.0)

    def obs_batch(self, obs: dict[str, np.ndarray], skill_index: int) -> dict[str, np.ndarray]:
        """One MaestroNLE observation + the running skill -> a batch of one for :meth:`act`."""
        return batch_obs(self.encoder, obs, skill_index)

    @torch.inference_mode()
    def act(self, obs_batch: dict[str, np.ndarray], rnn_state: torch.Tensor, deterministic: bool = False
            ) -> tuple[np.ndarray, torch.Tensor]:
        """Actions for a batch of observations (dict of arrays with a leading batch dimension)."""
        from sample_factory.algo.utils.rl_utils import prepare_and_normalize_obs

        obs = {k: torch.as_tensor(np.asarray(v)) for k, v in obs_batch.items()}
        normalized = prepare_and_normalize_obs(self.model, obs)
        out = self.model(normalized, torch.as_tensor(rnn_state, dtype=torch.float32, device=self.device))
        if deterministic:
            actions = out["action_logits"].argmax(dim=-1)
        else:
            actions = out["actions"]
        return actions.reshape(-1).cpu().numpy().astype(np.int64), out["new_rnn_states"]


def load_actor(path: str | Path, device: str = "cpu") -> SkillActor:
    """Load a trained skill policy (experiment dir or checkpoint file) for inference."""
    ckpt, exp = find_checkpoint(path)
    cfg = load_cfg(exp)
    actor = SkillActor.fresh(cfg, device)
    try:
        state = torch.load(ckpt, map_location=device, weights_only=False)
        actor.model.load_state_dict(state["model"])
    except Exception as e:
        raise UserError(f"cannot load the checkpoint ({type(e).__name__}: {e})", path=ckpt,
                        expected="a sample-factory checkpoint written by `python -m scripts.main` with the "
                                 "config.json beside it") from None
    actor.env_steps = int(state.get("env_steps", 0))
    actor.model.eval()
    return actor
