"""Behaviour policies for dataset collection (a registry; a trained checkpoint plugs in by path).

A collection policy sees the same observations and ``info`` as an agent and returns an action index
of :mod:`maestromotif.nethack.actions`:

- ``random``   uniform over the 28 actions (the simplest, most diverse and least competent);
- ``explore``  a small map-reading heuristic: walks to unexplored places, fights what is in the
               way, takes stairs down (and sometimes up), with a random action now and then. It
               reaches more levels, gold, shops and fights than ``random`` does, so the captions
               cover what the five skills care about;
- a path       a trained skill-policy checkpoint (see :func:`make_policy`), run with the training
               policy over skills.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from maestromotif.nethack.actions import ACTION_INDEX, NUM_ACTIONS
from maestromotif.nethack.obs import BL
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


# (dx, dy) -> move action; y grows downwards on the map.
_MOVES = {(0, -1): "move_n", (1, 0): "move_e", (0, 1): "move_s", (-1, 0): "move_w",
          (1, -1): "move_ne", (1, 1): "move_se", (-1, 1): "move_sw", (-1, -1): "move_nw"}
_WALKABLE = set(b".#<>_{}+$?!/%)[=\"*(^")  # floor, corridors, doors, features, items
_OPEN_DOOR = 1000  # remembered marker for an open door ('|'/'-' drawn in brown)
_BLOCKED = 1001  # remembered marker for a cell we failed to enter
_MONSTER = set(range(ord("a"), ord("z") + 1)) | set(range(ord("A"), ord("Z") + 1)) | {ord("@"), ord("&"), ord(":"), ord(";"), ord("'")}


class ExplorePolicy:
    """Map-reading exploration heuristic (see module docstring). Uses only the 28 agent actions."""

    def __init__(self, seed: int = 0, epsilon: float = 0.15, up_prob: float = 0.15, rush_prob: float = 0.5):
        self.rng = random.Random(seed)
        self.epsilon, self.up_prob, self.rush_prob = epsilon, up_prob, rush_prob
        self._rush = False
        self._memory: dict[tuple[int, int], np.ndarray] = {}  # (dnum, depth) -> remembered map chars
        self._visited: dict[tuple[int, int], np.ndarray] = {}  # (dnum, depth) -> cells the hero stood on
        # Random actions exclude prayer (repeated prayers anger the god, who kills the hero) and eating
        # (eating while satiated chokes the hero to death): those are chosen deliberately below.
        self._random_actions = [i for i in range(NUM_ACTIONS) if i not in (ACTION_INDEX["pray"], ACTION_INDEX["eat"])]

    def reset(self, obs, info) -> None:
        self._memory.clear()
        self._visited.clear()
        self._stuck = 0
        self._last_pos = None
        self._last_step = None
        self._path: list[tuple[int, int]] | None = None
        self._plan_age = 0
        self._going_up = False

    def act(self, obs, info) -> int:
        if self.rng.random() < self.epsilon:
            return self.rng.choice(self._random_actions)
        chars = obs["chars"]
        b = obs["blstats"]
        if int(b[BL.HUNGER]) >= 2 and self.rng.random() < 0.2:  # Hungry or worse: eat
            return ACTION_INDEX["eat"]
        if int(b[BL.HP]) * 4 < int(b[BL.HPMAX]) and self.rng.random() < 0.1:  # low HP: pray (rarely)
            return ACTION_INDEX["pray"]
        x, y, depth = int(b[BL.X]), int(b[BL.Y]), int(b[BL.DEPTH])
        key = (int(b[BL.DNUM]), depth)
        mem = self._memory.get(key)
        if mem is None:
            mem = self._memory[key] = np.full(chars.shape, ord(" "), dtype=np.int32)
            self._visited[key] = np.zeros(chars.shape, dtype=bool)
            self._going_up = depth > 1 and self.rng.random() < self.up_prob
            self._rush = self.rng.random() < self.rush_prob  # per level: head for the stairs at once?
        visited = self._visited[key]
        visited[y, x] = True
        seen = (chars != ord(" ")) & (mem != _BLOCKED)
        mem[seen] = chars[seen]
        doors = seen & ((chars == ord("|")) | (chars == ord("-"))) & (obs["colors"] == 3)
        mem[doors] = _OPEN_DOOR
        under = mem[y, x]  # remembered terrain under the hero ('@' hides it)
        mem[y, x] = under if under != ord("@") else ord(".")
        if (x, y) == self._last_pos:
            self._stuck += 1
            if self._last_step is not None and self._stuck >= 3:
                # Moving that way does not work (boulder, locked door, ...): stop planning through it.
                bx, by = x + self._last_step[0], y + self._last_step[1]
                if 0 <= by < mem.shape[0] and 0 <= bx < mem.shape[1]:
                    mem[by, bx] = _BLOCKED
        else:
            self._stuck, self._last_pos = 0, (x, y)
        self._last_step = None
        if self._stuck > 12:  # still stuck: shake loose
            self._stuck = 0
            return self.rng.choice([ACTION_INDEX["kick"], ACTION_INDEX["search"], self.rng.choice(self._random_actions)])
        if under == ord(">") and not self._going_up:
            return ACTION_INDEX["down"]
        if under == ord("<") and self._going_up:
            return ACTION_INDEX["up"]
        # Attack an adjacent monster.
        for (dx, dy), name in _MOVES.items():
            yy, xx = y + dy, x + dx
            if 0 <= yy < chars.shape[0] and 0 <= xx < chars.shape[1] and chars[yy, xx] in _MONSTER:
                return ACTION_INDEX[name]
        target = ord("<") if self._going_up else ord(">")
        # Follow the planned path while the hero is where the plan expects; replan otherwise (BFS in
        # Python is the cost of this policy, so plans are reused for up to 8 steps).
        if self._path and self._path[0] == (x, y) and len(self._path) > 1 and self._plan_age < 8:
            self._plan_age += 1  # arrived where planned: keep following the plan
        else:
            self._path, self._plan_age = self._bfs(mem, visited, x, y, target), 0
        step = None
        if self._path and len(self._path) > 1:
            step = (self._path[1][0] - x, self._path[1][1] - y)
            self._path.pop(0)  # path[0] is now the cell we are stepping to
        if step is None:
            return self.rng.choice([ACTION_INDEX["search"], self.rng.choice(self._random_actions)])
        self._last_step = step
        return ACTION_INDEX[_MOVES[step]]

    def _bfs(self, mem: np.ndarray, visited: np.ndarray, x: int, y: int, target: int
             ) -> list[tuple[int, int]] | None:
        """A shortest path (cells from the hero's) to: gold first, then the staircase ``target`` when rushing (or when
        nothing is left to explore), else the nearest unexplored frontier."""
        h, w = mem.shape
        prev: dict[tuple[int, int], tuple[int, int] | None] = {(x, y): None}
        queue = deque([(x, y)])
        found: dict[str, tuple[int, int]] = {}
        while queue:
            cx, cy = queue.popleft()
            c = mem[cy, cx]
            if (cx, cy) != (x, y):
                if c == ord("$"):
                    found.setdefault("gold", (cx, cy))
                    break
                if c == target:
                    found.setdefault("stairs", (cx, cy))
                if not visited[cy, cx] and self._is_frontier(mem, cx, cy):
                    found.setdefault("frontier", (cx, cy))
            for dx, dy in _MOVES:
                nx, ny = cx + dx, cy + dy
                if not (0 <= nx < w and 0 <= ny < h) or (nx, ny) in prev:
                    continue
                nc = mem[ny, nx]
                if nc in _WALKABLE or nc in _MONSTER or nc == _OPEN_DOOR:
                    # NetHack forbids diagonal moves through doorways.
                    if dx and dy and (nc in (ord("+"), _OPEN_DOOR) or c in (ord("+"), _OPEN_DOOR)):
                        continue
                    prev[(nx, ny)] = (cx, cy)
                    queue.append((nx, ny))
        order = ("gold", "stairs", "frontier") if self._rush else ("gold", "frontier", "stairs")
        dest = next((found[k] for k in order if k in found), None)
        if dest is None:
            return None
        path = [dest]
        while prev[path[-1]] is not None:
            path.append(prev[path[-1]])
        return path[::-1]  # from the hero's cell to the destination

    @staticmethod
    def _is_frontier(mem: np.ndarray, x: int, y: int) -> bool:
        h, w = mem.shape
        for dx, dy in _MOVES:
            nx, ny = x + dx, y + dy
            if 0 <= nx < w and 0 <= ny < h and mem[ny, nx] == ord(" "):
                return True
        return False


POLICIES: dict[str, Callable[[int], CollectionPolicy]] = {
    "random": lambda seed: RandomPolicy(seed),
    "explore": lambda seed: ExplorePolicy(seed),
}


def make_policy(spec: str, seed: int = 0, **kwargs: Any) -> CollectionPolicy:
    """A registered policy name, or the path of a trained skill-policy checkpoint/experiment dir."""
    if spec in POLICIES:
        return POLICIES[spec](seed)
    if Path(spec).exists():
        try:
            from maestromotif.rl.collect_policy import CheckpointPolicy  # lazy: torch + sample-factory
        except ImportError as e:
            raise UserError(f"cannot load skill-policy checkpoints here ({e})", path=spec,
                            fix="install the RL dependencies (requirements.txt)") from None
        return CheckpointPolicy(spec, seed=seed, **kwargs)
    raise UserError(f"unknown collection policy '{spec}'",
                    expected=f"one of {', '.join(POLICIES)} or the path of a skill-policy checkpoint",
                    fix="pass --policy random, --policy explore or an existing checkpoint path")
