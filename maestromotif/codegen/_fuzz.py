"""Validation harness, run INSIDE the sandbox: import a candidate ``execution.py`` and call it a lot.

``_fuzz.py CANDIDATE REPORT '{"episodes": E, "turns": T, "step_episodes": F, "steps": S, "scenario_steps": C,
"seed": N}'``
writes a JSON report (no argparse: it imports ``shutil`` lazily, which the sandbox refuses).

Two simulations, both with random dungeon layouts (``max_depth`` 1-10, Mines branch at 2-4):

- *turn level*, like the paper's unit tests: every turn ``perform_task`` picks a skill and the
  skill's effect is applied at once (down, up; the branch drawn at the Mines fork);
- *step level*, like the options framework: every step ``skill_precondition`` sees a random 7x7 view
  (shopkeepers ``@``, altars ``_``, other glyphs, random colours), ``skill_termination`` is asked
  whether the running skill ends, and ``perform_task`` picks the next one when it does.

A third, scripted check (:func:`interaction_scenarios`) stands the agent next to a shopkeeper, an altar
or both, carrying items, for ``scenario_steps`` real steps on one level: a policy whose running skill
stops more than :data:`SWITCH_LIMIT` times in any 100 steps there fails (e.g. a ``skill_termination`` that
stops every skill for an interaction the task's ``perform_task`` never chooses: the skill then changes
at every step near a shop or an altar).

The random simulations add trapdoors, level teleports and visits to other branches; the Mines entrance is often unknown
at first (``branch_depth`` -2, as the framework passes it) and set on the player once found. Both
before every call set each
attribute the policy declares in ``REQUIRED_ATTRIBUTES`` to a value of its type in
:data:`maestromotif.skills.interface.ATTRIBUTES` (integers random-walk upwards, flags stay set once
set, sets grow). Every return value is checked; the first problem stops the run and is reported
with the call that caused it.
"""

from __future__ import annotations

import json
import random
import signal
import sys
import time
import traceback

import numpy as np

from maestromotif.skills.interface import ATTRIBUTES, COLOR_MAP, UNKNOWN_BRANCH, load_policy_class
from maestromotif.skills.table import SKILL_NAMES

# CPU seconds (not wall time: the machine may be busy with other work)
SLOW_CALL_S = 0.5
STUCK_CALL_S = 3.0  # a call that used this much CPU is interrupted (an endless loop)
SWITCH_LIMIT = 5  # skill stops per 100 steps allowed while standing next to a shop or an altar
_GLYPHS = [ord(c) for c in " .#|-+<>{}%$?!)[=\"*`^0ABdFgGhkoZ:"]


class Problem(Exception):
    pass


class _Stuck(BaseException):  # not an Exception: a policy's `except Exception` cannot swallow it
    pass


def _on_alarm(signum, frame):
    raise _Stuck()


class World:
    """Dungeon position and the declared attributes of one episode."""

    def __init__(self, rng: random.Random, required: tuple[str, ...]):
        self.rng = rng
        self.max_depth = rng.randint(1, 10)
        self.fork = rng.randint(2, 4)  # the Mines entrance; the framework passes UNKNOWN_BRANCH until it is seen
        self.fork_known = rng.random() < 0.7
        self.depth, self.branch = 1, 0
        self.required = required
        self.values = {name: ATTRIBUTES[name].default for name in required}

    @property
    def branch_depth(self) -> int:
        return self.fork if self.fork_known else UNKNOWN_BRANCH

    def update_attributes(self, player) -> None:
        if self.fork_known:  # the framework tells the player once the fork is found
            player.branch_depth = self.fork
        rng = self.rng
        for name in self.required:
            spec, old = ATTRIBUTES[name], self.values[name]
            if spec.type is bool:
                new = True if (old and rng.random() < 0.9) else rng.random() < 0.08
            elif spec.type is int:
                new = max(0, int(old) + rng.choice([-1, 0, 0, 0, 1, 1, 2, 5]))
            elif spec.type in (set, frozenset):
                new = set(old) | {(self.branch, self.depth)}
            else:
                new = spec.default
            self.values[name] = new
            setattr(player, name, new)

    def move(self, skill: str) -> None:
        """Apply a finished skill's effect (turn level) or a step's chance of one (step level)."""
        rng = self.rng
        if skill == "descender":
            from_fork = self.branch == 0 and self.depth == self.fork
            self.depth += 1
            if from_fork:
                self.branch = rng.choice([0, 2])
                self.fork_known = self.fork_known or self.branch == 2 or rng.random() < 0.3
        elif skill == "ascender":
            self.depth -= 1
            if self.branch == 2 and self.depth == self.fork:
                self.branch = 0
            if self.branch == 4 and rng.random() < 0.3:  # leaving Sokoban's top back to the DoD
                self.branch = 0
        r = rng.random()
        if r < 0.02:  # trapdoor / hole
            self.depth += rng.randint(1, 3)
        elif r < 0.03:  # level teleport in the Dungeons of Doom
            self.branch, self.depth = 0, rng.randint(1, 12)
        elif r < 0.035:  # another branch (Sokoban, Quest, Ludios ...)
            self.branch, self.depth = rng.choice([(4, rng.randint(2, 5)), (3, rng.randint(11, 16)),
                                                  (5, rng.randint(12, 20)), (2, rng.randint(3, 13))])


def _boolish(x) -> bool:
    return isinstance(x, bool | np.bool_) or (isinstance(x, int | np.integer) and int(x) in (0, 1))


def _call(stats: dict, name: str, fn, *args):
    t0 = time.process_time()
    signal.setitimer(signal.ITIMER_PROF, STUCK_CALL_S)
    try:
        out = fn(*args)
    except _Stuck:
        raise Problem(f"{name}{_show(args)} was still running after {STUCK_CALL_S:.0f} s of CPU time "
                      "(an endless loop?)") from None
    except Exception as e:
        tb = traceback.format_exception(type(e), e, e.__traceback__)
        raise Problem(f"{name}{_show(args)} raised {type(e).__name__}: {e}\n" + "".join(tb[-6:])) from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    dt = time.process_time() - t0
    stats["calls"][name] = stats["calls"].get(name, 0) + 1
    stats["max_call_ms"] = max(stats["max_call_ms"], dt * 1000)
    if dt > SLOW_CALL_S:
        raise Problem(f"{name}{_show(args)} took {dt:.2f} s of CPU time (limit {SLOW_CALL_S} s per call)")
    return out


def _show(args) -> str:
    parts = []
    for a in args:
        parts.append(f"<{a.shape} {a.dtype} array>" if isinstance(a, np.ndarray) else repr(a))
    return "(" + ", ".join(parts) + ")"


def _check_skill(stats: dict, value, source: str) -> str:
    if not isinstance(value, str) or value not in SKILL_NAMES:
        raise Problem(f"{source} returned {value!r}, expected one of {list(SKILL_NAMES)}")
    stats["chosen"][value] = stats["chosen"].get(value, 0) + 1
    return str(value)


def _new_player(cls, world: World, stats: dict):
    player = _call(stats, "NetHackPlayer", cls, world.max_depth, world.branch_depth)
    world.update_attributes(player)
    _call(stats, "set_initial_values", player.set_initial_values)
    return player, _check_skill(stats, getattr(player, "skill", None), "set_initial_values (player.skill)")


def _view(rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    chars = np.array(rng.choices(_GLYPHS, k=49), dtype=np.uint8).reshape(7, 7)
    colors = np.array([rng.randint(0, 15) for _ in range(49)], dtype=np.int8).reshape(7, 7)
    chars[3, 3], colors[3, 3] = ord("@"), 0  # the agent
    for ch, col, p in (("@", COLOR_MAP["@"], 0.2), ("_", COLOR_MAP["_"], 0.2), ("@", rng.randint(1, 14), 0.1)):
        if rng.random() < p:
            r, c = rng.choice([(r, c) for r in range(7) for c in range(7) if (r, c) != (3, 3)])
            chars[r, c], colors[r, c] = ord(ch), col
    return chars, colors


def turn_level(cls, rng: random.Random, stats: dict, episodes: int, turns: int) -> None:
    required = tuple(getattr(cls, "REQUIRED_ATTRIBUTES", ()))
    for _ in range(episodes):
        world = World(rng, required)
        player, skill = _new_player(cls, world, stats)
        for _ in range(turns):
            world.update_attributes(player)
            m, w = rng.random() < 0.15, rng.random() < 0.15
            skill = _check_skill(stats, _call(stats, "perform_task", player.perform_task, skill, world.depth,
                                              world.branch, m, w), "perform_task")
            world.move(skill)
            if world.depth <= 0:  # climbed out of the dungeon: the game is over
                break


def step_level(cls, rng: random.Random, stats: dict, episodes: int, steps: int) -> None:
    required = tuple(getattr(cls, "REQUIRED_ATTRIBUTES", ()))
    for _ in range(episodes):
        world = World(rng, required)
        player, skill = _new_player(cls, world, stats)
        skill_time, previous_depth = 0, world.depth
        for _ in range(steps):
            world.update_attributes(player)
            chars, colors = _view(rng)
            pre = _call(stats, "skill_precondition", player.skill_precondition, chars, colors, rng.randint(0, 4),
                        dict(COLOR_MAP))
            if not (isinstance(pre, tuple | list) and len(pre) == 2 and all(_boolish(p) for p in pre)):
                raise Problem(f"skill_precondition returned {pre!r}, expected a pair of booleans "
                              "(worshipper_precondition, merchant_precondition)")
            w, m = bool(pre[0]), bool(pre[1])
            stats["preconditions"]["worshipper"] += w
            stats["preconditions"]["merchant"] += m
            term = _call(stats, "skill_termination", player.skill_termination, skill, skill_time, world.depth,
                         previous_depth, [w, m])
            if not _boolish(term):
                raise Problem(f"skill_termination({skill!r}, ...) returned {term!r}, expected True or False")
            if term:
                skill = _check_skill(stats, _call(stats, "perform_task", player.perform_task, skill, world.depth,
                                                  world.branch, m, w), "perform_task")
                skill_time, previous_depth = 0, world.depth
            else:
                skill_time += rng.choice([1, 1, 1, 7, 60, 400])  # jumps reach long time limits quickly
                if rng.random() < 0.1:
                    world.move(skill)
                if world.depth <= 0:
                    break


def _scene_view(scene: str) -> tuple[np.ndarray, np.ndarray]:
    """A lit room floor with the agent in the middle and the scene's partner(s) next to it."""
    chars = np.full((7, 7), ord("."), dtype=np.uint8)
    colors = np.full((7, 7), 7, dtype=np.int8)
    chars[3, 3], colors[3, 3] = ord("@"), 0  # the agent
    if "shopkeeper" in scene:
        chars[2, 3], colors[2, 3] = ord("@"), COLOR_MAP["@"]
    if "altar" in scene:
        chars[3, 4], colors[3, 4] = ord("_"), COLOR_MAP["_"]
    return chars, colors


SCENES = ("a shopkeeper", "an altar", "a shopkeeper and an altar")


def interaction_scenarios(cls, rng: random.Random, stats: dict, steps: int) -> None:
    """Next to a shopkeeper / an altar / both, carrying items, on one level (depth 1-4, Dungeons of Doom
    or Mines), one real step at a time: at most SWITCH_LIMIT skill stops in any 100 steps."""
    required = tuple(getattr(cls, "REQUIRED_ATTRIBUTES", ()))
    for scene in SCENES:
        chars, colors = _scene_view(scene)
        for depth, branch in ((1, 0), (3, 0), (4, 2)):
            world = World(rng, required)
            world.depth, world.branch = depth, branch
            player, skill = _new_player(cls, world, stats)
            skill_time, stops, chosen = 0, [], [skill]
            for t in range(steps):
                world.update_attributes(player)
                pre = _call(stats, "skill_precondition", player.skill_precondition, chars.copy(), colors.copy(), 2,
                            dict(COLOR_MAP))
                w, m = bool(pre[0]), bool(pre[1])
                skill_time += 1
                term = _call(stats, "skill_termination", player.skill_termination, skill, skill_time, depth, depth,
                             [w, m])
                if term:
                    skill = _check_skill(stats, _call(stats, "perform_task", player.perform_task, skill, depth, branch,
                                                      m, w), "perform_task")
                    skill_time = 0
                    stops.append(t)
                    chosen.append(skill)
                recent = [x for x in stops if x > t - 100]
                if len(recent) > SWITCH_LIMIT:
                    shown = " -> ".join(chosen[-8:])
                    raise Problem(
                        f"next to {scene} (carrying items, depth {depth}, branch {branch}) the running skill "
                        f"stopped {len(recent)} times within 100 steps (limit {SWITCH_LIMIT}); skills chosen: "
                        f"... {shown}. skill_termination stops a skill for an interaction (merchant/worshipper "
                        "precondition) that perform_task then does not choose, or the two interactions interrupt "
                        "each other: stop a skill only for an interaction the task uses, and not again after "
                        "perform_task declined it while it stays available.")


def main(argv: list[str] | None = None) -> int:
    candidate, report_path, *rest = sys.argv[1:] if argv is None else argv
    opts = {"episodes": 150, "turns": 30, "step_episodes": 30, "steps": 300, "scenario_steps": 300, "seed": 0}
    opts.update(json.loads(rest[0]) if rest else {})
    stats = {"calls": {}, "chosen": {}, "preconditions": {"worshipper": 0, "merchant": 0}, "max_call_ms": 0.0}
    report = {"ok": False, "problem": None}
    t0 = time.perf_counter()
    signal.signal(signal.SIGPROF, _on_alarm)
    try:
        try:
            cls = load_policy_class(candidate)
        except Exception as e:  # UserError: import failure or interface problems
            raise Problem(str(e)) from None
        rng = random.Random(opts["seed"])
        random.seed(opts["seed"])  # the policy's own random draws
        turn_level(cls, rng, stats, opts["episodes"], opts["turns"])
        step_level(cls, rng, stats, opts["step_episodes"], opts["steps"])
        interaction_scenarios(cls, rng, stats, opts["scenario_steps"])
        report["ok"] = True
    except Problem as e:
        report["problem"] = str(e)
    report.update(stats, seconds=time.perf_counter() - t0)
    with open(report_path, "w", encoding="utf-8") as f:
        json.dump(report, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
