"""Causes of death (maestromotif/eval/deaths.py): real game ends and recorded message lists."""

import random

import pytest

from maestromotif.eval import deaths
from maestromotif.eval.agents import RandomActionAgent
from maestromotif.eval.evaluator import play
from maestromotif.nethack.actions import ACTION_NAMES
from maestromotif.nethack.env import make_env

# Real games: random actions (the evaluator's RandomActionAgent, stream seeded like the game) end
# these ways on these NetHack seeds (found by playing them; NLE 1.0 / NetHack 3.6.6).
REAL_ENDS = {  # random actions under the original's eat confirmation (eat needs a following `y`)
    1: ("prayer", "lightning"),            # prayed too soon: "Thou hast angered me." + lightning
    2: ("prayer", "minion: earth elemental"),  # the earth elemental of Chih Sung-tzu
    3: ("monster", "fox"),
}


@pytest.fixture(scope="module")
def env():
    e = make_env(max_episode_steps=3000)
    yield e
    e.close()


@pytest.mark.parametrize("seed", sorted(REAL_ENDS))
def test_real_game_ends_of_random_actions(env, seed):
    rec = play(env, RandomActionAgent(random.Random(seed)), "gnomish", seed)
    death = rec["death"]
    assert (death["cause"], death["detail"]) == REAL_ENDS[seed], (rec["end"], death)
    assert death["messages"] and rec["end"] in ("died", "choking")


class _Ants:
    """Creates soldier ants next to the hero (wizard mode), then waits; answers NetHack's wizard-mode
    "Die?" question with yes (``y`` is the move_nw key) so the game really ends."""

    name = "ants"

    def __init__(self, env):
        self.env, self.started = env, False

    def reset(self, obs, info):
        pass

    def act(self, obs, info):
        from maestromotif.nethack import wizard

        if not self.started:
            self.started = True
            for _ in range(3):
                wizard.create_monster(self.env, "soldier ant")
        if any("Die?" in m for m in info.get("messages", [])[-1:]):
            return ACTION_NAMES.index("move_nw")
        return ACTION_NAMES.index("search")

    @property
    def skill(self):
        return None

    def stats(self):
        return {}


def test_real_death_by_a_created_monster(monkeypatch):
    import maestromotif.nethack.env as nle_env

    # In wizard mode NetHack asks "Die?"; let the agent answer it instead of the prompt policy's "no".
    monkeypatch.setattr(nle_env, "KEPT_QUESTIONS", nle_env.KEPT_QUESTIONS + (b"Die?",))
    env = make_env(wizard=True, max_episode_steps=400)
    try:
        rec = play(env, _Ants(env), "gnomish", 1)
    finally:
        env.close()
    assert rec["end"] == "died"
    assert rec["death"]["cause"] == "monster" and rec["death"]["detail"] == "soldier ant", rec["death"]


# Recorded message lists (one list per step, oldest first), from real games, and what they mean.
RECORDED = [
    ("died", [['The goblin picks up a crude dagger.'],
              ['You begin praying to Chih Sung-tzu.  The goblin wields a crude dagger!',
               'The goblin thrusts his crude dagger.  The goblin hits!', 'You die...']], ("monster", "goblin")),
    ("died", [['Ouch!  That hurts!'], ['In what direction?', 'Ouch!  That hurts!', 'You die...']], ("self_harm", "")),
    ("died", [['In what direction?', 'Ouch!  That hurts!  The newt bites!', 'You die...']], ("monster", "newt")),
    ("died", [["The fire elemental of Chih Sung-tzu hits!  You're on fire!", 'You die...']],
     ("prayer", "minion: fire elemental")),
    ("died", [['You begin praying to Anhur.', 'You feel that Anhur is displeased.'], ['The jackal bites!'],
              ['You die...']], ("monster", "jackal")),
    ("died", [['You begin praying to Anhur.  You feel that Anhur is displeased.', 'You die...']],
     ("prayer", "displeased god")),
    ("poisoning", [['Ulch - that meat was tainted!  You feel deathly sick.'], ['You hear some noises.'],
                   ['You die from your illness.']], ("food_poisoning", "")),
    ("poisoning", [['You die from your illness.']], ("illness", "")),
    ("poisoning", [["The soldier ant's sting was poisoned!", 'The poison was deadly...', 'You die...']], ("poison", "")),
    ("died", [['Suddenly one of the Vault\'s guards enters!'], ['The guard hits!', 'You die...']],
     ("vault_guard", "guard")),
    ("died", [['An arrow shoots out at you!  You are hit by an arrow.', 'You die...']], ("trap", "")),
    ("died", [['It bites!', 'You die...']], ("monster", "unseen monster")),
    ("drowning", [['The giant eel swings itself around you!', 'The giant eel drowns you...']], ("drowning", "giant eel")),
    ("choking", [['You choke over your food.', 'You die...']], ("choking", "")),
    ("starving", [['You faint from lack of food.'], ['You die from starvation.']], ("starvation", "")),
    ("max_steps", [['The jackal bites!']], ("timeout", "")),
    ("success", [], ("alive", "")),
    ("escaped", [], ("left_dungeon", "")),
    ("died", [['You hear a door open.']], ("unknown", "")),
]


@pytest.mark.parametrize("end,steps,want", RECORDED)
def test_recorded_message_lists(end, steps, want):
    d = deaths.classify(end, steps)
    assert (d.cause, d.detail) == want
    assert d.cause in deaths.CAUSES


def test_death_watch_keeps_the_sign_of_a_tainted_meal_until_cured():
    w = deaths.DeathWatch(keep=2)
    w.update(["Ulch - that meat was tainted!  You feel deathly sick."])
    for _ in range(5):  # more steps than kept
        w.update(["You hear some noises."])
    w.update(["You die from your illness."])
    assert w.classify("poisoning").cause == "food_poisoning"
    w = deaths.DeathWatch(keep=2)
    w.update(["Ulch - that meat was tainted!  You feel deathly sick."])
    w.update(["You feel better."])  # prayed: cured
    w.update(["You die from your illness."])
    assert w.classify("poisoning").cause == "illness"


def test_tallies_for_reports():
    ends = [{"cause": "monster", "detail": "jackal"}, {"cause": "monster", "detail": "jackal"},
            {"cause": "timeout", "detail": ""}, {"cause": "monster", "detail": "newt"}]
    assert deaths.tally(ends) == {"timeout": 1, "monster": 3}
    assert deaths.killers(ends) == {"jackal": 2, "newt": 1}
    assert deaths.summary(deaths.tally(ends)) == "monster 3, timeout 1"
