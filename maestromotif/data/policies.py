"""Behaviour policies for dataset collection (a registry; a trained checkpoint plugs in by path).

A collection policy sees the same observations and ``info`` as an agent and returns an action index
of :mod:`maestromotif.nethack.actions`:

- ``random``   uniform over the 28 actions (the simplest, most diverse and least competent);
- ``explore``  a small map-reading heuristic: walks to unexplored places, fights what is in the
               way, takes stairs down (and sometimes up), with a random action now and then. It
               reaches more levels, gold, shops and fights than ``random`` does, so the captions
               cover what the five skills care about;
- ``scripted_skills``  the hand-written skill controllers of :mod:`maestromotif.skills.scripted`
               chosen by a policy over skills (default ``travel``: the training one made to travel
               more): competent play, rich in descents, ascents, kills, gold, altar drops and sales;
- a path       a trained skill-policy checkpoint (see :func:`make_policy`), run with the training
               policy over skills.
"""

from __future__ import annotations

import importlib
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from maestromotif.nethack.actions import ACTION_INDEX, ACTION_NAMES, NUM_ACTIONS
from maestromotif.nethack.obs import BL
from maestromotif.skills.levelmap import MOVES, LevelMap
from maestromotif.utils.errors import UserError


class CollectionPolicy(Protocol):
    def reset(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> None: ...
    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> int: ...


class RandomPolicy:
    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)

    def reset(self, obs, info) -> None:
        pass

    def act(self, obs, info) -> int:
        return self.rng.randrange(NUM_ACTIONS)


# Monsters to fight. '@' (humans: shopkeepers, priests, watchmen) are left alone: they are peaceful.
_MONSTER = set(range(ord("a"), ord("z") + 1)) | set(range(ord("A"), ord("Z") + 1)) | {ord("&"), ord(":"), ord(";"), ord("'")}
_FOOD, _COIN = 7, 12
_SHOP_WELCOME = re.compile(r"Welcome (?:again )?to \w[\w' -]*'s ")  # "Welcome to Asidonhopo's general store!"


class ExplorePolicy:
    """Map-reading exploration heuristic (see module docstring). Uses only the 28 agent actions.

    The map memory (what lies under the hero, open doors, paths, frontiers) is
    :class:`~maestromotif.skills.levelmap.LevelMap`, shared with the scripted skills.
    """

    def __init__(self, seed: int = 0, epsilon: float = 0.15, up_prob: float = 0.25, rush_prob: float = 0.5):
        self.rng = random.Random(seed)
        self.epsilon, self.up_prob, self.rush_prob = epsilon, up_prob, rush_prob
        self.map = LevelMap()
        # Random actions exclude prayer (repeated prayers anger the god, who kills the hero) and eating
        # (eating while satiated chokes the hero to death): those are chosen deliberately below.
        self._random_actions = [i for i in range(NUM_ACTIONS) if i not in (ACTION_INDEX["pray"], ACTION_INDEX["eat"])]

    def reset(self, obs, info) -> None:
        self.map.reset()
        self._rush = False
        self._going_up = False
        self._stuck = 0
        self._last_pos = None
        self._last_step: tuple[int, int] | None = None
        self._last_action: str | None = None
        self._path: list[tuple[int, int]] | None = None
        self._plan_age = 0
        self._kit = self._inventory(obs)  # starting kit: never dropped
        self._altar_drops: dict[tuple[int, int, int, int], int] = {}
        self._shop_steps = 0  # steps left in which we believe we are inside a shop
        self._entered: set[tuple[int, int]] = set()  # levels seen this episode

    @staticmethod
    def _inventory(obs) -> set[tuple[int, int]]:
        return {(int(c), int(o)) for c, o in zip(obs["inv_letters"], obs["inv_oclasses"]) if c}

    def _has_droppable(self, obs) -> bool:
        return any(o not in (_FOOD, _COIN) and (c, o) not in self._kit for c, o in self._inventory(obs))

    def _answer(self, msg: str, obs) -> int | None:
        """Answer a question the environment leaves to the agent (y = NW key, n = SE key)."""
        if "Sell it?" in msg:
            return ACTION_INDEX["move_nw" if self.rng.random() < 0.8 else "move_se"]
        if "Really attack" in msg or "Continue eating" in msg:
            return ACTION_INDEX["move_se"]
        if "What do you want to eat" in msg:  # eat opens the item prompt: y confirms the first item
            return ACTION_INDEX["move_nw"]
        if "eat it?" in msg:
            return ACTION_INDEX["move_nw" if int(obs["blstats"][BL.HUNGER]) >= 2 else "move_se"]
        if "direction?" in msg:
            return ACTION_INDEX[self.rng.choice(list(MOVES.values()))]
        return None

    def act(self, obs, info) -> int:
        action = self._act(obs, info)
        self._last_action = ACTION_NAMES[action]
        return action

    def _act(self, obs, info) -> int:
        msg = bytes(obs["message"]).split(b"\0", 1)[0].decode("latin-1")
        messages = list(info.get("messages") or ()) or [msg]
        b = obs["blstats"]
        depth = int(b[BL.DEPTH])
        lvl = self.map.update(obs, messages, self._last_action)
        if self.map.key not in self._entered:
            self._entered.add(self.map.key)
            self._going_up = depth > 1 and self.rng.random() < self.up_prob
            self._rush = self.rng.random() < self.rush_prob  # per level: head for the stairs at once?
            self._path = None
        if self.map.arrived:
            self._path = None
        under = self.map.under  # remembered terrain under the hero ('@' hides it)
        answer = self._answer(msg, obs) if msg.endswith(("]", ") ", ")", "?")) else None
        if answer is not None:
            return answer
        if _SHOP_WELCOME.search(msg):  # entering a shop: sell something in the next steps
            self._shop_steps = 40
        self._shop_steps = max(0, self._shop_steps - 1)
        if self._shop_steps and self._has_droppable(obs) and self.rng.random() < 0.3:
            return ACTION_INDEX["drop"]
        if self.rng.random() < self.epsilon:
            return self.rng.choice(self._random_actions)
        chars = obs["chars"]
        if int(b[BL.HUNGER]) >= 2 and self.rng.random() < 0.2:  # Hungry or worse: eat
            return ACTION_INDEX["eat"]
        if int(b[BL.HP]) * 4 < int(b[BL.HPMAX]) and self.rng.random() < 0.1:  # low HP: pray (rarely)
            return ACTION_INDEX["pray"]
        x, y = self.map.pos
        if (x, y) == self._last_pos:
            self._stuck += 1
            if self._last_step is not None and self._stuck >= 3:
                # Moving that way does not work (boulder, locked door, ...): stop planning through it.
                lvl.block((x + self._last_step[0], y + self._last_step[1]), self.map.step + 500)
        else:
            self._stuck, self._last_pos = 0, (x, y)
        self._last_step = None
        if self._stuck > 12:  # still stuck: shake loose
            self._stuck = 0
            return self.rng.choice([ACTION_INDEX["kick"], ACTION_INDEX["search"], self.rng.choice(self._random_actions)])
        key = self.map.key
        if under == ord("_") and self._has_droppable(obs):  # altar: drop items to learn their B/U/C status
            spot = (key[0], key[1], x, y)
            if self._altar_drops.get(spot, 0) < 3:
                self._altar_drops[spot] = self._altar_drops.get(spot, 0) + 1
                return ACTION_INDEX["drop"]
        if under == ord(">") and not self._going_up:
            return ACTION_INDEX["down"]
        if under == ord("<") and self._going_up:
            return ACTION_INDEX["up"]
        # Attack an adjacent monster.
        for (dx, dy), name in MOVES.items():
            yy, xx = y + dy, x + dx
            if 0 <= yy < chars.shape[0] and 0 <= xx < chars.shape[1] and chars[yy, xx] in _MONSTER:
                return ACTION_INDEX[name]
        # Follow the planned path while the hero is where the plan expects; replan otherwise (BFS in
        # Python is the cost of this policy, so plans are reused for up to 8 steps).
        if self._path and self._path[0] == (x, y) and len(self._path) > 1 and self._plan_age < 8:
            self._plan_age += 1  # arrived where planned: keep following the plan
        else:
            self._path, self._plan_age = self._plan(obs), 0
        if not self._path or len(self._path) < 2:
            return self.rng.choice([ACTION_INDEX["search"], self.rng.choice(self._random_actions)])
        step = (self._path[1][0] - x, self._path[1][1] - y)
        self._path.pop(0)  # path[0] is now the cell we are stepping to
        self._last_step = step
        return ACTION_INDEX[MOVES[step]]

    def _plan(self, obs) -> list[tuple[int, int]] | None:
        """A shortest path to: gold first, then an altar (when carrying something to drop), then the
        staircase we want when rushing (or when nothing is left to explore), else the nearest frontier."""
        mem = self.map.level.mem
        key = self.map.key
        goals: list[np.ndarray] = [mem == ord("$")]
        if self._has_droppable(obs) and not any(k[:2] == key and v >= 3 for k, v in self._altar_drops.items()):
            goals.append(mem == ord("_"))
        stairs = mem == (ord("<") if self._going_up else ord(">"))
        frontier = self.map.frontier()
        goals += [stairs, frontier] if self._rush else [frontier, stairs]
        for goal in goals:
            if goal.any():
                path = self.map.path_to(goal)
                if path is not None:
                    return path
        return None


TRAVEL = "travel"  # the default policy over skills of scripted_skills collection (see _travel_policy)


def _travel_policy(base: type, rng: random.Random) -> type:
    """The training policy over skills (``exploration``) made to travel more, for collection only:
    50-step discoverer runs (not 500), interactions of at most 300 steps, and 2-5 levels deep (not 2-4),
    so an episode sees more stairs,
    levels, shops and altars per transition."""

    class Travel(base):  # type: ignore[misc, valid-type]
        def set_initial_values(self):
            super().set_initial_values()
            self.discoverer_skill_steps = 50
            self.merchant_skill_steps = self.worshipper_skill_steps = 300
            self.max_depth = rng.randint(2, 5)

    Travel.__module__ = base.__module__  # the options framework seeds the generated module's `random`
    return Travel


class ScriptedCollectionPolicy:
    """``--policy scripted_skills``: the scripted skill controllers (:mod:`maestromotif.skills.scripted`)
    under a policy over skills - ``travel`` (default), a task of ``rl_baseline/meta_policies`` (e.g.
    ``exploration``, the training one) or an ``execution.py`` path."""

    def __init__(self, seed: int = 0, meta_policy: str = TRAVEL, meta_policies: str = "rl_baseline/meta_policies",
                 code_seed: int = 42):
        from maestromotif.skills.interface import load_policy_class, meta_policy_path
        from maestromotif.skills.scripted import scripted_agent

        rng = random.Random(seed)
        name = "exploration" if meta_policy == TRAVEL else meta_policy
        path = Path(name) if name.endswith(".py") else meta_policy_path(meta_policies, name, code_seed)
        cls = load_policy_class(path)
        self.agent = scripted_agent(_travel_policy(cls, rng) if meta_policy == TRAVEL else cls, rng)

    def reset(self, obs, info) -> None:
        self.agent.reset(obs, info)

    def act(self, obs, info) -> int:
        return self.agent.act(obs, info)

    @property
    def skill(self) -> str:
        return self.agent.skill


def _scripted_skills(seed: int, meta_policy: str | None = None) -> CollectionPolicy:
    return ScriptedCollectionPolicy(seed, meta_policy or TRAVEL)


# name -> factory(seed, meta_policy=None); meta_policy (a task of rl_baseline/meta_policies or an
# execution.py path) matters only to policies that run a policy over skills.
POLICIES: dict[str, Callable[..., CollectionPolicy]] = {
    "random": lambda seed, meta_policy=None: RandomPolicy(seed),
    "explore": lambda seed, meta_policy=None: ExplorePolicy(seed),
    "scripted_skills": _scripted_skills,
}


def make_policy(spec: str, seed: int = 0, meta_policy: str | None = None, checkpoint_loader: str | None = None,
                **kwargs: Any) -> CollectionPolicy:
    """A registered policy name, or the path of a trained skill-policy checkpoint/experiment dir.

    ``meta_policy``: the policy over skills of ``scripted_skills`` or of a checkpoint (a task name of
    ``rl_baseline/meta_policies`` or the path of an ``execution.py``); None: each one's default.
    ``checkpoint_loader``: ``"module:callable"`` building the policy of a checkpoint path
    (``callable(path, seed=, meta_policy=, **kwargs)``); the entry point injects it
    (``scripts.collect_dataset`` names ``maestromotif.rl.collect_policy:CheckpointPolicy``), so the
    data layer never imports the RL layer.
    """
    if spec in POLICIES:
        return POLICIES[spec](seed, meta_policy=meta_policy)
    if Path(spec).exists():
        if not checkpoint_loader:
            raise UserError("a checkpoint policy needs a loader", path=spec,
                            fix="collect with `python -m scripts.collect_dataset --policy PATH`, or pass "
                                "checkpoint_loader='maestromotif.rl.collect_policy:CheckpointPolicy'")
        module, _, name = checkpoint_loader.partition(":")
        try:
            loader = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as e:
            raise UserError(f"cannot load skill-policy checkpoints here ({e})", path=spec,
                            fix="install the RL dependencies (requirements.txt)") from None
        if meta_policy and not meta_policy.endswith(".py"):
            from maestromotif.skills.interface import meta_policy_path

            meta_policy = str(meta_policy_path("rl_baseline/meta_policies", meta_policy, 42))
        return loader(spec, seed=seed, meta_policy=meta_policy, **kwargs)
    raise UserError(f"unknown collection policy '{spec}'",
                    expected=f"one of {', '.join(POLICIES)} or the path of a skill-policy checkpoint",
                    fix="pass --policy random, explore, scripted_skills or an existing checkpoint path")
