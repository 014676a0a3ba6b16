"""A remembered map of every level the hero has seen, and shortest paths over it.

Shared by the ``explore`` collection policy (:mod:`maestromotif.data.policies`) and the scripted
skill controllers (:mod:`maestromotif.skills.scripted`). Reads only the agent's observations
(``chars``, ``colors``, ``glyphs``, ``blstats``) and messages.

What NetHack's screen does not show, and how the map recovers it:

- **The cell under the hero.** The hero's ``@`` hides it, so the map never copies the hero's cell
  from the screen: it keeps what it remembered there from before the hero stepped on it (a ``>``,
  an altar, ...). A hero that arrives by stairs stands on the opposite staircase; one that lands on
  a cell never seen (a trap door, a teleport) gets floor until a message says otherwise
  ("There is a staircase down here.", "There is an altar to ... here.", shown when the cell also
  holds objects).
- **Open doors** are drawn ``|``/``-`` like walls, but brown: they get their own marker, and paths
  never enter or leave them diagonally (NetHack forbids it).
- **Cells that cannot be entered** (a boulder that does not move, a peaceful monster in the way) are
  blocked for a while by the caller (:meth:`Level.block`), not forever.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from nle import nethack as nh

from maestromotif.nethack.obs import BL

# (dx, dy) -> move action name; y grows downwards on the map.
MOVES: dict[tuple[int, int], str] = {
    (0, -1): "move_n", (1, 0): "move_e", (0, 1): "move_s", (-1, 0): "move_w",
    (1, -1): "move_ne", (1, 1): "move_se", (-1, 1): "move_sw", (-1, -1): "move_nw"}
STEPS = tuple(MOVES)
UNKNOWN = ord(" ")
OPEN_DOOR = 1000  # remembered marker for an open door ('|'/'-' drawn in brown)
CLOSED_DOOR = ord("+")
TRAP = ord("^")
# Floor, corridors, doorways, stairs, altar, fountain, sink/tree ('#'), objects. Not water/lava ('}'),
# boulders ('0', '`'), walls, traps ('^': teleport traps lead into vaults; used only as a last resort).
WALKABLE = frozenset(b".#<>_{+$?!/%)[=\"*(") | {OPEN_DOOR}
OBJECTS = frozenset(b"$?!/%)[=\"*(+")  # object classes ('+' is also a closed door or a spellbook)
_BROWN = 3  # colour of doors
_MONSTER_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz&:;'@")


def _lut(codes) -> np.ndarray:
    """A lookup table over remembered values (chars and markers): ``table[mem]`` is a bool array."""
    table = np.zeros(OPEN_DOOR + 1, dtype=bool)
    table[list(codes)] = True
    return table


_WALK_LUT = _lut(WALKABLE)
# Monsters remembered where they were last seen: passable (moving into one attacks it).
_PASS_LUT = _lut(WALKABLE | _MONSTER_CHARS)
_PASS_TRAPS_LUT = _lut(WALKABLE | _MONSTER_CHARS | {TRAP})
_OBJECT_LUT = _lut(OBJECTS - {CLOSED_DOOR})
_DOOR_LUT = _lut({CLOSED_DOOR, OPEN_DOOR})

# Messages that name the terrain under the hero (NetHack 3.6 look_here / dfeature wording).
_UNDER = (
    (re.compile(r"There is a staircase down here"), ord(">")),
    (re.compile(r"There is a staircase up here"), ord("<")),
    (re.compile(r"There is an altar to .* here"), ord("_")),
    (re.compile(r"There is a fountain here"), ord("{")),
    (re.compile(r"There is an open door here"), OPEN_DOOR),
)


def monster_mask(glyphs: np.ndarray) -> np.ndarray:
    """Cells showing a monster (seen, detected, remembered-invisible or ridden; not statues/corpses)."""
    return (glyphs < nh.GLYPH_BODY_OFF) | ((glyphs >= nh.GLYPH_RIDDEN_OFF) & (glyphs < nh.GLYPH_OBJ_OFF))


def monster_id(glyph: int) -> int:
    """NetHack's permonst index of a monster glyph (-1 for 'remembered, unseen monster')."""
    g = int(glyph)
    if g == nh.GLYPH_INVIS_OFF:
        return -1
    if g >= nh.GLYPH_RIDDEN_OFF:
        return g - nh.GLYPH_RIDDEN_OFF
    return g % nh.GLYPH_PET_OFF if g < nh.GLYPH_INVIS_OFF else g - nh.GLYPH_DETECT_OFF


@dataclass
class Level:
    """What is remembered of one level."""

    mem: np.ndarray                     # int32 chars (UNKNOWN never seen; OPEN_DOOR marker)
    visited: np.ndarray                 # bool: the hero stood there
    searched: np.ndarray                # int: 'search' actions done standing there
    blocked: dict[tuple[int, int], int] = field(default_factory=dict)  # cell -> step it unblocks
    used_stairs: set[tuple[int, int]] = field(default_factory=set)       # staircases taken from here

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> Level:
        return cls(np.full(shape, UNKNOWN, dtype=np.int32), np.zeros(shape, dtype=bool), np.zeros(shape, dtype=np.int32))

    def block(self, cell: tuple[int, int], until: int) -> None:
        self.blocked[cell] = until

    def find(self, char: int) -> list[tuple[int, int]]:
        ys, xs = np.nonzero(self.mem == char)
        return [(int(x), int(y)) for y, x in zip(ys, xs)]


class LevelMap:
    """Per-level memory of the map, updated from every observation (see the module docstring)."""

    def __init__(self) -> None:
        self.levels: dict[tuple[int, int], Level] = {}
        self.key: tuple[int, int] | None = None
        self.pos: tuple[int, int] = (0, 0)
        self.step = 0
        self.arrived = False  # the last update entered a level (new or revisited)

    def reset(self) -> None:
        self.levels.clear()
        self.key, self.pos, self.step, self.arrived = None, (0, 0), 0, False

    @property
    def level(self) -> Level:
        return self.levels[self.key]

    @property
    def under(self) -> int:
        """The remembered terrain (or object) under the hero."""
        x, y = self.pos
        return int(self.level.mem[y, x])

    def update(self, obs: dict, messages: Iterable[str] = (), last_action: str | None = None) -> Level:
        """Fold one observation in. ``last_action``: the action that led here (``"down"``/``"up"`` tell
        which staircase the hero arrived on)."""
        self.step += 1
        b = obs["blstats"]
        x, y = int(b[BL.X]), int(b[BL.Y])
        key = (int(b[BL.DNUM]), int(b[BL.DLEVEL]))
        chars = obs["chars"]
        lvl = self.levels.get(key)
        if lvl is None:
            lvl = self.levels[key] = Level.empty(chars.shape)
        self.arrived = key != self.key
        self.key, self.pos = key, (x, y)
        mem = lvl.mem
        under = int(mem[y, x])  # before the screen overwrites anything
        seen = chars != UNKNOWN
        seen[y, x] = False  # the hero's '@': keep what is remembered under it
        mem[seen] = chars[seen]
        doors = seen & ((chars == ord("|")) | (chars == ord("-"))) & (obs["colors"] == _BROWN)
        mem[doors] = OPEN_DOOR
        if self.arrived and last_action in ("down", "up"):
            under = ord("<") if last_action == "down" else ord(">")
        for m in messages:
            for pattern, char in _UNDER:
                if pattern.search(m):
                    under = char
        if under == UNKNOWN or (under < 256 and chr(under).isalpha()) or under == ord("@"):
            under = ord(".")  # never seen (landed here) or a monster was remembered here
        mem[y, x] = under
        lvl.visited[y, x] = True
        return lvl

    # ------------------------------------------------------------------ paths
    def passable(self, lvl: Level, avoid: np.ndarray | None = None, traps: bool = False) -> np.ndarray:
        """Cells a path may enter (bool, shape of the map)."""
        ok = (_PASS_TRAPS_LUT if traps else _PASS_LUT)[lvl.mem]
        for (cx, cy), until in list(lvl.blocked.items()):
            if until <= self.step:
                del lvl.blocked[(cx, cy)]
            else:
                ok[cy, cx] = False
        if avoid is not None:
            ok &= ~avoid
        return ok

    def path_to(self, goal: np.ndarray, avoid: np.ndarray | None = None) -> list[tuple[int, int]] | None:
        """A shortest path (cells, the hero's first) to the nearest cell where the bool array ``goal``
        holds; None when none is reachable. Paths avoid traps unless there is no other way."""
        for traps in (False, True):
            path = self._bfs(goal, self.passable(self.level, avoid, traps))
            if path is not None:
                return path
        return None

    def _bfs(self, goal: np.ndarray, ok: np.ndarray) -> list[tuple[int, int]] | None:
        """Breadth-first search as a wavefront over whole arrays (one numpy step per distance: ~50x
        faster than a per-cell Python queue). No diagonal step enters or leaves a door."""
        door = _DOOR_LUT[self.level.mem]
        h, w = ok.shape
        x, y = self.pos
        dist = np.full((h, w), -1, dtype=np.int32)
        dist[y, x] = 0
        front = np.zeros((h, w), dtype=bool)
        front[y, x] = True
        reached = front.copy()
        goal = goal & ok
        goal[y, x] = False
        if not goal.any():
            return None
        d = 0
        while True:
            d += 1
            new = np.zeros((h, w), dtype=bool)
            new[1:, :] |= front[:-1, :]
            new[:-1, :] |= front[1:, :]
            new[:, 1:] |= front[:, :-1]
            new[:, :-1] |= front[:, 1:]
            fd = front & ~door
            diag = np.zeros((h, w), dtype=bool)
            diag[1:, 1:] |= fd[:-1, :-1]
            diag[1:, :-1] |= fd[:-1, 1:]
            diag[:-1, 1:] |= fd[1:, :-1]
            diag[:-1, :-1] |= fd[1:, 1:]
            new |= diag & ~door
            new &= ok & ~reached
            if not new.any():
                return None
            dist[new] = d
            reached |= new
            hit = new & goal
            if hit.any():
                gy, gx = (int(v[0]) for v in np.nonzero(hit))
                return self._backtrack(dist, door, gx, gy, d)
            front = new

    @staticmethod
    def _backtrack(dist: np.ndarray, door: np.ndarray, gx: int, gy: int, d: int) -> list[tuple[int, int]]:
        h, w = dist.shape
        path = [(gx, gy)]
        cx, cy = gx, gy
        while d > 0:
            for dx, dy in STEPS:
                nx, ny = cx + dx, cy + dy
                if 0 <= nx < w and 0 <= ny < h and dist[ny, nx] == d - 1 and not (dx and dy and (door[cy, cx] or door[ny, nx])):
                    cx, cy, d = nx, ny, d - 1
                    path.append((cx, cy))
                    break
            else:  # cannot happen: every cell at distance d has a neighbour at d-1
                raise RuntimeError("broken distance field")
        return path[::-1]

    # ------------------------------------------------------------------ what to look for
    def frontier(self) -> np.ndarray:
        """Walkable cells not stood on, next to a never-seen cell: where exploring goes next."""
        lvl = self.level
        unknown = lvl.mem == UNKNOWN
        near = np.zeros_like(unknown)
        h, w = unknown.shape
        for dx, dy in STEPS:
            near[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)] |= \
                unknown[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)]
        return near & ~lvl.visited & _WALK_LUT[lvl.mem]

    def search_spots(self, per_spot: int = 12) -> np.ndarray:
        """Walkable cells with unseen space within two cells (dead ends, cells along a room's wall with
        nothing known behind it), not yet searched ``per_spot`` times: where hidden passages are
        looked for."""
        lvl = self.level
        unknown = (lvl.mem == UNKNOWN).astype(np.int32)
        h, w = unknown.shape
        count = np.zeros((h, w), dtype=np.int32)
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                count[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)] += \
                    unknown[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)]
        return _WALK_LUT[lvl.mem] & (count >= 3) & (lvl.searched < per_spot)

    def unvisited_objects(self) -> np.ndarray:
        """Object cells never stood on: a staircase or altar may lie under an object."""
        lvl = self.level
        return _OBJECT_LUT[lvl.mem] & ~lvl.visited


def step_action(path: list[tuple[int, int]]) -> str:
    """The move action that takes the first step of ``path``."""
    (x0, y0), (x1, y1) = path[0], path[1]
    return MOVES[(x1 - x0, y1 - y0)]
