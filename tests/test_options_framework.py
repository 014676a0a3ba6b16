"""The options framework (call-and-return) on the real game, and its attribute tracker."""

from __future__ import annotations

import random
import textwrap

import numpy as np
import pytest

from maestromotif.nethack import wizard
from maestromotif.nethack.actions import ACTION_INDEX
from maestromotif.nethack.env import make_env
from maestromotif.nethack.obs import BL, GNOMISH_MINES
from maestromotif.skills.interface import ATTRIBUTES, load_policy_class
from maestromotif.skills.options import (
    DOWNSTAIR_GLYPH,
    STONE_GLYPH,
    AttributeTracker,
    OptionsController,
)

# A policy over skills that follows a fixed plan and records what the framework passes it.
SCRIPTED_POLICY = textwrap.dedent('''
    import random

    class NetHackPlayer:
        REQUIRED_ATTRIBUTES = ("gold", "max_depth_reached", "kills", "levels_visited", "num_items")

        def __init__(self, max_depth, branch_depth):
            self.max_depth = max_depth
            self.branch_depth = branch_depth
            self.calls = []

        def set_initial_values(self):
            self.skill = "discoverer"
            self.draw = random.randint(0, 10**9)
            self.plan = ["descender", "discoverer", "ascender", "bogus", "merchant"]

        def skill_precondition(self, char_ascii_encodings, char_ascii_colors, num_items, color_map):
            self.view = (int(char_ascii_encodings[3, 3]), int(char_ascii_colors[3, 3]),
                         char_ascii_encodings.shape, num_items, dict(color_map))
            return False, False

        def skill_termination(self, skill, skill_time, current_depth, previous_depth, preconditions):
            self.calls.append((skill, skill_time, current_depth, previous_depth, list(preconditions)))
            if skill == "discoverer":
                return skill_time >= 3
            if skill == "descender":
                return current_depth > previous_depth
            if skill == "ascender":
                return current_depth < previous_depth
            raise RuntimeError("merchant termination is broken")

        def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition,
                         worshipper_precondition):
            return self.plan.pop(0) if self.plan else "discoverer"
''')


@pytest.fixture(scope="module")
def policy_cls(tmp_path_factory):
    path = tmp_path_factory.mktemp("policy") / "execution.py"
    path.write_text(SCRIPTED_POLICY)
    return load_policy_class(path)


@pytest.fixture(scope="module")
def wiz():
    env = make_env(wizard=True)
    yield env
    env.close()


def _step(env, ctrl, name):
    obs, _, _, _, info = env.step(ACTION_INDEX[name])
    return ctrl.step(obs, info), obs


def test_skills_terminate_and_switch_as_the_policy_says(wiz, policy_cls):
    obs, info = wiz.reset(seed=3)
    ctrl = OptionsController(policy_cls, rng=random.Random(0), skill_time_unit="steps")
    assert ctrl.reset(obs, info) == 0 and ctrl.skill == "discoverer"
    # discoverer ends after 3 steps; the plan then runs the descender
    for expected in ("discoverer", "discoverer", "descender"):
        idx, _ = _step(wiz, ctrl, "search")
        assert ctrl.skill == expected and idx == ctrl.skill_index
    assert [c[1] for c in ctrl.player.calls] == [1, 2, 3]  # skill_time counts agent steps
    assert ctrl.player.calls[0][4] == [False, False]
    char, colour, shape, num_items, cmap = ctrl.player.view
    assert (char, colour, shape, num_items) == (ord("@"), 0, (7, 7), 0) and cmap == {"@": 15, "_": 7}
    # the descender runs until the depth increases, then the plan says discoverer
    assert wizard.stand_on(wiz, ">")
    idx, obs = _step(wiz, ctrl, "search")
    assert ctrl.skill == "descender"
    idx, obs = _step(wiz, ctrl, "down")
    assert int(obs["blstats"][BL.DEPTH]) == 2 and ctrl.skill == "discoverer" and ctrl.previous_depth == 2
    skill, _, depth, previous, _ = ctrl.player.calls[-1]
    assert (skill, depth, previous) == ("descender", 2, 1)
    assert ctrl.player.max_depth_reached == 2 and (0, 2) in ctrl.player.levels_visited
    for _ in range(3):
        _step(wiz, ctrl, "search")
    assert ctrl.skill == "ascender"
    idx, obs = _step(wiz, ctrl, "up")  # we arrived on the up staircase
    assert int(obs["blstats"][BL.DEPTH]) == 1
    # the plan returns "bogus": counted, and the discoverer runs instead
    assert ctrl.skill == "discoverer"
    for _ in range(3):
        _step(wiz, ctrl, "search")
    assert ctrl.skill == "merchant"
    _step(wiz, ctrl, "search")  # its termination raises: counted, training goes on
    assert ctrl.skill == "merchant"
    st = ctrl.stats()
    assert st["invalid_skill_names"] == 1 and st["policy_errors"] == 1
    assert st["descender_activations"] == 1 and st["descender_descents"] == 1 and st["descender_steps"] == 2
    assert st["ascender_activations"] == 1 and st["ascender_ascents"] == 1
    assert st["discoverer_activations"] == 3 and st["merchant_activations"] == 1
    assert st["skill_switches"] == 5
    assert sum(st[f"{s}_steps"] for s in ("discoverer", "descender", "ascender", "worshipper", "merchant")) == 13


def test_rng_is_bound_per_controller(wiz, policy_cls):
    obs, info = wiz.reset(seed=1)
    draws = []
    for seed in (7, 7, 8):
        ctrl = OptionsController(policy_cls, rng=random.Random(seed))
        ctrl.reset(obs, info)
        draws.append(ctrl.player.draw)
    assert draws[0] == draws[1] != draws[2]


def test_branch_depth_from_the_fork_level_and_the_mines(wiz, policy_cls):
    obs, info = wiz.reset(seed=3)  # this game's Mines fork is on level 2
    ctrl = OptionsController(policy_cls, rng=random.Random(0))
    ctrl.reset(obs, info)
    assert ctrl.branch_depth == -2 and ctrl.player.branch_depth == -2  # the original's "unknown"
    wizard.level_teleport(wiz, 2)
    wizard.reveal_map(wiz)
    _, obs = _step(wiz, ctrl, "search")
    assert np.count_nonzero(obs["glyphs"] == DOWNSTAIR_GLYPH) == 2
    assert ctrl.branch_depth == 2 and ctrl.player.branch_depth == 2
    # one of the two down staircases leads into the Gnomish Mines
    for x, y in wizard.find_on_map(obs, ">"):
        wizard.teleport_to(wiz, x, y)
        _, obs = _step(wiz, ctrl, "down")
        if int(obs["blstats"][BL.DNUM]) == GNOMISH_MINES:
            break
        wizard.level_teleport(wiz, 2)
    assert int(obs["blstats"][BL.DNUM]) == GNOMISH_MINES and int(obs["blstats"][BL.DEPTH]) == 3
    assert ctrl.tracker.values["visited_mines"] and ctrl.branch_depth == 2


# ---------------------------------------------------------------- the attribute tracker (pure logic)
def _fake_obs(depth=1, dnum=0, hunger=1, gold=0, inv=((ord("a"), 2), (ord("b"), 3)), seen=10):
    blstats = np.zeros(27, dtype=np.int64)
    blstats[BL.DEPTH], blstats[BL.DNUM], blstats[BL.DLEVEL] = depth, dnum, depth
    blstats[BL.HUNGER], blstats[BL.GOLD], blstats[BL.XP], blstats[BL.TIME] = hunger, gold, 1, 1
    glyphs = np.full((21, 79), STONE_GLYPH, dtype=np.int16)
    glyphs.ravel()[:seen] = 2370
    letters = np.zeros(55, dtype=np.uint8)
    classes = np.zeros(55, dtype=np.uint8)
    for i, (letter, oc) in enumerate(inv):
        letters[i], classes[i] = letter, oc
    return {"blstats": blstats, "glyphs": glyphs, "inv_letters": letters, "inv_oclasses": classes}


def test_tracker_computes_every_declared_attribute():
    tr = AttributeTracker()
    tr.reset(_fake_obs())
    assert set(tr.values) == set(ATTRIBUTES)
    for name, spec in ATTRIBUTES.items():
        assert isinstance(tr.values[name], spec.type if spec.type is not set else set), name


def test_tracker_counts_messages_items_and_hunger_in_the_mines():
    tr = AttributeTracker()
    tr.reset(_fake_obs())
    ev = tr.update(_fake_obs(seen=25), {"messages": ["You kill the newt!", "The jackal is killed!"]})
    assert ev["kills"] == 2 and ev["cells_explored"] == 15 and tr.values["kills"] == 2
    # a collected dagger (letter c) counts as an item; a new food item (class 7) does not
    ev = tr.update(_fake_obs(inv=((ord("a"), 2), (ord("b"), 3), (ord("c"), 2), (ord("d"), 7))),
                   {"messages": ["You sold a dagger for 2 gold pieces.", "A dagger lands on the altar."]})
    assert ev["items_sold"] == 1 and ev["altar_drops"] == 1 and tr.values["num_items"] == 1
    ev = tr.update(_fake_obs(), {"messages": ["You begin praying to Anhur.", "You finish your prayer."]})
    assert ev["prayers"] == 1 and ev["kills"] == 0
    # eating in the Mines counts only after having been hungry
    tr.update(_fake_obs(depth=3, dnum=2), {"messages": ["This food really hits the spot!"]})
    assert tr.values["visited_mines"] and not tr.values["eaten_food"]
    tr.update(_fake_obs(depth=3, dnum=2, hunger=2), {"messages": []})
    assert tr.values["is_hungry"] and tr.values["has_been_hungry"]
    ev = tr.update(_fake_obs(depth=4, dnum=2, hunger=1), {"messages": ["You finish eating the food ration."]})
    assert tr.values["eaten_food"] and not tr.values["is_hungry"] and ev["descents"] == 1
    assert tr.values["max_depth_reached"] == 4 and tr.values["steps"] == 6
    # left the Dungeons of Doom at depth 1 into the Mines: the branch level is 1 here
    assert tr.branch_depth == 1


def test_game_over_observation_changes_nothing():
    tr = AttributeTracker()
    tr.reset(_fake_obs(depth=3))
    before = dict(tr.values)
    dead = _fake_obs(depth=0, seen=0)
    ev = tr.update(dead, {"messages": ["You die..."]})
    assert not any(ev.values()) and tr.values["max_depth_reached"] == 3
    assert {k: v for k, v in tr.values.items() if k != "steps"} == {k: v for k, v in before.items() if k != "steps"}
