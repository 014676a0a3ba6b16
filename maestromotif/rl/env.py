"""The skill-training environment: MaestroNLE + the options framework + the skills' intrinsic rewards.

Registered with sample-factory as :data:`ENV_NAME` (``nle_maestro``) by
:func:`maestromotif.rl.train.register_components`. One :class:`SkillEnv` step:

1. the policy's action goes to :class:`~maestromotif.nethack.env.MaestroNLE`;
2. reward = ``extrinsic_reward * clip(reward_scale * score_delta) + llm_reward * r_int(skill)``,
   returned divided by ``reward_scale`` because sample-factory multiplies every reward by it (and
   clips at ``reward_clip``): the intrinsic part reaches the learner as ``llm_reward * r_int``, outside
   reward scaling and clipping, as in the original learner. ``skill`` is the skill that runs during
   the step and ``r_int`` its intrinsic reward (normalised, thresholded at the ``eps`` quantile,
   divided by ``N(message)^beta``; :class:`SkillRewardView`). Which observation is scored is
   ``reward_obs``: ``"before"`` (default, the original: the learner scores the observation the
   action was chosen from - its message, its N(message), its dungeon-level delta) or ``"after"``
   (the observation the action led to). The dungeon-level delta is ``delta_reference``:
   ``"skill_start"`` (default, the original: depth now minus depth when the running skill started, at
   most ``diff_h`` steps back) or ``"step"`` (one step). With ``llm_reward == 0`` no reward model is
   loaded. The all-zero observation NLE returns after the game ended is not a game state: it earns
   no intrinsic reward and changes no statistic;
3. the :class:`~maestromotif.skills.options.OptionsController` updates its attributes, asks the
   policy over skills whether the skill terminates and, if so, which skill runs next;
4. the observation (:mod:`maestromotif.rl.obs`) carries the one-hot of the skill that runs next.

At the end of an episode ``info["episode_extra_stats"]`` holds the per-skill statistics
(:func:`episode_stats`), which sample-factory averages over ``--stats_avg`` episodes and writes to
TensorBoard (section ``skills``) and :mod:`maestromotif.rl.observers` writes to ``metrics.csv``.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import Any

import gymnasium as gym
import numpy as np

from maestromotif.nethack.actions import NUM_ACTIONS
from maestromotif.nethack.env import make_env
from maestromotif.nethack.obs import BL, caption_stats
from maestromotif.reward.runtime import DEFAULT_MSG_MAX_KEYS, MessageCounter, message_key
from maestromotif.rl.obs import ENV_OBS_KEYS, ObsBuilder
from maestromotif.skills.interface import UNKNOWN_BRANCH, load_policy_class
from maestromotif.skills.options import BEHAVIOURS, OptionsController, game_state
from maestromotif.skills.table import SKILL_NAMES

ENV_NAME = "nle_maestro"
REWARD_OBS = ("before", "after")
DELTA_REFERENCES = ("skill_start", "step")


@dataclass(frozen=True)
class SkillEnvConfig:
    """What one environment needs (built from the training config by :meth:`from_cfg`)."""

    meta_policy: str  # path of execution.py (policy over skills)
    encoder: str = "fast"
    llm_reward: float = 0.1
    extrinsic_reward: float = 0.0
    reward_dirs: tuple[str, ...] = ()
    eps_threshold_quantile: float | tuple[float, ...] = (0.95, 0.85, 0.85, 0.85, 0.85)
    beta_count_exponent: float = 3.0
    max_episode_steps: int = 10_000
    seed: int | None = None
    # The original's semantics by default (docs/fidelity.md); each can be switched back to ours.
    msg_max_keys: int = DEFAULT_MSG_MAX_KEYS
    reward_obs: str = "before"
    delta_reference: str = "skill_start"
    diff_h: int = 1000
    skill_time_unit: str = "turns"
    keep_messages: str = "original"
    item_prompt: str = "agent"
    reward_scale: float = 1.0  # sample-factory's --reward_scale / --reward_clip (applied after the env)
    reward_clip: float = math.inf
    reward_table_dir: str = ""  # root of the shared reward table ("" = per-process cache only)

    def __post_init__(self):
        for name, allowed in (("reward_obs", REWARD_OBS), ("delta_reference", DELTA_REFERENCES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.reward_scale <= 0:
            raise ValueError(f"reward_scale must be > 0, got {self.reward_scale}")

    @classmethod
    def from_cfg(cls, cfg: Any) -> SkillEnvConfig:
        from maestromotif.reward.table import table_root
        from maestromotif.rl.config import eps_quantiles, meta_policy_file, reward_dirs

        eps = eps_quantiles(cfg)
        return cls(
            meta_policy=str(meta_policy_file(cfg)),
            encoder=cfg.encoder,
            llm_reward=float(cfg.llm_reward),
            extrinsic_reward=float(cfg.extrinsic_reward),
            reward_dirs=tuple(reward_dirs(cfg)),
            eps_threshold_quantile=tuple(eps) if isinstance(eps, list) else eps,
            beta_count_exponent=float(cfg.beta_count_exponent),
            max_episode_steps=int(cfg.max_episode_steps),
            seed=None if cfg.seed is None else int(cfg.seed),
            msg_max_keys=int(cfg.msg_max_keys),
            reward_obs=str(cfg.reward_obs),
            delta_reference=str(cfg.delta_reference),
            diff_h=int(cfg.diff_h),
            skill_time_unit=str(cfg.skill_time_unit),
            keep_messages=str(cfg.keep_messages),
            item_prompt=str(cfg.item_prompt),
            reward_scale=float(getattr(cfg, "reward_scale", 1.0)),
            reward_clip=float(getattr(cfg, "reward_clip", math.inf)),
            reward_table_dir=table_root(getattr(cfg, "reward_table_dir", "none"), cfg.train_dir),
        )


def fast_stat_deltas(prev: list[int], cur: list[int]) -> tuple[float, ...]:
    """:func:`maestromotif.data.captions.stat_deltas` of two caption-stat rows ``[dlvl, gold, hp, maxhp,
    xl, hunger]``: the clipped integer deltas are their signs. Plain Python: the numpy version costs
    more than the whole reward lookup on every env step."""
    return (float((cur[0] > prev[0]) - (cur[0] < prev[0])), float((cur[1] > prev[1]) - (cur[1] < prev[1])),
            float((cur[2] > prev[2]) - (cur[2] < prev[2])), float((cur[4] > prev[4]) - (cur[4] < prev[4])),
            float((cur[5] > prev[5]) - (cur[5] < prev[5])))


@cache
def _shared_rewards(reward_dirs: tuple[str, ...], eps: float | tuple[float, ...], beta: float, table_root: str = ""):
    """One loaded reward set per process and config, and the process-wide cache of its r_norm values
    (a :class:`maestromotif.reward.table.RewardTable`: shared through files with the other workers
    and later runs when ``table_root`` is set)."""
    import torch

    torch.set_num_threads(1)  # one env process, one core: intra-op threads only add contention
    from maestromotif.reward import SkillRewardSet
    from maestromotif.reward.table import RewardTable, table_dir

    rewards = SkillRewardSet.load(list(reward_dirs), list(eps) if isinstance(eps, tuple) else eps, beta, "cpu")
    return rewards, RewardTable(table_dir(table_root, reward_dirs) if table_root else None,
                                max_entries=REWARD_CACHE_SIZE)


REWARD_CACHE_SIZE = 200_000


class SkillRewardView:
    """One environment's view of the process's :class:`maestromotif.reward.SkillRewardSet`.

    ``step(message, deltas, skill_index)`` / ``reset()`` return exactly what the set's own ``step`` /
    ``reset`` return (tested against it), built from the public per-skill API
    (:meth:`SkillReward.key`, :meth:`SkillReward.raw`, :meth:`SkillReward.intrinsic`):

    - N(message) counts this env's steps of the episode that showed the message (all skills);
    - r_norm values are cached once per process, shared by its environments, and a new
      (message, deltas) is scored by the *running* skill's model only - the set scores all five at
      once, five times the work on every message the worker has not seen yet (the dominant reward
      cost in training; see README "Skill training").
    """

    def __init__(self, reward_set, cache: dict, msg_max_keys: int = DEFAULT_MSG_MAX_KEYS):
        self.reward_set = reward_set
        self.rewards = reward_set.rewards
        self.cache = cache
        self.counts = MessageCounter(msg_max_keys)

    def reset(self) -> None:
        self.counts.clear()

    def step(self, message, deltas, skill_index: int) -> float:
        return self.score(message, deltas, skill_index, self.count(message))

    def count(self, message) -> int:
        """Count one more step showing ``message``; returns N(message) including it."""
        return self.counts.count(message_key(message))

    def score(self, message, deltas, skill_index: int, n: int) -> float:
        """The skill's intrinsic reward for (message, deltas) seen for the ``n``-th time (no counting)."""
        reward = self.rewards[skill_index]
        key = reward.key(message, deltas)
        r_norm = self.cache.get((skill_index, key))
        if r_norm is None:
            r_norm = reward.raw(message, deltas)
            if len(self.cache) >= REWARD_CACHE_SIZE:
                self.cache.pop(next(iter(self.cache)))  # oldest first
            self.cache[(skill_index, key)] = r_norm
        return reward.intrinsic(r_norm, n)


def load_skill_rewards(cfg: SkillEnvConfig) -> SkillRewardView:
    """The five skills' runtime rewards for one env (models and r_norm cache shared per process)."""
    reward_set, cache = _shared_rewards(tuple(cfg.reward_dirs), cfg.eps_threshold_quantile,
                                        float(cfg.beta_count_exponent), cfg.reward_table_dir)
    return SkillRewardView(reward_set, cache, cfg.msg_max_keys)


class SkillEnv(gym.Env):
    """MaestroNLE driven by a policy over skills; observations for the skill-conditioned policy."""

    metadata = {"render_modes": []}

    def __init__(self, cfg: SkillEnvConfig, env_index: int = 0, rewards: Any = None):
        self.cfg = cfg
        self.env = make_env(max_episode_steps=cfg.max_episode_steps, observation_keys=ENV_OBS_KEYS,
                            keep_messages=cfg.keep_messages, item_prompt=cfg.item_prompt)
        self.builder = ObsBuilder(cfg.encoder)
        self.observation_space = self.builder.space()
        self.action_space = gym.spaces.Discrete(NUM_ACTIONS)
        base = 0 if cfg.seed is None else cfg.seed * 1_000_003
        # One module per env (not cached per process): the controller binds the module's `random` to this
        # env's rng, so envs of one worker must not share it.
        self.controller = OptionsController(load_policy_class(cfg.meta_policy), rng=random.Random(base + env_index),
                                            skill_time_unit=cfg.skill_time_unit)
        self.rewards = rewards
        if self.rewards is None and cfg.llm_reward != 0.0:
            self.rewards = load_skill_rewards(cfg)
        self._seed_offset = base
        self._prev_stats: list[int] = []
        self._skill_depths: deque[int] = deque(maxlen=max(1, cfg.diff_h))  # depths since the skill started
        self._pending: tuple[bytes, tuple[float, ...], int] | None = None  # reward_obs="before": scored next
        self._score = 0.0
        self._intrinsic = np.zeros(len(SKILL_NAMES))
        self.last_obs: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            seed = int(seed) + self._seed_offset
        obs, info = self.env.reset(seed=seed, options=options)
        skill = self.controller.reset(obs, info)
        if self.rewards is not None:
            self.rewards.reset()
        self._prev_stats = caption_stats(obs["blstats"])
        self._skill_depths.clear()
        self._skill_depths.append(int(obs["blstats"][BL.DEPTH]))
        self._pending = None
        if self.rewards is not None and self.cfg.reward_obs == "before":  # the original counts it too
            msg = message_key(obs["message"])
            self._pending = (msg, (0.0,) * 5, self.rewards.count(msg))
        self._score = 0.0
        self._intrinsic[:] = 0.0
        self.last_obs = obs
        info = dict(info, skill=skill)
        return self.builder.build(obs, skill), info

    def step(self, action):
        cfg = self.cfg
        running = self.controller.skill_index
        obs, score_delta, terminated, truncated, info = self.env.step(int(action))
        alive = game_state(obs)
        r_int = 0.0
        if self.rewards is not None and cfg.reward_obs == "before" and self._pending is not None:
            msg, deltas, n = self._pending  # the observation this action was chosen from
            r_int = float(self.rewards.score(msg, deltas, running, n))
        deltas = ()
        if alive:  # the all-zero game-over observation is not a state
            cur_stats = caption_stats(obs["blstats"])
            deltas = self._deltas(cur_stats)
            if self.rewards is not None and cfg.reward_obs == "after":
                r_int = float(self.rewards.step(obs["message"], deltas, running))
            self._prev_stats = cur_stats
        self._intrinsic[running] += r_int
        self._score += score_delta
        switches = self.controller.switches
        skill = self.controller.step(obs, info)
        if alive:
            if self.rewards is not None and cfg.reward_obs == "before":
                msg = message_key(obs["message"])
                self._pending = (msg, deltas, self.rewards.count(msg))
            if self.controller.switches != switches:  # a skill ended: deltas count from here
                self._skill_depths.clear()
                self._skill_depths.append(self._prev_stats[0])
        self.last_obs = obs
        info["skill"] = skill
        if terminated or truncated:
            info["episode_extra_stats"] = self.episode_stats()
        # sample-factory multiplies by reward_scale and clips: undo the scale for the intrinsic part.
        ext = cfg.extrinsic_reward * min(cfg.reward_clip, max(-cfg.reward_clip, cfg.reward_scale * score_delta))
        reward = (ext + cfg.llm_reward * r_int) / cfg.reward_scale
        return self.builder.build(obs, skill), float(reward), terminated, truncated, info

    def _deltas(self, cur_stats: list[int]) -> tuple[float, ...]:
        """Stat deltas of the new observation; the dungeon level's against the running skill's start
        (``delta_reference="skill_start"``, at most ``diff_h`` steps back, as the original) or one step."""
        d = fast_stat_deltas(self._prev_stats, cur_stats)
        if self.cfg.delta_reference == "skill_start":
            depths = self._skill_depths
            depths.append(cur_stats[0])
            ref = depths[0]
            d = (float((cur_stats[0] > ref) - (cur_stats[0] < ref)),) + d[1:]
        return d

    def close(self):
        self.env.close()

    # ------------------------------------------------------------------ stats
    def episode_stats(self) -> dict[str, float]:
        """Per-episode statistics, keys ``skills/<name>`` (TensorBoard section ``skills``)."""
        st = self.controller.stats()
        out = {f"skills/{k}": float(v) for k, v in st.items()}
        for i, name in enumerate(SKILL_NAMES):
            steps = st[f"{name}_steps"]
            if self.rewards is not None and steps:
                out[f"skills/{name}_intrinsic_mean"] = float(self._intrinsic[i] / steps)
        values = self.controller.tracker.values
        out["episode/score"] = float(self._score)
        out["episode/max_depth"] = float(values["max_depth_reached"])
        out["episode/turns"] = float(values["turn"])
        out["episode/visited_mines"] = float(values["visited_mines"])
        out["episode/branch_known"] = float(self.controller.branch_depth != UNKNOWN_BRANCH)
        for beh in BEHAVIOURS:
            out[f"episode/{beh}"] = float(sum(st[f"{n}_{beh}"] for n in SKILL_NAMES))
        return out


def episode_stat_keys() -> list[str]:
    """Every key :meth:`SkillEnv.episode_stats` can report (the columns of ``metrics.csv``)."""
    keys = []
    for name in SKILL_NAMES:
        keys += [f"skills/{name}_activations", f"skills/{name}_steps", f"skills/{name}_intrinsic_mean"]
        keys += [f"skills/{name}_{beh}" for beh in BEHAVIOURS]
        keys.append(f"skills/{name}_own_job")  # activations that did the skill's job (skills.own_job)
    keys += ["skills/skill_switches", "skills/invalid_skill_names", "skills/no_skill_returned",
             "skills/policy_errors"]
    keys += ["episode/score", "episode/max_depth", "episode/turns", "episode/visited_mines", "episode/branch_known"]
    keys += [f"episode/{beh}" for beh in BEHAVIOURS]
    keys.append("skills/policy_timeouts")  # calls into the policy cut by maestromotif.skills.budget
    return keys


def make_skill_env(full_env_name: str, cfg=None, env_config=None, render_mode: str | None = None) -> SkillEnv:
    """sample-factory env factory (module level so that it pickles into worker processes)."""
    index = 0
    if env_config is not None:
        index = int(env_config.get("env_id", 0) or 0)
    return SkillEnv(SkillEnvConfig.from_cfg(cfg), env_index=index)
