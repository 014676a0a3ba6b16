"""The skill-training env on the real game, the observation builders, encoders and the fresh actor."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch

from maestromotif.data.captions import stat_deltas
from maestromotif.nethack.actions import ACTION_INDEX
from maestromotif.nethack.env import make_env
from maestromotif.rl.actor import SkillActor
from maestromotif.rl.config import parse_cfg
from maestromotif.rl.env import SkillEnv, SkillEnvConfig, episode_stat_keys, fast_stat_deltas
from maestromotif.rl.obs import VIEW_SHAPES, ObsBuilder, batch_obs, glyph_bitmaps, observation_space
from maestromotif.skills.table import SKILL_NAMES

POLICY = textwrap.dedent('''
    import random

    class NetHackPlayer:
        def __init__(self, max_depth, branch_depth):
            self.max_depth, self.branch_depth = max_depth, branch_depth
        def set_initial_values(self):
            self.skill = random.choice(["discoverer", "descender"])
        def skill_precondition(self, char_ascii_encodings, char_ascii_colors, num_items, color_map):
            return False, False
        def skill_termination(self, skill, skill_time, current_depth, previous_depth, preconditions):
            return skill_time >= 5
        def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition,
                         worshipper_precondition):
            return ["discoverer", "descender", "ascender", "worshipper", "merchant"][random.randint(0, 4)]
''')


@pytest.fixture(scope="module")
def policy_path(tmp_path_factory):
    p = tmp_path_factory.mktemp("policy") / "execution.py"
    p.write_text(POLICY)
    return str(p)


class CountingRewards:
    """A stand-in reward set for the composition arithmetic only (the real one is tested in test_rl_train)."""

    def __init__(self):
        self.calls = []
        self.counts = {}

    def reset(self):
        self.calls.clear()
        self.counts.clear()

    def count(self, message):
        k = bytes(message).rstrip(b"\0")
        self.counts[k] = self.counts.get(k, 0) + 1
        return self.counts[k]

    def score(self, message, deltas, skill_index, n):
        self.calls.append((bytes(message).rstrip(b"\0"), tuple(deltas), skill_index, n))
        return float(skill_index + 1)

    def step(self, message, deltas, skill_index):
        return self.score(message, deltas, skill_index, self.count(message))


@pytest.mark.parametrize("encoder", sorted(VIEW_SHAPES))
def test_env_observations_rewards_and_episode_stats(policy_path, encoder):
    rewards = CountingRewards()
    cfg = SkillEnvConfig(meta_policy=policy_path, encoder=encoder, llm_reward=0.5, extrinsic_reward=2.0,
                         max_episode_steps=120, seed=1, reward_obs="after", delta_reference="step",
                         skill_time_unit="steps")
    env = SkillEnv(cfg, env_index=3, rewards=rewards)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert obs["skill"].argmax() == info["skill"] == env.controller.skill_index
    rng = np.random.default_rng(0)
    done, steps = False, 0
    while not done:
        running = env.controller.skill_index
        a = int(rng.choice([ACTION_INDEX[n] for n in ("move_n", "move_e", "move_s", "move_w", "search")]))
        obs, reward, term, trunc, info = env.step(a)
        steps += 1
        done = term or trunc
        assert env.observation_space.contains(obs)
        # the skill that ran during the step is paid, the observation announces the next one
        score = env._score - getattr(env, "_prev_score", 0.0)
        env._prev_score = env._score
        if env.last_obs["blstats"][12]:  # a game state (the game-over observation is all zeros)
            assert rewards.calls[-1][2] == running and len(rewards.calls) == steps
            assert reward == pytest.approx(0.5 * (running + 1) + 2.0 * score)
        else:
            assert term and reward == pytest.approx(2.0 * score)
        assert obs["skill"].argmax() == info["skill"] == env.controller.skill_index
    assert (trunc and steps == 120) or (term and steps < 120)
    stats = info["episode_extra_stats"]
    assert set(stats) <= set(episode_stat_keys())
    assert sum(stats[f"skills/{s}_steps"] for s in SKILL_NAMES) == steps
    assert sum(stats[f"skills/{s}_activations"] for s in SKILL_NAMES) == 1 + stats["skills/skill_switches"]
    assert stats["skills/skill_switches"] >= (steps - 1) // 5
    for i, s in enumerate(SKILL_NAMES):
        if stats[f"skills/{s}_steps"]:
            paid = sum(1 for c in rewards.calls if c[2] == i) * (i + 1)
            assert stats[f"skills/{s}_intrinsic_mean"] == pytest.approx(paid / stats[f"skills/{s}_steps"])
    env.close()


# Real games: uniformly random actions end these ways on these game seeds (found by playing them; NLE 1.0).
RANDOM_ACTION_ENDS = {0: ("monster", "goblin"), 1: ("prayer", "lightning")}


@pytest.mark.parametrize("seed,limit", [(0, 2000), (1, 2000), (0, 20)])
def test_episode_stats_say_how_the_episode_ended(policy_path, seed, limit):
    """episode/death_<cause>: one cause 1 and every other 0 (their averages are shares), read from the
    real game's last messages as the evaluation reads them; the step limit is a timeout, not a death."""
    from maestromotif.nethack.actions import NUM_ACTIONS
    from maestromotif.nethack.deaths import CAUSES

    env = SkillEnv(SkillEnvConfig(meta_policy=policy_path, llm_reward=0.0, max_episode_steps=limit,
                                  skill_time_unit="steps"))
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(limit):
        _, _, term, trunc, info = env.step(int(rng.integers(NUM_ACTIONS)))
        if term or trunc:
            break
    stats = info["episode_extra_stats"]
    deaths = {c: stats[f"episode/death_{c}"] for c in CAUSES}
    ended = [c for c, v in deaths.items() if v == 1.0]
    assert len(ended) == 1 and sum(deaths.values()) == 1.0
    expected = RANDOM_ACTION_ENDS[seed] if limit == 2000 else ("timeout", "")
    assert (ended[0], env._deaths.classify(env._end).detail) == expected
    assert set(stats) <= set(episode_stat_keys())
    env.reset(seed=seed)  # a new episode forgets the last one's messages
    assert not env._deaths.recent and env._end is None
    env.close()


def test_fast_stat_deltas_match_the_captions_module():
    rng = np.random.default_rng(0)
    for _ in range(500):
        a, b = rng.integers(0, 4, size=6).tolist(), rng.integers(0, 4, size=6).tolist()
        assert np.array_equal(np.asarray(fast_stat_deltas(a, b), dtype=np.float32), stat_deltas([a, b]))


def test_views_are_centred_on_the_agent():
    env = make_env()
    obs, _ = env.reset(seed=1)
    fast = ObsBuilder("fast").build(obs, 2)
    assert fast["obs"][0, 5, 5] == ord("@") and fast["skill"].tolist() == [0, 0, 1, 0, 0]
    img = ObsBuilder("cdgpt5").build(obs, 0)["obs"]
    colour = int(obs["tty_colors"][obs["blstats"][1] + 1, obs["blstats"][0]]) & 15
    at = glyph_bitmaps(6)[ord("@") * 16 + colour]
    assert img.shape == (3, 72, 72) and np.array_equal(img[:, 36:42, 36:42], at)
    assert at.any() and not img[:, :6, :6].any()  # the agent is drawn; beyond the tty is black
    env.close()
    b = batch_obs("fast", obs, 4)
    assert b["obs"].shape == (1, 2, 11, 11) and b["skill"][0, 4] == 1


@pytest.mark.parametrize("encoder", sorted(VIEW_SHAPES))
def test_fresh_actor_acts_and_is_skill_conditioned(encoder):
    cfg = parse_cfg(["--encoder", encoder, "--obs_scale", "255.0"])
    actor = SkillActor.fresh(cfg)
    assert actor.model.encoder.get_out_size() > 0
    env = make_env()
    obs, _ = env.reset(seed=2)
    batch = {k: np.concatenate([batch_obs(encoder, obs, s)[k] for s in range(5)]) for k in observation_space(encoder)}
    state = actor.initial_state(5)
    actions, new_state = actor.act(batch, state, deterministic=True)
    assert actions.shape == (5,) and new_state.shape == state.shape and actions.max() < 28
    # one network for all skills: the skill one-hot changes its output
    from sample_factory.algo.utils.rl_utils import prepare_and_normalize_obs

    with torch.no_grad():
        out = actor.model(prepare_and_normalize_obs(actor.model, {k: torch.as_tensor(v) for k, v in batch.items()}),
                          state)
    logits = out["action_logits"]
    assert not torch.allclose(logits[0], logits[1])
    assert torch.count_nonzero(SkillActor.reset_state(new_state, np.array([1, 0, 0, 0, 1]))[[0, 4]]) == 0
    env.close()


def test_shipped_exploration_policy_passes_the_probe_and_runs(repo_root):
    from maestromotif.rl.validate import check_meta_policy

    path = repo_root / "rl_baseline" / "meta_policies" / "exploration" / "seed42" / "execution.py"
    probe = check_meta_policy(path)
    assert probe["ok"] and probe["first_skill"] == "discoverer"
    env = SkillEnv(SkillEnvConfig(meta_policy=str(path), llm_reward=0.0, max_episode_steps=300), env_index=1)
    env.reset(seed=5)
    rng = np.random.default_rng(5)
    for _ in range(300):
        _, _, term, trunc, info = env.step(int(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 17, 22])))
        if term or trunc:
            break
    stats = info.get("episode_extra_stats") or env.episode_stats()
    assert stats["skills/policy_errors"] == 0 and stats["skills/invalid_skill_names"] == 0
    env.close()


# ---------------------------------------------------------------- the original's reward semantics
STAY_POLICY = textwrap.dedent('''
    class NetHackPlayer:
        def __init__(self, max_depth, branch_depth):
            self.max_depth, self.branch_depth = max_depth, branch_depth
        def set_initial_values(self):
            self.skill = "descender"
        def skill_precondition(self, char_ascii_encodings, char_ascii_colors, num_items, color_map):
            return False, False
        def skill_termination(self, skill, skill_time, current_depth, previous_depth, preconditions):
            return self.END_ON_DEPTH_CHANGE and current_depth != previous_depth
        def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition,
                         worshipper_precondition):
            return "discoverer"
''')


def _wizard_skill_env(tmp_path, end_on_depth_change, **kw):
    from maestromotif.nethack import wizard
    from maestromotif.rl.obs import ENV_OBS_KEYS

    p = tmp_path / f"stay{int(end_on_depth_change)}.py"
    p.write_text(STAY_POLICY + f"\nNetHackPlayer.END_ON_DEPTH_CHANGE = {end_on_depth_change}\n")
    rewards = CountingRewards()
    env = SkillEnv(SkillEnvConfig(meta_policy=str(p), llm_reward=0.5, max_episode_steps=50, **kw), rewards=rewards)
    env.env.close()
    env.env = make_env(wizard=True, observation_keys=ENV_OBS_KEYS)
    env.reset(seed=3)
    env.first_message = bytes(env.last_obs["message"]).rstrip(b"\0")  # NLE reuses the buffer
    assert wizard.stand_on(env.env, ">")
    return env, rewards


def test_reward_scores_the_observation_before_the_action_with_its_skill(tmp_path):
    env, rewards = _wizard_skill_env(tmp_path, True)  # defaults: reward_obs="before", delta_reference="skill_start"
    _, reward, *_ = env.step(ACTION_INDEX["down"])  # scores the reset observation (counted once)
    assert rewards.calls[-1] == (env.first_message, (0.0,) * 5, 1, 1) and reward == pytest.approx(0.5 * 2)
    assert env.controller.skill == "discoverer"  # the descent ended the descender
    msg = bytes(env.last_obs["message"]).rstrip(b"\0")
    _, reward, *_ = env.step(ACTION_INDEX["search"])
    # the descent's observation: its message, dungeon level +1, scored with the skill it announced
    assert rewards.calls[-1][:3] == (msg, (1.0, 0.0, 0.0, 0.0, 0.0), 0) and reward == pytest.approx(0.5 * 1)
    env.step(ACTION_INDEX["search"])
    assert rewards.calls[-1][1][0] == 0.0  # a new skill measures from its own start
    env.close()


def test_reward_after_pays_the_descent_to_the_descender(tmp_path):
    # docs/fidelity.md: with "before" the descent is scored with the next skill's model (above); with
    # "after" (the shipped run) the descender's own model scores the observation its action led to.
    env, rewards = _wizard_skill_env(tmp_path, True, reward_obs="after")
    env.step(ACTION_INDEX["down"])
    assert env.controller.skill == "discoverer"  # the descent ended the descender ...
    assert rewards.calls[-1][1][0] == 1.0 and rewards.calls[-1][2] == SKILL_NAMES.index("descender")  # ... which is paid
    env.close()


def test_dungeon_level_delta_against_the_skill_start_or_one_step(tmp_path):
    for reference, later in (("skill_start", 1.0), ("step", 0.0)):
        env, rewards = _wizard_skill_env(tmp_path, False, delta_reference=reference, reward_obs="after")
        env.step(ACTION_INDEX["down"])
        assert rewards.calls[-1][1][0] == 1.0 and env.controller.skill == "descender"
        for _ in range(3):
            env.step(ACTION_INDEX["search"])
            assert rewards.calls[-1][1][0] == later, reference
        env.close()


def test_intrinsic_reward_bypasses_reward_scale_and_clip(policy_path):
    rewards = CountingRewards()
    cfg = SkillEnvConfig(meta_policy=policy_path, llm_reward=0.1, extrinsic_reward=1.0, reward_scale=0.1,
                         reward_clip=10.0, max_episode_steps=30, seed=1)
    env = SkillEnv(cfg, rewards=rewards)
    env.reset(seed=0)
    for _ in range(20):
        running = env.controller.skill_index
        score0 = env._score
        _, reward, term, trunc, _ = env.step(ACTION_INDEX["search"])
        score = env._score - score0
        # what sample-factory's learner sees: clip(0.1 * reward); extrinsic clipped, intrinsic 0.1 * r_int
        expected = min(10.0, 0.1 * score) + 0.1 * (running + 1)
        assert min(10.0, 0.1 * reward) == pytest.approx(expected)
        if term or trunc:
            break
    env.close()


def test_original_recipe_defaults():
    cfg = parse_cfg([])
    assert cfg.max_episode_steps == 10_000 and cfg.with_vtrace and not cfg.normalize_returns
    assert cfg.reward_clip == 10.0 and cfg.msg_max_keys == 20
    assert (cfg.reward_obs, cfg.delta_reference, cfg.diff_h) == ("before", "skill_start", 1000)
    assert (cfg.skill_time_unit, cfg.keep_messages, cfg.item_prompt) == ("turns", "original", "agent")
    env_cfg = SkillEnvConfig.from_cfg(parse_cfg(["--reward_scale", "0.1", "--meta_policy", "x.py"]))
    assert env_cfg.reward_scale == 0.1 and env_cfg.reward_clip == 10.0 and env_cfg.max_episode_steps == 10_000
