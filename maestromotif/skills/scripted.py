"""Scripted skills: one hand-written controller per skill, run by the task's policy over skills.

The ``scripted_skills`` agent is the hierarchy with its learned part replaced: the task's policy over
skills (``execution.py``) chooses skills through the options framework
(:class:`~maestromotif.skills.options.OptionsController`) exactly as for the trained agent, and each
skill is executed by a map-reading controller of :data:`CONTROLLERS` instead of the neural policy. It
measures what the policies over skills and the detectors can reach with competent skills (a ceiling),
and :class:`maestromotif.data.policies.ScriptedCollectionPolicy` collects datasets rich in skill events.

Each step, in this order (:meth:`ScriptedSkillsAgent.act`):

1. **Questions** the environment leaves open (:meth:`World.answer`): sell -> yes; "Really attack?"
   -> no (and the peaceful monster is avoided for a while); floor food -> only lichen/lizard corpses;
   an eat/drink item prompt -> yes (confirms the first offered item) when we asked for it, else
   dismissed; direction -> the locked door we want to kick; pray -> yes. Written so that it works
   whether ``eat`` eats at once (macro) or opens the "What do you want to eat?" prompt that a
   following ``y`` confirms.
2. **Survival habits** (:func:`survival`): pray when in trouble (HP below 1/7 or under 5, or Weak
   from hunger) and the prayer timeout has surely run out (first prayer after turn 300, then 1,000
   turns apart); eat when Hungry unless the item the eat prompt would offer first is a corpse that
   rots or an egg (see docs/scripted_skills.md); rest (the 25-turn ``wait``) when HP is below half and
   no monster is in view.
3. **The running skill's controller** (:data:`CONTROLLERS`).

Map knowledge comes from :class:`~maestromotif.skills.levelmap.LevelMap` (what is under the hero,
open doors, shortest paths, frontiers).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from nle import nethack as nh

from maestromotif.nethack.actions import ACTION_INDEX, ACTION_NAMES
from maestromotif.nethack.obs import BL, OCLASS, message_text
from maestromotif.skills.levelmap import MOVES, LevelMap, monster_id, monster_mask, step_action

A = ACTION_INDEX
YES, NO = A["move_nw"], A["move_se"]  # vi-keys: 'y' is the NW key, 'n' the SE key
HUNGRY, WEAK = 2, 3
FIRST_PRAYER_TURN = 300  # the prayer timeout starts at 300 (NetHack 3.6 u_init.c)
PRAYER_GAP = 1000  # a successful prayer resets the timeout to rnz(350): wait well past it
FAINTING, FAINTING_GAP = 4, 200  # Fainting: death by starvation is near, pray even if it may be too soon
# Monsters a barehanded Monk must not hit: touching a cockatrice stones, a floating eye paralyses,
# a gas spore explodes, molds and jellies burn/freeze/corrode whoever hits them.
# The first ones never (death); the others only to clear the way when healthy (their passive damage or
# explosion hurts but rarely kills a healthy hero).
_NEVER_MELEE = frozenset(i for i in range(nh.NUMMONS) if nh.permonst(i).mname in (
    "cockatrice", "chickatrice", "floating eye"))
_NO_MELEE = _NEVER_MELEE | frozenset(i for i in range(nh.NUMMONS) if any(k in nh.permonst(i).mname for k in (
    "gas spore", " mold", "blue jelly", "spotted jelly", "ochre jelly", "acid blob")))
_COLLECTED_NOT_DROPPED = (OCLASS["food"], OCLASS["coin"])  # the drop macro drops neither
_MOVE_DIR = {name: d for d, name in MOVES.items()}
_PEACEFUL_HUMANS = frozenset(i for i in range(nh.NUMMONS) if nh.permonst(i).mname in (
    "shopkeeper", "aligned priest", "high priest", "watchman", "watch captain", "Oracle", "guard", "prisoner"))
_SHOPKEEPER_GLYPH = nh.GLYPH_MON_OFF + next(i for i in range(nh.NUMMONS) if nh.permonst(i).mname == "shopkeeper")

# Messages (NetHack 3.6 wording).
_SHOP_WELCOME = re.compile(r"Welcome (?:again )?to \w[\w' -]*'s ")
_LOCKED = "This door is locked"
_VAULT = re.compile(r"Hello stranger, who are you\?|drop that gold and follow me|Suddenly one of the Vault's guards")
_SAFE_FLOOR_FOOD = ("lichen corpse", "lizard corpse")


def unsafe_food(text: str) -> bool:
    """A carried food item that can kill when eaten later: corpses other than lichen and lizard rot
    (tainted meat: fatal food poisoning); an egg may be a cockatrice's (stoning)."""
    t = text.lower()
    if "corpse" in t:
        return not any(s in t for s in _SAFE_FLOOR_FOOD)
    return bool(re.search(r"\beggs?\b|\bglobs? of\b", t))


# ------------------------------------------------------------------------------------ state
class World:
    """What the controllers share during one episode: the map, the inventory, habits' timers."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.map = LevelMap()

    def reset(self, obs: dict, info: dict | None = None) -> None:
        self.map.reset()
        self.kit = {(int(c), int(o)) for c, o in zip(obs["inv_letters"], obs["inv_oclasses"]) if c}
        self.last_action: str | None = None
        self.last_prayer = -PRAYER_GAP + FIRST_PRAYER_TURN
        self.want_eat = self.want_drink = False
        self.last_eat_turn = -100
        self.kick_dir: str | None = None
        self.path: list[tuple[int, int]] | None = None
        self.path_goal: str | None = None
        self.unreachable: dict[str, tuple[tuple[int, int] | None, int]] = {}  # goal -> (level, retry step)
        self.stuck = 0
        self.prev_pos: tuple[int, int] | None = None
        self.shop_door: tuple[tuple[int, int], tuple[int, int]] | None = None  # (level key, door cell)
        self.shop_sign: tuple[tuple[int, int], tuple[int, int]] | None = None  # where "Closed for inventory" is written
        self.shopkeepers: dict[tuple[int, int], np.ndarray] = {}  # level -> cells a shopkeeper was seen on
        self.stats: dict[str, float] = {"prayers": 0, "meals": 0, "declined_unsafe_food": 0, "vault_guard": 0,
                                        "rests": 0, "kicks": 0, "potions": 0}
        self.update(obs, info or {})

    def update(self, obs: dict, info: dict) -> None:
        self.obs = obs
        self.msgs = list(info.get("messages") or ()) or [m for m in (message_text(obs["message"]),) if m]
        self.msg = message_text(obs["message"])
        b = obs["blstats"]
        self.turn, self.hp, self.hpmax = int(b[BL.TIME]), int(b[BL.HP]), int(b[BL.HPMAX])
        self.hunger, self.depth = int(b[BL.HUNGER]), int(b[BL.DEPTH])
        prev_key = self.map.key
        self.lvl = self.map.update(obs, self.msgs, self.last_action)
        if self.map.key != prev_key:
            self.path = None
        pos = self.map.pos
        if self.prev_pos == pos and self.last_action in _MOVE_DIR and not any("door" in m for m in self.msgs):
            self.stuck += 1  # a door that resists or opens is progress
        else:
            self.stuck = 0
        self.prev_pos = pos
        glyphs = obs["glyphs"]
        self.monsters = monster_mask(glyphs)
        self.monsters[pos[1], pos[0]] = False
        keepers = self.monsters & (glyphs == _SHOPKEEPER_GLYPH)
        if keepers.any():  # remembered per level: the merchant walks back to where shopkeepers stand
            self.shopkeepers.setdefault(self.map.key, np.zeros(keepers.shape, dtype=bool))[keepers] = True
        for m in self.msgs:
            if _VAULT.search(m):
                self.stats["vault_guard"] = 1
            if _SHOP_WELCOME.search(m):
                self.shop_door = (self.map.key, pos)
            if "Closed for inventory" in m:
                self.shop_sign = (self.map.key, pos)

    # ------------------------------------------------------------------ helpers
    @property
    def pos(self) -> tuple[int, int]:
        return self.map.pos

    def droppable(self) -> bool:
        obs = self.obs
        return any(c and o not in _COLLECTED_NOT_DROPPED and (int(c), int(o)) not in self.kit
                   for c, o in zip(obs["inv_letters"], obs["inv_oclasses"]))

    def first_item(self, oclass: str) -> str | None:
        """The inventory text of the item of ``oclass`` ("food", "potion") that the eat/quaff prompt
        offers first (None: none carried)."""
        obs = self.obs
        for c, o, s in zip(obs["inv_letters"], obs["inv_oclasses"], obs["inv_strs"]):
            if c and o == OCLASS[oclass]:
                return message_text(s)
        return None

    def food_text(self, letter: str) -> str | None:
        obs = self.obs
        for c, s in zip(obs["inv_letters"], obs["inv_strs"]):
            if c and chr(int(c)) == letter:
                return message_text(s)
        return None

    def adjacent_monsters(self) -> list[tuple[int, int, int]]:
        """(dx, dy, permonst index) of monsters next to the hero."""
        x, y = self.pos
        out = []
        h, w = self.monsters.shape
        for dx, dy in MOVES:
            nx, ny = x + dx, y + dy
            if 0 <= nx < w and 0 <= ny < h and self.monsters[ny, nx]:
                out.append((dx, dy, monster_id(self.obs["glyphs"][ny, nx])))
        return out

    def monster_in_view(self, radius: int = 6) -> bool:
        x, y = self.pos
        return bool(self.monsters[max(0, y - radius):y + radius + 1, max(0, x - radius):x + radius + 1].any())

    def danger(self, never: frozenset[int] = _NO_MELEE) -> np.ndarray:
        """Cells a path must not enter: monsters of ``never`` (they are harmless unless touched)."""
        avoid = np.zeros(self.monsters.shape, dtype=bool)
        ys, xs = np.nonzero(self.monsters)
        glyphs = self.obs["glyphs"]
        for y, x in zip(ys, xs):
            if monster_id(glyphs[y, x]) in never:
                avoid[y, x] = True
        return avoid

    def healthy(self) -> bool:
        return self.hp * 3 >= self.hpmax * 2

    # ------------------------------------------------------------------ moving
    def go(self, name: str, goal: np.ndarray, replan_every: int = 10) -> int | None:
        """One step along a shortest path to the nearest ``goal`` cell (a plan named ``name`` is reused
        while the hero follows it); None when no goal cell is reachable (not asked again for a few
        steps on this level: a failed search floods the whole level)."""
        x, y = self.pos
        p = self.path
        if not (p and self.path_goal == name and p[0] == (x, y) and len(p) > 1 and self.plan_age < replan_every):
            key, until = self.unreachable.get(name, (None, 0))
            if key == self.map.key and self.map.step < until:
                return None
            p = self.map.path_to(goal, avoid=self.danger())
            if p is None and self.healthy():  # walled in by a mold or a blob: hit it rather than wait
                p = self.map.path_to(goal, avoid=self.danger(_NEVER_MELEE))
            self.path, self.path_goal, self.plan_age = p, name, 0
            if p is None:
                self.unreachable[name] = (self.map.key, self.map.step + 8)
                return None
        self.plan_age += 1
        nx, ny = p[1]
        if any(_LOCKED in m for m in self.msgs) and self.lvl.mem[ny, nx] == ord("+"):
            if self.shop_sign == (self.map.key, (x, y)):
                # A shop "Closed for inventory": its shopkeeper kills whoever breaks the door.
                self.lvl.block((nx, ny), 10**9)
                self.path = None
                return A["search"]
            self.kick_dir = step_action(p)  # answers "In what direction?"
            self.stats["kicks"] += 1
            return A["kick"]
        if self.monsters[ny, nx] and monster_id(self.obs["glyphs"][ny, nx]) in (
                _NO_MELEE if not self.healthy() else _NEVER_MELEE):
            self.path = None
            return A["search"]  # let it move away
        if self.stuck >= 3 and not self.monsters[ny, nx]:
            # The step does not work (boulder, locked door, ...): avoid that cell for a while.
            self.lvl.block((nx, ny), self.map.step + 200)
            self.path, self.stuck = None, 0
            return A["search"]
        self.path = p[1:]
        return A[step_action(p)]


# ------------------------------------------------------------------------------------ questions
def answer(w: World) -> int | None:
    """The answer to a question the environment left open (None when there is none)."""
    msg = w.msg
    if not msg.rstrip().endswith(("]", "?", ") ", ")")):
        return None
    if "Sell it?" in msg or "sell it" in msg.lower() and "[yn" in msg:
        return YES
    if "Really attack" in msg:
        x, y = w.pos
        if w.last_action in _MOVE_DIR:
            dx, dy = _MOVE_DIR[w.last_action]
            w.lvl.block((x + dx, y + dy), w.map.step + 30)  # a peaceful monster: go around it
        w.path = None
        return NO
    if "What do you want to eat" in msg or "What do you want to drink" in msg:
        m = re.search(r"\[([a-zA-Z])", msg)
        item = (w.food_text(m.group(1)) or "") if m else ""
        ok = (w.want_eat and "eat" in msg and not unsafe_food(item)) or (w.want_drink and "healing" in item)
        w.want_eat = w.want_drink = False
        return YES if ok else A["more"]
    if "eat it?" in msg or "eat one?" in msg:  # food on the floor
        return YES if any(s in msg for s in _SAFE_FLOOR_FOOD) and w.hunger >= HUNGRY else NO
    if "Continue eating" in msg:
        return NO if w.adjacent_monsters() else YES
    if "direction?" in msg:
        d = w.kick_dir or w.rng.choice(list(MOVES.values()))
        w.kick_dir = None
        return A[d]
    if "pray" in msg:
        return YES
    if "Drink from the" in msg or "drink" in msg:
        return NO
    return None


# ------------------------------------------------------------------------------------ habits
def survival(w: World) -> int | None:
    """Pray when in trouble and allowed, eat when Hungry, rest when hurt and alone (None: nothing to do)."""
    trouble = w.hp < 5 or w.hp * 7 < w.hpmax or w.hunger >= WEAK
    if w.hp * 3 < w.hpmax and w.adjacent_monsters() and "healing" in (w.first_item("potion") or ""):
        w.want_drink = True  # the Monk's starting potions of healing, while they are the first offered
        w.stats["potions"] += 1
        return A["quaff"]
    fainting = w.hunger >= FAINTING and w.turn - w.last_prayer >= FAINTING_GAP  # starving anyway: try
    if (trouble and w.turn - w.last_prayer >= PRAYER_GAP) or fainting:
        w.last_prayer = w.turn
        w.stats["prayers"] += 1
        return A["pray"]
    if w.hunger >= HUNGRY and not w.adjacent_monsters():
        food = w.first_item("food")
        if food is not None:
            if unsafe_food(food):
                w.stats["declined_unsafe_food"] += 1
            elif w.turn - w.last_eat_turn >= 10:  # an eat that did nothing is not retried at once
                w.want_eat, w.last_eat_turn = True, w.turn
                w.stats["meals"] += 1
                return A["eat"]
    if w.hp * 2 < w.hpmax and not w.monster_in_view() and w.hunger < WEAK:
        w.stats["rests"] += 1
        return A["wait"]
    return None


def fight(w: World) -> int | None:
    """Hit an adjacent monster (not one that must not be touched, not a peaceful one we avoid)."""
    x, y = w.pos
    for dx, dy, mid in w.adjacent_monsters():
        if mid in _NO_MELEE or (x + dx, y + dy) in w.lvl.blocked:
            continue
        if mid in _PEACEFUL_HUMANS:
            continue  # shopkeepers, priests, the watch, the Oracle: attacking them is deadly
        if dx and dy and (w.lvl.mem[y, x] in (ord("+"), 1000) or w.lvl.mem[y + dy, x + dx] in (ord("+"), 1000)):
            continue  # cannot attack diagonally out of/into a doorway
        return A[MOVES[(dx, dy)]]
    return None


def explore(w: World) -> int | None:
    """Gold first, then the nearest frontier, then unvisited objects, then searching for hidden passages."""
    lvl = w.lvl
    gold = lvl.mem == ord("$")
    if gold.any():
        a = w.go("gold", gold)
        if a is not None:
            return a
    a = w.go("frontier", w.map.frontier())
    if a is not None:
        return a
    a = w.go("objects", w.map.unvisited_objects())
    if a is not None:
        return a
    return search_hidden(w)


def search_hidden(w: World) -> int:
    x, y = w.pos
    spots = w.map.search_spots()
    if spots[y, x]:
        w.lvl.searched[max(0, y - 1):y + 2, max(0, x - 1):x + 2] += 1  # a search covers the 8 neighbours too
        return A["search"]
    a = w.go("search", spots)
    if a is not None:
        return a
    w.lvl.searched[:] = 0  # searched everywhere once: start another round
    return A["search"]


# ------------------------------------------------------------------------------------ skills
class Discoverer:
    """Explores the level: fights, picks up gold, walks to frontiers, searches when nothing is left."""

    def act(self, w: World) -> int:
        a = fight(w)
        return explore(w) if a is None else a


@dataclass
class Stairs:
    """Descender/ascender: walk to a staircase ``char`` (exploring to find one) and take it with
    ``action``; prefers a staircase not taken before from this level (the Mines fork has two '>')."""

    char: str
    action: str

    def act(self, w: World) -> int:
        a = fight(w)
        if a is not None:
            return a
        c = ord(self.char)
        if w.last_action == self.action and not w.map.arrived:  # still here: it was no staircase
            x, y = w.pos
            w.lvl.mem[y, x] = ord(".")
        if w.map.under == c:
            # On level 1, '<' asks "Still climb?", which the environment declines: the hero stays, and
            # the question is what "try to quit NetHack" (Golden Exit) asks for.
            w.lvl.used_stairs.add(w.pos)
            return A[self.action]
        stairs = [s for s in w.lvl.find(c) if s != w.pos]
        fresh = [s for s in stairs if s not in w.lvl.used_stairs] or stairs
        if fresh:
            goal = np.zeros(w.lvl.mem.shape, dtype=bool)
            for sx, sy in fresh:
                goal[sy, sx] = True
            a = w.go(self.char, goal)
            if a is not None:
                return a
        return explore(w)


class Worshipper:
    """Walks to an altar and drops the items collected this episode on it (their B/U/C shows)."""

    def act(self, w: World) -> int:
        a = fight(w)
        if a is not None:
            return a
        if w.map.under == ord("_") and w.droppable():
            return A["drop"]
        altars = w.lvl.mem == ord("_")
        if altars.any() and w.droppable():
            x, y = w.pos
            altars[y, x] = False
            a = w.go("altar", altars)
            if a is not None:
                return a
        return explore(w)


class Merchant:
    """Enters a shop (past the shopkeeper, two cells in from the door) and sells collected items."""

    def act(self, w: World) -> int:
        a = fight(w)
        if a is not None:
            return a
        x, y = w.pos
        if w.shop_door and w.shop_door[0] == w.map.key and w.droppable():
            inside = self._inside(w, w.shop_door[1])
            if inside[y, x]:
                return A["drop"]
            a = w.go("shop", inside)
            if a is not None:
                return a
        if w.droppable():
            keepers = self._shopkeepers(w)
            if keepers.any():
                a = w.go("shopkeeper", keepers)
                if a is not None:
                    return a
        return explore(w)

    @staticmethod
    def _shopkeepers(w: World) -> np.ndarray:
        """Cells next to where a shopkeeper was seen on this level (the shop's door is there)."""
        keeper = w.shopkeepers.get(w.map.key)
        if keeper is None:
            return np.zeros(w.lvl.mem.shape, dtype=bool)
        near = np.zeros_like(keeper)
        ys, xs = np.nonzero(keeper)
        h, ww = keeper.shape
        for y, x in zip(ys, xs):
            near[max(0, y - 1):min(h, y + 2), max(0, x - 1):min(ww, x + 2)] = True
            near[y, x] = False
        return near

    @staticmethod
    def _inside(w: World, door: tuple[int, int]) -> np.ndarray:
        """Shop floor two or more cells from the door (the shopkeeper's spot next to it buys nothing)."""
        dx, dy = door
        h, ww = w.lvl.mem.shape
        ys, xs = np.mgrid[0:h, 0:ww]
        far = np.maximum(abs(xs - dx), abs(ys - dy))
        floorish = np.isin(w.lvl.mem, [ord(c) for c in ".$?!/%)[=\"*(`"])
        return floorish & (far >= 2) & (far <= 3)



# One controller per skill (the skill names of maestromotif.skills.table).
CONTROLLERS: dict[str, Any] = {
    "discoverer": Discoverer(),
    "descender": Stairs(">", "down"),
    "ascender": Stairs("<", "up"),
    "worshipper": Worshipper(),
    "merchant": Merchant(),
}


def act_skill(w: World, skill: str) -> int:
    """One action: answer an open question, else a survival habit, else the skill's controller."""
    a = answer(w)
    if a is None:
        a = survival(w)
    if a is None:
        a = CONTROLLERS[skill].act(w)
    w.last_action = ACTION_NAMES[a]
    return a


# ------------------------------------------------------------------------------------ agents
class ScriptedSkillsAgent:
    """The task's policy over skills (options framework) with each skill run by its controller.

    Follows the evaluation's :class:`~maestromotif.eval.agents.Agent` protocol and the collection
    policies' protocol (``reset`` / ``act``).
    """

    def __init__(self, controller: Any, rng: random.Random, name: str = "scripted_skills"):
        self.name = name
        self.controller = controller
        self.world = World(rng)
        self._fresh = True

    def reset(self, obs, info) -> None:
        self.controller.reset(obs, info)
        self.world.reset(obs, info)
        self._fresh = True

    def act(self, obs, info) -> int:
        if self._fresh:
            self._fresh = False
        else:
            self.controller.step(obs, info)
            self.world.update(obs, info)
        return act_skill(self.world, self.controller.skill)

    @property
    def skill(self) -> str:
        return self.controller.skill

    def stats(self) -> dict[str, float]:
        out = dict(self.controller.stats())
        out.update({f"scripted_{k}": v for k, v in self.world.stats.items()})
        return out


def scripted_agent(policy_cls: type, rng: random.Random, name: str = "scripted_skills") -> ScriptedSkillsAgent:
    """A :class:`ScriptedSkillsAgent` running ``policy_cls`` (a task's ``NetHackPlayer``)."""
    from maestromotif.skills.options import OptionsController

    return ScriptedSkillsAgent(OptionsController(policy_cls, rng=rng), rng, name)
