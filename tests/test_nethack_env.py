"""The NetHack layer on the real game (short episodes)."""

import numpy as np
import pytest

from maestromotif.nethack import wizard
from maestromotif.nethack.actions import ACTION_INDEX, ACTION_NAMES, NUM_ACTIONS
from maestromotif.nethack.env import make_env
from maestromotif.nethack.obs import BL, branch_name, inventory, local_view, message_text


@pytest.fixture(scope="module")
def wiz():
    env = make_env(wizard=True)
    yield env
    env.close()


def _act(env, name):
    return env.step(ACTION_INDEX[name])


def test_character_and_options():
    env = make_env()
    obs, _ = env.reset(seed=1)
    assert NUM_ACTIONS == 28 and env.action_space.n == 28
    status = bytes(obs["tty_chars"][22]).decode()
    assert "Agent the Candidate" in status and "Neutral" in status  # Monk rank title, neutral
    inv = [i.text for i in inventory(obs)]
    assert any("spellbook" in t for t in inv) and any("robe" in t for t in inv)
    # No pet: nothing but the hero is a monster glyph next to it on turn 1.
    chars, _ = local_view(obs["tty_chars"], obs["tty_colors"], obs["blstats"], radius=1)
    assert chr(chars[1, 1]) == "@"
    assert not any(chr(c) in "dfu" for c in chars.ravel())
    env.close()


def test_seeded_episodes_are_reproducible():
    def run():
        env = make_env()
        env.reset(seed=7)
        rng = np.random.default_rng(0)
        out = []
        for _ in range(150):
            obs, _, done, trunc, _ = env.step(int(rng.integers(NUM_ACTIONS)))
            out.append((message_text(obs["message"]), int(obs["blstats"][BL.HP])))
            if done or trunc:
                break
        env.close()
        return out
    assert run() == run()


def test_stairs_messages_survive(wiz):
    wiz.reset(seed=3)
    assert wizard.stand_on(wiz, ">")
    obs, _, _, _, info = _act(wiz, "down")
    assert int(obs["blstats"][BL.DEPTH]) == 2
    assert message_text(obs["message"]) == "You descend the stairs."
    obs, _, _, _, info = _act(wiz, "up")
    assert int(obs["blstats"][BL.DEPTH]) == 1
    assert "You climb up the stairs." in info["messages"]


def test_macro_actions(wiz):
    wiz.reset(seed=5)
    _, _, _, _, info = _act(wiz, "eat")
    assert info["messages"][0].startswith("What do you want to eat?")  # the agent answers (y: first item)
    assert wiz.confirm_item_prompt()
    obs, _, _, _, info = _act(wiz, "search")
    assert message_text(obs["message"]) == "Never mind." and not info["just_eaten"]  # not y: cancelled
    obs, _, _, _, info = _act(wiz, "drop")
    assert message_text(obs["message"]) == "Never mind."  # nothing collected: starting kit is kept
    t0 = int(obs["blstats"][BL.TIME])
    obs, *_ = _act(wiz, "wait")
    assert int(obs["blstats"][BL.TIME]) > t0 + 1  # rested several turns in one action
    obs, _, _, _, info = _act(wiz, "kick")
    assert message_text(obs["message"]) == "In what direction?"  # kept for the agent
    assert wiz.pending_question() == "In what direction?"
    _act(wiz, "move_n")  # answers the question
    assert wiz.pending_question() is None


def test_branch_names():
    assert branch_name(0) == "The Dungeons of Doom" and branch_name(2) == "The Gnomish Mines"
    assert branch_name(4) == "Sokoban"
    assert "more" in ACTION_NAMES and "drop" in ACTION_NAMES
