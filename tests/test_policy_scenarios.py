"""Shipped policies over skills in scripted step-level scenarios (the options framework's calling pattern)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from maestromotif.skills.interface import load_policy_class, meta_policy_path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "rl_baseline/meta_policies"
TRAVEL_STEPS = 20  # steps a Descender/Ascender needs to reach a known staircase


class ForkWorld:
    """The Dungeons of Doom with the Gnomish Mines fork at ``fork``. On the fork level the Descender
    goes down the staircase nearest to the hero: the wrong one for the task, unless the hero has
    explored the level for ``find_right`` Discoverer steps since it last arrived there (then it has
    found the right one and walked away from the other). Climbing back from the wrong branch puts the
    hero on the wrong staircase again. ``right_branch``: 0 (the main staircase: Delphi) or 2 (Mines)."""

    def __init__(self, fork: int, find_right: int, right_branch: int):
        self.fork, self.find_right, self.right_branch = fork, find_right, right_branch
        self.depth, self.branch, self.explored_here, self.wrong_visits = 1, 0, 0, 0

    def step(self, skill: str, skill_time: int) -> None:
        if skill == "discoverer" and (self.depth, self.branch) == (self.fork, 0):
            self.explored_here += 1
        if skill_time < TRAVEL_STEPS:
            return
        if skill == "descender":
            if (self.depth, self.branch) == (self.fork, 0):
                right = self.explored_here >= self.find_right
                self.branch = self.right_branch if right else 2 - self.right_branch
                self.wrong_visits += not right
            self.depth += 1
            self.explored_here = 0
        elif skill == "ascender" and self.depth > 1:
            self.depth -= 1
            if self.branch == 2 and self.depth == self.fork:
                self.branch = 0
            self.explored_here = 0


# task -> (the branch it needs at the fork, its goal)
GOALS = {
    "delphi": (0, lambda w: w.branch == 0 and w.depth >= 5),
    "gnomish": (2, lambda w: w.branch == 2),
    "minetown": (2, lambda w: w.branch == 2 and w.depth >= w.fork + 3),
}


def run_fork(task: str, find_right: int, steps: int = 10_000, fork: int = 3, path: Path | None = None) -> ForkWorld:
    cls = load_policy_class(path or meta_policy_path(SHIPPED, task, 42))
    right_branch, goal = GOALS[task]
    world = ForkWorld(fork, find_right, right_branch)
    player = cls(10, fork)
    player.set_initial_values()
    skill, skill_time, previous_depth = player.skill, 0, world.depth
    for _ in range(steps):
        skill_time += 1
        world.step(skill, skill_time)
        if goal(world):
            break
        if player.skill_termination(skill, skill_time, world.depth, previous_depth, [False, False]):
            skill = player.perform_task(skill, world.depth, world.branch, False, False)
            skill_time, previous_depth = 0, world.depth
    return world


@pytest.mark.parametrize("task", list(GOALS))
@pytest.mark.parametrize("find_right", [100, 150, 300, 600])
def test_no_bouncing_between_the_fork_and_the_wrong_branch(task, find_right):
    """The right staircase needs more exploring than one Discoverer budget: the policy must explore the
    fork level longer after each wrong descent instead of bouncing there all game (before the fix the
    shipped delphi, gnomish and minetown policies took the wrong staircase ~110 times here and never
    got past the fork)."""
    random.seed(0)
    world = run_fork(task, find_right)
    assert GOALS[task][1](world), vars(world)
    assert world.wrong_visits <= find_right // 50 + 1, vars(world)


# The termination rule every shipped policy had before: any skill stops whenever a shop or an altar
# precondition holds, whether or not the task then chooses that interaction.
_OLD_RULE = '''        if (merchant_ok and skill != "merchant") or (worshipper_ok and skill != "worshipper"):
            return True
'''


def test_validation_rejects_a_policy_that_switches_skill_every_step_next_to_a_shop():
    from maestromotif.codegen.validate import ValidationConfig, validate_source

    code = meta_policy_path(SHIPPED, "gnomish", 42).read_text()
    buggy = _buggy(code)
    cfg = ValidationConfig(episodes=5, step_episodes=2, steps=50)
    report = validate_source(buggy, cfg)
    assert not report.ok
    assert "next to a shopkeeper" in report.problems[0] and "times within 100 steps" in report.problems[0]
    assert validate_source(code, cfg).ok  # the shipped (fixed) policy passes the same check


def _buggy(code: str) -> str:
    start = code.index('        available = {"merchant": merchant_ok')
    end = code.index('        if skill == "descender":', start)
    return code[:start] + _OLD_RULE + code[end:]


def test_real_game_next_to_a_shopkeeper_the_skill_no_longer_changes_every_step(tmp_path):
    """In a real shop (wizard mode), carrying an item, the agent searching in place for 100 steps: the
    shipped gnomish policy keeps its skill; the old termination rule switched skill almost every step."""
    from maestromotif.nethack import wizard
    from maestromotif.nethack.actions import ACTION_INDEX
    from maestromotif.nethack.env import make_env
    from maestromotif.skills.options import OptionsController

    code = meta_policy_path(SHIPPED, "gnomish", 42).read_text()
    (tmp_path / "old.py").write_text(_buggy(code))
    switches = {}
    for name, path in (("fixed", meta_policy_path(SHIPPED, "gnomish", 42)), ("old", tmp_path / "old.py")):
        env = make_env(wizard=True, max_episode_steps=1000)
        try:
            obs, info = env.reset(seed=0)
            ctrl = OptionsController(load_policy_class(path), rng=random.Random(0))
            ctrl.reset(obs, info)  # the starting kit is known now: a wished item counts as collected
            assert wizard.goto_shop(env)
            assert wizard.wish(env, "2 flint stones")
            for _ in range(100):
                obs, _, done, _, info = env.step(ACTION_INDEX["search"])
                ctrl.step(obs, info)
                assert not done
            assert ctrl.preconditions[1], "the shopkeeper should be in view with an item to sell (merchant precondition)"
            switches[name] = ctrl.switches
        finally:
            env.close()
    assert switches["fixed"] <= 2 and switches["old"] >= 50, switches
    print(switches)
