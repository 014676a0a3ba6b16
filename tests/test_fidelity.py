"""Behaviour the original MaestroMotif defines (docs/fidelity.md), on the real game.

The policies over skills below are written here to the original's contract (its player hooks
``update_gold`` / ``defeat_monster`` / ``update_xp_level`` and the ``eaten_food`` attribute, no
``REQUIRED_ATTRIBUTES``, ``None`` from ``perform_task`` when no branch applies); the options
framework must drive them to the decisions the original's wrapper would.
"""

from __future__ import annotations

import random
import textwrap

import pytest

from maestromotif.nethack import wizard
from maestromotif.nethack.actions import ACTION_INDEX, EAT_AND_CONFIRM
from maestromotif.nethack.env import make_env
from maestromotif.nethack.obs import BL, GNOMISH_MINES, OCLASS, inventory, message_text
from maestromotif.skills.interface import load_policy_class
from maestromotif.skills.options import UNKNOWN_BRANCH, OptionsController

# Shared part: a discoverer that re-plans every 30 game turns, travel skills end on a depth change.
_BASE = textwrap.dedent('''
    class Base:
        def __init__(self, max_depth, branch_depth):
            self.max_depth = max_depth
            self.branch_depth = branch_depth
            self.seen = []

        def set_initial_values(self):
            self.skill = "discoverer"

        def skill_precondition(self, char_ascii_encodings, char_ascii_colors, num_items, color_map):
            return False, False

        def skill_termination(self, skill, skill_time, current_depth, previous_depth, preconditions):
            self.seen.append((skill, skill_time, list(preconditions)))
            if skill in ("descender", "ascender"):
                return current_depth != previous_depth
            return skill_time >= 30
''')

GOLDEN = _BASE + textwrap.dedent('''
    class NetHackPlayer(Base):
        def __init__(self, max_depth, branch_depth):
            super().__init__(max_depth, branch_depth)
            self.purse = 0
            self.victories = 0

        def update_gold(self, gold):
            self.purse = gold

        def defeat_monster(self):
            self.victories += 1

        def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition,
                         worshipper_precondition):
            if self.purse >= 20 and self.victories >= 25:
                return "ascender"
            if branch_number == 0:
                return "discoverer"
            if branch_number == 2:
                return "ascender"
            # any other branch: falls through and returns None, as the original's goldenexit does
''')

LEVELUP = _BASE + textwrap.dedent('''
    class NetHackPlayer(Base):
        def update_xp_level(self, xp):
            self.level = xp

        def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition,
                         worshipper_precondition):
            return "merchant" if getattr(self, "level", 1) >= 4 else "discoverer"
''')

HUNGER = _BASE + textwrap.dedent('''
    class NetHackPlayer(Base):
        def __init__(self, max_depth, branch_depth):
            super().__init__(max_depth, branch_depth)
            self.eaten_food = False

        def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition,
                         worshipper_precondition):
            if self.eaten_food and branch_number == 2:
                return "descender"
            return "discoverer"
''')


@pytest.fixture(scope="module")
def wiz():
    env = make_env(wizard=True)
    yield env
    env.close()


def _policy(tmp_path, name, source):
    path = tmp_path / name / "execution.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return load_policy_class(path)


def _step(env, ctrl, action):
    obs, _, term, trunc, info = env.step(ACTION_INDEX[action] if isinstance(action, str) else action)
    ctrl.step(obs, info)
    assert not (term or trunc)
    return obs, info


def _run_until_switch(env, ctrl, max_steps=100):
    """Search until the running skill terminates (the policy then chooses)."""
    n = ctrl.switches
    for _ in range(max_steps):
        _step(env, ctrl, "search")
        if ctrl.switches > n:
            return ctrl.skill
    raise AssertionError("no skill termination")


_TOWARDS = {(0, -1): "move_n", (1, 0): "move_e", (0, 1): "move_s", (-1, 0): "move_w",
            (1, -1): "move_ne", (1, 1): "move_se", (-1, 1): "move_sw", (-1, -1): "move_nw"}


def _kill_a_newt(env, ctrl) -> None:
    """Create a newt next to the hero and fight it with agent moves until the game says it died."""
    obs = wizard.create_monster(env, "newt")
    for _ in range(30):
        x, y = int(obs["blstats"][BL.X]), int(obs["blstats"][BL.Y])
        near = [(nx - x, ny - y) for nx, ny in wizard.monster_positions(obs, "newt")
                if max(abs(nx - x), abs(ny - y)) == 1]
        if not near:
            obs = wizard.create_monster(env, "newt")
            continue
        obs, info = _step(env, ctrl, _TOWARDS[near[0]])
        if any("You kill the newt" in m for m in info["messages"]):
            return
    raise AssertionError("the newt survived 30 attacks")


def test_goldenexit_style_policy_climbs_after_20_gold_and_25_kills(wiz, tmp_path):
    cls = _policy(tmp_path, "golden", GOLDEN)
    obs, info = wiz.reset(seed=0)
    ctrl = OptionsController(cls, rng=random.Random(0))
    ctrl.reset(obs, info)
    assert ctrl.player.branch_depth == UNKNOWN_BRANCH == -2  # the original's "not known yet"
    wizard.wish(wiz, "20 gold pieces")
    for _ in range(24):
        _kill_a_newt(wiz, ctrl)
    assert ctrl.player.purse == 20 and ctrl.player.victories == 24
    assert _run_until_switch(wiz, ctrl) == "discoverer"  # one kill short
    _kill_a_newt(wiz, ctrl)
    assert ctrl.player.victories == 25
    assert _run_until_switch(wiz, ctrl) == "ascender"
    assert ctrl.stats()["policy_errors"] == 0


def test_none_from_perform_task_runs_the_discoverer_and_is_counted(wiz, tmp_path):
    cls = _policy(tmp_path, "golden_none", GOLDEN.replace("if branch_number == 0:", "if branch_number == 0 and dungeon_depth == 1:"))
    obs, info = wiz.reset(seed=0)
    ctrl = OptionsController(cls, rng=random.Random(0))
    ctrl.reset(obs, info)
    wizard.level_teleport(wiz, 2)  # a depth the policy has no branch for: it returns None
    assert _run_until_switch(wiz, ctrl) == "discoverer"
    st = ctrl.stats()
    assert st["no_skill_returned"] == 1 and st["invalid_skill_names"] == 0 and st["policy_errors"] == 0


def test_levelupsell_style_policy_calls_the_merchant_after_level_4(wiz, tmp_path):
    cls = _policy(tmp_path, "levelup", LEVELUP)
    obs, info = wiz.reset(seed=0)
    ctrl = OptionsController(cls, rng=random.Random(0))
    ctrl.reset(obs, info)
    potions = wizard.wish(wiz, "3 blessed potions of gain level")
    for n in range(3):
        assert _run_until_switch(wiz, ctrl) == "discoverer"
        obs = wizard.quaff(wiz, potions)
        assert int(obs["blstats"][BL.XP]) == n + 2
    assert _run_until_switch(wiz, ctrl) == "merchant" and ctrl.player.level == 4


def test_discoveryhunger_style_policy_descends_after_eating_in_the_mines(wiz, tmp_path):
    cls = _policy(tmp_path, "hunger", HUNGER)
    obs, info = wiz.reset(seed=3)
    ctrl = OptionsController(cls, rng=random.Random(0))
    ctrl.reset(obs, info)
    wizard.wish(wiz, "2 fortune cookies")
    for action in EAT_AND_CONFIRM:  # eating in the Dungeons of Doom does not count
        obs, info = _step(wiz, ctrl, action)
    assert info["just_eaten"] and not ctrl.player.eaten_food
    wizard.enter_mines(wiz)
    assert _run_until_switch(wiz, ctrl) == "discoverer"
    for action in EAT_AND_CONFIRM:
        obs, info = _step(wiz, ctrl, action)
    assert int(obs["blstats"][BL.DNUM]) == GNOMISH_MINES and ctrl.player.eaten_food
    assert _run_until_switch(wiz, ctrl) == "descender"
    depth = int(obs["blstats"][BL.DEPTH])
    assert wizard.stand_on(wiz, ">")
    obs, _ = _step(wiz, ctrl, "down")
    assert int(obs["blstats"][BL.DEPTH]) == depth + 1 and ctrl.switches and ctrl.previous_depth == depth + 1


def _food(obs) -> int:
    return sum(int(i.text.split()[0]) if i.text.split()[0].isdigit() else 1
               for i in inventory(obs) if i.oclass == OCLASS["food"])


def test_eat_while_satiated_does_not_eat_unless_confirmed(wiz):
    obs, _ = wiz.reset(seed=5)
    for _ in range(4):  # food rations until Satiated
        if int(obs["blstats"][BL.HUNGER]) == 0:
            break
        for action in EAT_AND_CONFIRM:
            obs, *_ = wiz.step(action)
    assert int(obs["blstats"][BL.HUNGER]) == 0  # Satiated
    food = _food(obs)
    obs, _, _, _, info = wiz.step(ACTION_INDEX["eat"])
    assert message_text(obs["message"]).startswith("What do you want to eat?") and wiz.confirm_item_prompt()
    obs, _, _, _, info = wiz.step(ACTION_INDEX["move_e"])  # not the confirmation: cancelled
    assert message_text(obs["message"]) == "Never mind." and not info["just_eaten"] and _food(obs) == food
    obs, _, _, _, info = wiz.step(ACTION_INDEX["quaff"])
    obs, _, _, _, info = wiz.step(ACTION_INDEX["search"])
    assert message_text(obs["message"]) == "Never mind."
    for action in EAT_AND_CONFIRM:  # confirmed: it eats (over-eating is the agent's choice)
        obs, _, _, _, info = wiz.step(action)
    assert info["just_eaten"]


def test_auto_item_prompt_keeps_the_former_rule():
    env = make_env(item_prompt="auto")
    env.reset(seed=5)
    _, _, _, _, info = env.step(ACTION_INDEX["eat"])
    assert info["messages"][0].startswith("What do you want to eat?") and env.pending_question() is None
    env.close()


def test_skill_time_counts_game_turns(wiz, tmp_path):
    cls = _policy(tmp_path, "turns", GOLDEN)
    obs, info = wiz.reset(seed=3)
    for unit in ("turns", "steps"):
        obs, info = wiz.reset(seed=3)
        ctrl = OptionsController(cls, rng=random.Random(0), skill_time_unit=unit)
        ctrl.reset(obs, info)
        obs, _ = _step(wiz, ctrl, "wait")
        turn = int(obs["blstats"][BL.TIME])
        skill, skill_time, preconditions = ctrl.player.seen[-1]
        # turns: the original counts from 0 at the episode start; one wait rests up to 25 turns
        assert skill_time == (turn if unit == "turns" else 1) and preconditions == [False, False]
        assert unit == "steps" or turn > 10


def test_preconditions_reach_termination_as_worshipper_then_merchant(wiz, tmp_path):
    src = GOLDEN.replace("return False, False", "return True, False  # worshipper only")
    cls = _policy(tmp_path, "order", src)
    obs, info = wiz.reset(seed=3)
    ctrl = OptionsController(cls, rng=random.Random(0))
    ctrl.reset(obs, info)
    _step(wiz, ctrl, "search")
    assert ctrl.player.seen[-1][2] == [True, False] and ctrl.preconditions == (True, False)


def test_cast_heals_the_agent_itself(wiz):
    for seed in range(12):
        wiz.reset(seed=seed)
        if wiz._heal_self:
            break
    assert wiz._heal_self
    wizard.quaff(wiz, wizard.wish(wiz, "blessed potion of gain energy"))
    ene = int(wiz.current_obs()["blstats"][BL.ENE])
    obs, _, _, _, info = wiz.step(ACTION_INDEX["cast"])
    assert wiz.pending_question() is None and int(obs["blstats"][BL.ENE]) == ene - 5, info["messages"]


def test_only_the_originals_messages_survive_a_more():
    from maestromotif.nethack.env import KEEP_ACROSS_MORE

    envs = {mode: make_env(keep_messages=mode) for mode in ("original", "last")}
    differ = 0
    for seed in range(6):  # random play; about 1 step in 600 differs (docs/fidelity.md)
        rng = random.Random(seed)
        for e in envs.values():
            e.reset(seed=seed)
        for _ in range(2000):
            a = rng.randrange(28)
            (o1, _, d1, t1, i1), (o2, _, _, _, i2) = envs["original"].step(a), envs["last"].step(a)
            m1, m2 = message_text(o1["message"]), message_text(o2["message"])
            assert i1["messages"] == i2["messages"]  # same game, same shown messages
            if m1 != m2:
                differ += 1
                # original: blank (or a kept stairs/frozen message); last: the message a --More-- cleared
                assert m1 == "" or any(k.decode() in m1 for k in KEEP_ACROSS_MORE)
                assert m2 == i2["messages"][-1]
            if d1 or t1:
                break
    for e in envs.values():
        e.close()
    assert differ > 0


@pytest.mark.parametrize("source", [GOLDEN, LEVELUP, HUNGER], ids=["goldenexit", "levelupsell", "discoveryhunger"])
def test_original_contract_policies_pass_the_training_probe(tmp_path, source):
    from maestromotif.rl.validate import check_meta_policy

    path = tmp_path / "execution.py"
    path.write_text(source)
    probe = check_meta_policy(path)
    assert probe["ok"] and probe["first_skill"] == "discoverer" and probe["required_attributes"] == []
