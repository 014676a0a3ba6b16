"""The options framework: call-and-return execution of a policy over skills on a real game.

:class:`OptionsController` owns one ``NetHackPlayer`` (the LLM-written policy over skills, see
:mod:`maestromotif.skills.interface`) per episode and decides, after every environment step, which
skill the skill-conditioned policy runs next::

    ctrl = OptionsController(load_policy_class(path), rng=random.Random(seed))
    skill = ctrl.reset(obs, info)          # new episode: new player, set_initial_values()
    while True:
        obs, reward, term, trunc, info = env.step(policy(obs, skill))
        skill = ctrl.step(obs, info)       # termination? -> perform_task() picks the next skill

What the framework feeds the player (the original MaestroMotif conventions, docs/fidelity.md):

- ``skill_time``: game turns since the running skill started (``skill_time_unit="turns"``, the
  original's unit: one ``wait`` is 25 turns; the episode's first skill counts from turn 0 as in the
  original); ``skill_time_unit="steps"`` counts agent steps instead. A re-selected skill restarts;
- ``previous_depth``: the depth when the running skill started;
- ``branch_depth``: the Dungeons-of-Doom level of the Gnomish Mines entrance, :data:`UNKNOWN_BRANCH`
  (``-2``, the original's value) until known. It becomes known when a DoD level shows two down
  staircases (the fork level) or when the agent walks from the Dungeons of Doom (``dnum`` 0) into
  the Mines (``dnum`` 2);
- the 7x7 tty characters/colours around the agent (the agent's own cell has colour 0), the number
  of droppable items collected this episode and :data:`~maestromotif.skills.interface.COLOR_MAP`
  for ``skill_precondition``; the preconditions list given to ``skill_termination`` is
  ``[worshipper_precondition, merchant_precondition]`` (the original's order, the order
  ``skill_precondition`` returns them in);
- every name the class declares in ``REQUIRED_ATTRIBUTES`` is set on the player before each call,
  computed by :class:`AttributeTracker` (see :data:`~maestromotif.skills.interface.ATTRIBUTES`);
- the original's player hooks, for a class that has them (:data:`HOOKS`): ``update_gold(gold)``,
  ``update_xp_level(xp_level)`` every step, ``defeat_monster()`` once per kill, and
  ``eaten_food = True`` once the agent ate in the Gnomish Mines - called after
  ``skill_precondition`` and before ``skill_termination``, as the original's wrapper does.

LLM-written code is untrusted: it is validated in a subprocess before training starts
(:func:`maestromotif.rl.validate.check_meta_policy`), and at run time a bad answer never stops
training (the original raises a ``KeyError`` on any of these). A skill name that is not one of the
five falls back to ``'discoverer'`` (counted in ``invalid_skill_names``); ``None`` - what a policy
returns when none of its branches applies, e.g. an unexpected ``branch_number`` - falls back to
``'discoverer'`` too and is counted in ``no_skill_returned``; an exception inside
``skill_precondition`` / ``skill_termination`` / ``perform_task`` counts in ``policy_errors`` and
falls back to ``(False, False)`` / ``False`` / ``'discoverer'``. The counters are in
:meth:`OptionsController.stats`, so they show up in TensorBoard.

Randomness: generated policies call the ``random`` module (e.g. ``random.randint(2, 4)`` for the
target depth). When an ``rng`` is given, the controller binds the policy module's global ``random``
to it before each call, so each environment draws from its own seeded stream.
"""

from __future__ import annotations

import random as _random_module
import re
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from nle import nethack as nh

from maestromotif.nethack.obs import BL, DUNGEONS_OF_DOOM, GNOMISH_MINES, OCLASS, message_text
from maestromotif.skills import budget
from maestromotif.skills.interface import ATTRIBUTES, COLOR_MAP, UNKNOWN_BRANCH
from maestromotif.skills.own_job import BEHAVIOURS, did_own_job, zero_counters
from maestromotif.skills.table import SKILL_NAMES

FALLBACK_SKILL = "discoverer"
SKILL_INDEX = {name: i for i, name in enumerate(SKILL_NAMES)}
DOWNSTAIR_GLYPH = nh.GLYPH_CMAP_OFF + 24  # S_dnstair in NetHack 3.6's defsyms
STONE_GLYPH = nh.GLYPH_CMAP_OFF  # S_stone: a map cell never seen
SKILL_TIME_UNITS = ("turns", "steps")
# The original's player hooks: method/attribute name -> what the framework passes (see module docstring).
HOOKS = ("update_gold", "update_xp_level", "defeat_monster", "eaten_food")

# BEHAVIOURS (counted while each skill runs) and the own-job counters live in maestromotif.skills.own_job.

# Messages (NetHack 3.6 wording) behind the counters.
_KILL = re.compile(r"\bYou (kill|destroy)\b|\bis (killed|destroyed)\b")
_SOLD = re.compile(r"\bYou sold\b")
_ALTAR_DROP = re.compile(r"\b(hits?|lands?) (on )?the altar\b")
_PRAY = re.compile(r"\bYou begin praying\b")
_ATE = re.compile(
    r"You finish eating|You finish your meal|This .* (is|was) delicious|tastes? (terrible|okay|delicious)"
    r"|really hits the spot|You stop eating|That .* was bland|Rotten food|Mmm, tripe|Yak - dog food"
    r"|You're having a hard time getting all of it down|You consume")
_NOT_DROPPABLE = (OCLASS["food"], OCLASS["coin"])
HUNGRY = 2  # blstats hunger state: 0 Satiated, 1 Normal, 2 Hungry, 3 Weak, 4 Fainting


def game_state(obs: dict) -> bool:
    """False for the all-zero observation NLE returns once the game is over (depth is never 0 in play)."""
    return int(obs["blstats"][BL.DEPTH]) != 0


def _messages(obs: dict, info: dict) -> list[str]:
    msgs = list(info.get("messages") or ())
    if not msgs and "message" in obs:
        m = message_text(obs["message"])
        if m:
            msgs.append(m)
    return msgs


class AttributeTracker:
    """Computes every attribute of :data:`~maestromotif.skills.interface.ATTRIBUTES` from observations.

    Needs ``blstats``, ``glyphs``, ``inv_letters``, ``inv_oclasses`` (and ``message`` when ``info``
    has no ``messages``). After :meth:`update`, :attr:`events` holds what happened during that step
    (:data:`BEHAVIOURS` counts), used for the per-skill statistics.
    """

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.events: dict[str, int] = dict.fromkeys(BEHAVIOURS, 0)
        self.ate_in_mines = False  # this step: ate something in the Gnomish Mines (the original's hook)
        self._kit = np.full(256, -1, dtype=np.int16)
        self._inv_key, self._inv_count = b"", 0
        self._explored: dict[tuple[int, int], int] = {}
        self._prev_depth = 1
        self._prev_dnum = DUNGEONS_OF_DOOM
        self.branch_depth = UNKNOWN_BRANCH

    # -------------------------------------------------------------- episode
    def reset(self, obs: dict, info: dict | None = None) -> None:
        # _kit[letter] = object class of the starting item with that letter (-1: none)
        self._kit = np.full(256, -1, dtype=np.int16)
        self._inv_key, self._inv_count = b"", 0
        letters = obs["inv_letters"]
        self._kit[letters[letters != 0]] = obs["inv_oclasses"][letters != 0]
        self._explored = {}
        self.branch_depth = UNKNOWN_BRANCH
        self.values = {name: (set(spec.default) if spec.type is set else spec.default)
                       for name, spec in ATTRIBUTES.items()}
        b = obs["blstats"]
        self._prev_depth, self._prev_dnum = int(b[BL.DEPTH]), int(b[BL.DNUM])
        self._observe(obs, [], first=True)
        self.values["steps"] = 0

    def update(self, obs: dict, info: dict) -> dict[str, int]:
        """Fold one step into the attributes; return this step's behaviour events.

        The observation after the game ended is all zeros (no game state): it changes nothing.
        """
        self.values["steps"] += 1
        self.ate_in_mines = False
        if not game_state(obs):
            self.events = dict.fromkeys(BEHAVIOURS, 0)
            return self.events
        return self._observe(obs, _messages(obs, info), first=False, just_eaten=info.get("just_eaten", False))

    # -------------------------------------------------------------- internals
    def _observe(self, obs: dict, messages: Sequence[str], first: bool, just_eaten: bool = False) -> dict[str, int]:
        v, b = self.values, obs["blstats"].tolist()  # python ints: much cheaper to index than numpy
        depth, dnum, hunger = b[BL.DEPTH], b[BL.DNUM], b[BL.HUNGER]
        ev = dict.fromkeys(BEHAVIOURS, 0)
        if not first:
            ev["descents"] = int(depth > self._prev_depth)
            ev["ascents"] = int(depth < self._prev_depth)
            for m in messages:
                ev["kills"] += bool(_KILL.search(m))
                ev["items_sold"] += bool(_SOLD.search(m))
                ev["altar_drops"] += bool(_ALTAR_DROP.search(m))
                ev["prayers"] += bool(_PRAY.search(m))
            # Ate in the Mines: the original's hook flag (confirmed eat prompt, or an eating message);
            # our declared attribute needs hunger first (the flag as it stood before this step).
            ate = dnum == GNOMISH_MINES and (bool(just_eaten) or any(_ATE.search(m) for m in messages))
            self.ate_in_mines = ate
            if ate and v["has_been_hungry"]:
                v["eaten_food"] = True
            # Walked from the Dungeons of Doom into the Mines: the level we left is the fork.
            if (self.branch_depth == UNKNOWN_BRANCH and self._prev_dnum == DUNGEONS_OF_DOOM
                    and dnum == GNOMISH_MINES):
                self.branch_depth = self._prev_depth
        glyphs = obs["glyphs"]
        if self.branch_depth == UNKNOWN_BRANCH and dnum == DUNGEONS_OF_DOOM:
            if np.count_nonzero(glyphs == DOWNSTAIR_GLYPH) > 1:  # the fork level has two '>'
                self.branch_depth = depth
        key = (dnum, b[BL.DLEVEL])
        seen = int(np.count_nonzero(glyphs != STONE_GLYPH))
        if key in self._explored:
            ev["cells_explored"] = max(0, seen - self._explored[key])
        self._explored[key] = max(seen, self._explored.get(key, 0))

        v["experience_level"] = b[BL.XP]
        v["experience_points"] = b[BL.EXP]
        v["gold"] = b[BL.GOLD]
        v["hp"] = b[BL.HP]
        v["max_hp"] = b[BL.HPMAX]
        v["hunger"] = hunger
        v["is_hungry"] = hunger >= HUNGRY
        v["has_been_hungry"] = v["has_been_hungry"] or hunger >= HUNGRY
        v["visited_mines"] = v["visited_mines"] or dnum == GNOMISH_MINES
        v["max_depth_reached"] = max(v["max_depth_reached"], depth)
        v["turn"] = b[BL.TIME]
        v["levels_visited"].add((dnum, depth))
        v["kills"] += ev["kills"]
        v["items_sold"] += ev["items_sold"]
        v["num_items"] = self.num_items(obs)
        self._prev_depth, self._prev_dnum = depth, dnum
        self.events = ev
        return ev

    def num_items(self, obs: dict) -> int:
        """Droppable items carried: collected this episode (not the starting kit), not food or coins."""
        letters, oc = obs["inv_letters"], obs["inv_oclasses"]
        key = letters.tobytes() + oc.tobytes()
        if key == self._inv_key:  # the inventory rarely changes: skip the numpy work
            return self._inv_count
        keep = (letters != 0) & (oc != _NOT_DROPPABLE[0]) & (oc != _NOT_DROPPABLE[1]) & (self._kit[letters] != oc)
        self._inv_key, self._inv_count = key, int(np.count_nonzero(keep))
        return self._inv_count


class OptionsController:
    """Runs a policy over skills (call-and-return) alongside an environment.

    ``policy_cls`` is a ``NetHackPlayer`` class (see :func:`maestromotif.skills.interface.load_policy_class`).
    """

    def __init__(self, policy_cls: type, rng: _random_module.Random | None = None, max_depth: int = -1,
                 branch_depth: int = UNKNOWN_BRANCH, skill_time_unit: str = "turns"):
        if skill_time_unit not in SKILL_TIME_UNITS:
            raise ValueError(f"skill_time_unit must be one of {SKILL_TIME_UNITS}, got {skill_time_unit!r}")
        self.policy_cls = policy_cls
        self.skill_time_unit = skill_time_unit
        self.rng = rng
        self.max_depth = max_depth
        self.initial_branch_depth = branch_depth
        self.call_budget_s = budget.DEFAULT_BUDGET_S  # per call into the policy (maestromotif.skills.budget)
        self.required = tuple(getattr(policy_cls, "REQUIRED_ATTRIBUTES", ()))
        self._module = sys.modules.get(getattr(policy_cls, "__module__", ""), None)
        self.tracker = AttributeTracker()
        self.player: Any = None
        self._skill = FALLBACK_SKILL
        self.skill_time = 0
        self._skill_start = 0  # turn (or step) the running skill started at
        self.previous_depth = 1
        self.preconditions = (False, False)  # (worshipper, merchant), as of the last step
        self._hooks: tuple[str, ...] = ()
        self._stats: dict[str, float] = {}
        self.errors: list[str] = []  # first few error texts, for logs
        self._pad_chars: np.ndarray | None = None
        self._pad_colors: np.ndarray | None = None

    # -------------------------------------------------------------- properties
    @property
    def skill(self) -> str:
        return self._skill

    @property
    def skill_index(self) -> int:
        return SKILL_INDEX[self._skill]

    @property
    def switches(self) -> int:
        """Skill terminations so far this episode (each one started a skill)."""
        return int(self._stats.get("skill_switches", 0))

    @property
    def branch_depth(self) -> int:
        return self.tracker.branch_depth

    # -------------------------------------------------------------- episode API
    def reset(self, obs: dict, info: dict | None = None) -> int:
        """Start an episode: a new player instance, ``set_initial_values()``, the first skill."""
        info = info or {}
        self.tracker.reset(obs, info)
        if self.initial_branch_depth != UNKNOWN_BRANCH:
            self.tracker.branch_depth = self.initial_branch_depth
        # policy_timeouts: calls cut at call_budget_s (also counted in policy_errors)
        self._stats = {"invalid_skill_names": 0, "no_skill_returned": 0, "policy_errors": 0, "policy_timeouts": 0,
                       "skill_switches": 0, **zero_counters()}
        self._bind_rng()
        self.player = self.policy_cls(self.max_depth, self.tracker.branch_depth)
        self._set_attributes()
        self._call("set_initial_values", None)
        # Hooks the class (or its set_initial_values) defines; eaten_food only as a plain attribute.
        self._hooks = tuple(h for h in HOOKS if (callable(getattr(self.player, h, None)) if h != "eaten_food"
                                                 else (hasattr(self.player, h) and h not in self.required)))
        self._start(self._valid(getattr(self.player, "skill", None)), obs)
        # The original starts the first skill's clock at 0 (NetHack's turn counter starts at 1).
        self._skill_start = 0 if self.skill_time_unit == "turns" else self.tracker.values["steps"]
        return self.skill_index

    def step(self, obs: dict, info: dict) -> int:
        """After every env step: update the state, ask for termination, pick the next skill."""
        events = self.tracker.update(obs, info)
        running = self._skill
        st = self._stats
        st[f"{running}_steps"] += 1
        for beh, n in events.items():
            if n:
                st[f"{running}_{beh}"] += n
        if not self._own_job_done and did_own_job(running, events):
            st[f"{running}_own_job"] += 1  # this activation did its job (counted once per activation)
            self._own_job_done = True
        if not game_state(obs):  # the game is over: nothing to decide
            return self.skill_index
        self.skill_time = self._clock() - self._skill_start
        player = self.player
        if self.tracker.branch_depth != UNKNOWN_BRANCH:
            player.branch_depth = self.tracker.branch_depth
        self._bind_rng()
        self._set_attributes()
        b = obs["blstats"]
        depth, dnum = int(b[BL.DEPTH]), int(b[BL.DNUM])
        chars, colors = self._local_view(obs)
        pre = self._call("skill_precondition", (False, False), chars, colors,
                         self.tracker.values["num_items"], COLOR_MAP)
        try:
            worshipper_ok, merchant_ok = bool(pre[0]), bool(pre[1])
        except Exception:  # not a pair
            self._error("skill_precondition", TypeError(f"returned {pre!r}, expected a pair of bools"))
            worshipper_ok = merchant_ok = False
        self.preconditions = (worshipper_ok, merchant_ok)
        if self._hooks:
            self._run_hooks(b, events)
        ended = self._call("skill_termination", False, running, self.skill_time, depth,
                           self.previous_depth, [worshipper_ok, merchant_ok])
        if ended:
            nxt = self._call("perform_task", FALLBACK_SKILL, running, depth, dnum, merchant_ok, worshipper_ok)
            self._start(self._valid(nxt), obs)
            st["skill_switches"] += 1
        return self.skill_index

    def stats(self) -> dict[str, float]:
        """Per-episode counters: ``<skill>_activations``, ``<skill>_steps``, ``<skill>_<behaviour>``
        (:data:`BEHAVIOURS`), ``<skill>_own_job`` (:mod:`maestromotif.skills.own_job`),
        ``skill_switches``, ``invalid_skill_names``, ``no_skill_returned``, ``policy_errors``."""
        return dict(self._stats)

    # -------------------------------------------------------------- internals
    def _local_view(self, obs: dict) -> tuple[np.ndarray, np.ndarray]:
        """7x7 tty characters/colours around the agent (as ``obs.local_view``), agent's colour 0."""
        pad, (rows, cols) = 3, obs["tty_chars"].shape
        if self._pad_chars is None or self._pad_chars.shape != (rows + 2 * pad, cols + 2 * pad):
            self._pad_chars = np.full((rows + 2 * pad, cols + 2 * pad), ord(" "), dtype=np.uint8)
            self._pad_colors = np.zeros((rows + 2 * pad, cols + 2 * pad), dtype=np.int8)
        self._pad_chars[pad:pad + rows, pad:pad + cols] = obs["tty_chars"]
        self._pad_colors[pad:pad + rows, pad:pad + cols] = obs["tty_colors"]
        b = obs["blstats"]
        y, x = int(b[BL.Y]) + 1, int(b[BL.X])  # map rows start on tty row 1; +pad -radius cancel
        chars = self._pad_chars[y:y + 7, x:x + 7].copy()
        colors = self._pad_colors[y:y + 7, x:x + 7].copy()
        colors[3, 3] = 0
        return chars, colors

    def _clock(self) -> int:
        return self.tracker.values["turn"] if self.skill_time_unit == "turns" else self.tracker.values["steps"]

    def _run_hooks(self, blstats, events: dict[str, int]) -> None:
        """The original's hooks (:data:`HOOKS`), each guarded like any other call into the policy."""
        hooks = self._hooks
        if "update_gold" in hooks:
            self._call("update_gold", None, int(blstats[BL.GOLD]))
        if "update_xp_level" in hooks:
            self._call("update_xp_level", None, int(blstats[BL.XP]))
        if "defeat_monster" in hooks:
            for _ in range(events["kills"]):
                self._call("defeat_monster", None)
        if "eaten_food" in hooks and self.tracker.ate_in_mines:
            self.player.eaten_food = True

    def _start(self, skill: str, obs: dict) -> None:
        self._skill = skill
        self.player.skill = skill  # keep the player's view in sync (some generated code reads it)
        self.skill_time = 0
        self._skill_start = self._clock()
        self.previous_depth = int(obs["blstats"][BL.DEPTH])
        self._stats[f"{skill}_activations"] += 1
        self._own_job_done = False

    def _valid(self, name: Any) -> str:
        if isinstance(name, str) and name in SKILL_INDEX:
            return name
        self._stats["no_skill_returned" if name is None else "invalid_skill_names"] += 1
        if len(self.errors) < 5:
            self.errors.append(f"policy over skills returned {name!r}; running '{FALLBACK_SKILL}' instead")
        return FALLBACK_SKILL

    def _call(self, method: str, fallback: Any, *args: Any) -> Any:
        try:  # untrusted code: time-bounded, errors counted, never stops training or evaluation
            return budget.call_with_budget(getattr(self.player, method), self.call_budget_s, *args)
        except budget.PolicyTimeout as e:
            self._stats["policy_timeouts"] += 1
            self._error(method, e)
            return fallback
        except Exception as e:
            self._error(method, e)
            return fallback

    def _error(self, method: str, e: Exception) -> None:
        self._stats["policy_errors"] = self._stats.get("policy_errors", 0) + 1
        if len(self.errors) < 5:
            self.errors.append(f"{method}: {type(e).__name__}: {e}")

    def _set_attributes(self) -> None:
        values, player = self.tracker.values, self.player
        for name in self.required:
            val = values[name]
            setattr(player, name, set(val) if isinstance(val, set) else val)

    def _bind_rng(self) -> None:
        mod = self._module
        if self.rng is not None and mod is not None:
            cur = getattr(mod, "random", None)
            if cur is _random_module or isinstance(cur, _random_module.Random):
                mod.random = self.rng
