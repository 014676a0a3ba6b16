"""The scripted skill controllers and the shared level map, on real games (wizard mode sets the scene)."""

import random

import numpy as np
import pytest
from nle import nethack as nh

from maestromotif.data.policies import ExplorePolicy, RandomPolicy
from maestromotif.eval.agents import AGENTS, AgentContext
from maestromotif.nethack import wizard
from maestromotif.nethack.actions import ACTION_INDEX
from maestromotif.nethack.env import make_env
from maestromotif.nethack.obs import BL
from maestromotif.skills import scripted
from maestromotif.skills.interface import load_policy_class, meta_policy_path
from maestromotif.skills.levelmap import LevelMap
from maestromotif.skills.options import STONE_GLYPH

SEED = 11  # Minetown (with a temple) at depth 6; see tests/test_eval_detectors.py


@pytest.fixture(scope="module")
def wiz():
    env = make_env(wizard=True)
    yield env
    env.close()


class Drive:
    """A skill controller playing a real game through env.step, as the agent does."""

    def __init__(self, env, seed=SEED):
        self.env = env
        obs, info = env.reset(seed=seed)
        self.w = scripted.World(random.Random(0))
        self.w.reset(obs, info)  # the starting kit is what the game began with: wishes are "collected"
        self.messages: list[str] = []

    def sync(self):  # after wizard commands (invisible to the agent)
        self.w.update(self.env.current_obs(), {"messages": []})

    def run(self, skill, steps, until=lambda d: False):
        for _ in range(steps):
            obs, _, done, _, info = self.env.step(scripted.act_skill(self.w, skill))
            self.messages += info["messages"]
            if done:
                return False
            self.w.update(obs, info)
            if until(self):
                return True
        return False

    @property
    def depth(self):
        return int(self.w.obs["blstats"][BL.DEPTH])


def test_level_map_remembers_the_staircase_under_the_hero(wiz):
    """The '@' hides the cell it stands on: the map keeps the '>' seen before stepping onto it."""
    wiz.reset(seed=SEED)
    wizard.reveal_map(wiz)
    (sx, sy) = wizard.find_on_map(wizard.terrain(wiz), ">")[0]
    m = LevelMap()
    obs = wiz.current_obs()
    m.update(obs)
    spot = next((sx + dx, sy + dy) for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
                if chr(obs["chars"][sy + dy, sx + dx]) in ".#")
    obs = wizard.teleport_to(wiz, *spot)
    m.update(obs)
    move = next(n for (dx, dy), n in scripted.MOVES.items() if (spot[0] + dx, spot[1] + dy) == (sx, sy))
    obs, *_ = wiz.step(ACTION_INDEX[move])
    assert (int(obs["blstats"][BL.X]), int(obs["blstats"][BL.Y])) == (sx, sy)
    assert obs["chars"][sy, sx] == ord("@")  # what the old explore policy read
    m.update(obs)
    assert m.under == ord(">")
    obs, *_ = wiz.step(ACTION_INDEX["down"])
    m.update(obs, last_action="down")
    assert int(obs["blstats"][BL.DEPTH]) == 2 and m.under == ord("<")  # arrived on the up staircase


def test_explore_policy_takes_the_staircase_it_stands_on(wiz):
    obs, info = wiz.reset(seed=SEED)
    pol = ExplorePolicy(seed=0, epsilon=0.0, up_prob=0.0, rush_prob=1.0)
    pol.reset(obs, info)
    wizard.reveal_map(wiz)
    obs = wiz.current_obs()
    for _ in range(300):
        obs, _, done, _, info = wiz.step(pol.act(obs, info))
        if done or int(obs["blstats"][BL.DEPTH]) > 1:
            break
    assert int(obs["blstats"][BL.DEPTH]) == 2


def test_descender_finds_and_takes_a_down_staircase(wiz):
    d = Drive(wiz, seed=3)
    assert d.run("descender", 1500, until=lambda d: d.depth == 2), d.messages[-10:]


def test_ascender_climbs(wiz):
    d = Drive(wiz)
    wizard.level_teleport(wiz, 3)
    d.sync()
    assert d.run("ascender", 1500, until=lambda d: d.depth == 2), d.messages[-10:]


def test_discoverer_explores_more_than_random_actions(wiz):
    def explored(policy_act, steps=400):
        obs, info = wiz.reset(seed=5)
        seen = 0
        for _ in range(steps):
            obs, _, done, _, info = wiz.step(policy_act(obs, info))
            if done:
                break
            seen = max(seen, int(np.count_nonzero(obs["glyphs"] != STONE_GLYPH)))
        return seen

    rnd = RandomPolicy(0)
    d = Drive(wiz, seed=5)

    def disc(obs, info):
        d.w.update(obs, info)
        return scripted.act_skill(d.w, "discoverer")

    first = [True]

    def disc_first(obs, info):
        if first[0]:
            first[0] = False
            return scripted.act_skill(d.w, "discoverer")
        return disc(obs, info)

    n_random = explored(lambda o, i: rnd.act(o, i))
    d = Drive(wiz, seed=5)
    n_disc = explored(disc_first)
    assert n_disc > 2 * n_random, (n_disc, n_random)


def test_worshipper_drops_on_an_altar(wiz):
    d = Drive(wiz)
    wizard.goto_minetown(wiz)
    assert wizard.stand_on(wiz, "_")
    for item in ("potion of gain level", "scroll of teleportation"):  # after: wishes change Minetown's draw
        assert wizard.wish(wiz, item)
    (ax, ay) = (int(wiz.current_obs()["blstats"][BL.X]), int(wiz.current_obs()["blstats"][BL.Y]))
    obs = wiz.current_obs()
    away = next((ax + dx, ay) for dx in (3, -3, 2, -2) if chr(obs["chars"][ay, ax + dx]) == ".")
    d.sync()  # the map now holds the altar
    wizard.teleport_to(wiz, *away)
    d.sync()
    assert d.run("worshipper", 200, until=lambda d: not d.w.droppable()), d.messages[-10:]
    assert sum("altar" in m for m in d.messages) >= 2, d.messages


_DOORS = {nh.GLYPH_CMAP_OFF + i for i in (12, 13, 14, 15, 16)}  # doorway, open and closed doors
_CORRIDOR = {nh.GLYPH_CMAP_OFF + i for i in (21, 22)}


def test_merchant_walks_into_a_shop_and_sells(wiz):
    d = Drive(wiz)
    for item in ("potion of gain level", "scroll of teleportation"):
        assert wizard.wish(wiz, item)
    assert wizard.goto_shop(wiz, ("general store",))
    obs = wiz.current_obs()
    glyphs = obs["glyphs"]
    (kx, ky), = wizard.monster_positions(obs, "shopkeeper")[:1]
    door = next((kx + dx, ky + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if glyphs[ky + dy, kx + dx] in _DOORS)
    outside = next((door[0] + dx, door[1] + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                   if glyphs[door[1] + dy, door[0] + dx] in _CORRIDOR)
    d.sync()  # the hero has seen the shop and its shopkeeper
    wizard.teleport_to(wiz, *outside)
    d.sync()
    assert d.run("merchant", 300, until=lambda d: any("You sold" in m for m in d.messages)), d.messages[-15:]


def test_scripted_skills_agent_is_registered_and_needs_no_checkpoint():
    spec = AGENTS["scripted_skills"]
    assert spec.uses_skills and not spec.uses_actor
    cls = load_policy_class(meta_policy_path("rl_baseline/meta_policies", "gnomish", 42))
    agent = spec.build(AgentContext(rng=random.Random(0), policy_cls=lambda: cls, actor=None))
    env = make_env(max_episode_steps=300)
    try:
        obs, info = env.reset(seed=0)
        agent.reset(obs, info)
        for _ in range(300):
            obs, _, done, trunc, info = env.step(agent.act(obs, info))
            if done or trunc:
                break
        stats = agent.stats()
        assert stats["discoverer_steps"] > 0 and stats["discoverer_cells_explored"] > 100, stats
    finally:
        env.close()


@pytest.mark.parametrize("text,unsafe", [
    ("a newt corpse", True), ("2 floating eye corpses", True), ("a partly eaten jackal corpse", True),
    ("a lichen corpse", False), ("a lizard corpse", False), ("3 food rations", False), ("an egg", True),
    ("2 eggs", True), ("5 apples", False), ("a fortune cookie", False)])
def test_unsafe_food(text, unsafe):
    assert scripted.unsafe_food(text) is unsafe


def _world_with_food(env, first_food: str):
    """A World on a real start, with the inventory's first food item renamed (to test the prompt logic)."""
    obs, info = env.reset(seed=SEED)
    obs = {k: v.copy() for k, v in obs.items()}
    i = next(i for i, o in enumerate(obs["inv_oclasses"]) if o == 7)
    row = np.zeros_like(obs["inv_strs"][i])
    row[:len(first_food)] = np.frombuffer(first_food.encode(), dtype=np.uint8)
    obs["inv_strs"][i] = row
    w = scripted.World(random.Random(0))
    w.reset(obs, info)
    return w, chr(int(obs["inv_letters"][i]))


@pytest.mark.parametrize("food,eats", [("a newt corpse", False), ("3 food rations", True), ("an egg", False)])
def test_eat_prompt_confirms_only_safe_food(wiz, food, eats):
    """When `eat` opens the item prompt, y (the NW key) confirms only a safe first item."""
    w, letter = _world_with_food(wiz, food)
    w.want_eat = True
    w.msg = f"What do you want to eat? [{letter} or ?*]"
    assert scripted.answer(w) == (scripted.YES if eats else ACTION_INDEX["more"])
    w.msg = f"What do you want to eat? [{letter} or ?*]"  # not asked for: dismissed
    assert scripted.answer(w) == ACTION_INDEX["more"]


def test_hungry_hero_does_not_eat_a_rotting_corpse(wiz):
    w, _ = _world_with_food(wiz, "a newt corpse")
    w.hunger = scripted.HUNGRY
    assert scripted.survival(w) != ACTION_INDEX["eat"] and w.stats["declined_unsafe_food"] == 1
    w2, _ = _world_with_food(wiz, "2 food rations")
    w2.hunger = scripted.HUNGRY
    assert scripted.survival(w2) == ACTION_INDEX["eat"]


def _find_vault(tty_chars):
    """Top-left floor cell of a 2x2 room closed by walls on every side (a vault), or None."""
    t = tty_chars[1:22]
    h, w = t.shape
    for y in range(1, h - 2):
        for x in range(1, w - 2):
            box = t[y - 1:y + 3, x - 1:x + 3]
            walls = bytes(box[0]) + bytes(box[3]) + bytes(box[1:3, 0]) + bytes(box[1:3, 3])
            if (box[1:3, 1:3] == ord(".")).all() and all(c in b"|-" for c in walls):
                return x, y
    return None


def test_vault_guard_is_reported(wiz):
    """A hero put into a closed vault meets its guard; the agent reports it (it cannot drop gold)."""
    d = Drive(wiz)
    vault = None
    for level in range(1, 8):
        if level > 1:
            wizard.level_teleport(wiz, level)
        wizard.reveal_map(wiz)
        vault = _find_vault(wizard.terrain(wiz)["tty_chars"])
        if vault:
            break
    assert vault, "no vault on levels 1-7 of this game"
    wizard.teleport_to(wiz, *vault)
    d.sync()
    assert d.w.stats["vault_guard"] == 0
    for _ in range(200):
        obs, _, done, _, info = wiz.step(ACTION_INDEX["search"])
        d.w.update(obs, info)
        if d.w.stats["vault_guard"] or done:
            break
    assert d.w.stats["vault_guard"] == 1
