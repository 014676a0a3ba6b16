"""scripts/main.py flags and the checks that run before any sample-factory worker starts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from maestromotif.rl.config import (
    DEFAULT_REWARD_DIRS,
    FLAGS,
    eps_quantiles,
    meta_policy_file,
    parse_cfg,
    reward_dirs,
)
from maestromotif.rl.train import main
from maestromotif.utils.errors import UserError

ORIGINAL_COMMAND = [
    "--algo", "APPO", "--num_workers", "24", "--num_envs_per_worker", "20", "--batch_size", "4096",
    "--reward_scale", "0.1", "--obs_scale", "255.0", "--train_for_env_steps", "4_000_000_000",
    "--save_every_steps", "50_000_000", "--keep_checkpoints", "5", "--stats_avg", "1000", "--seed", "2",
    "--code_seed", "42", "--reward_dir",
    "['train_dir/skill_rewards/gemma270m_discoverer_default',\n'train_dir/skill_rewards/gemma270m_descender_default',"
    "\n'train_dir/skill_rewards/gemma270m_ascender_default',\n'train_dir/skill_rewards/gemma270m_worshipper_default',"
    "\n'train_dir/skill_rewards/gemma270m_merchant_default']",
    "--extrinsic_reward", "0.0", "--llm_reward", "0.1", "--train_dir", "train_dir/skill_policy/",
    "--experiment", "default",
]

GOOD_POLICY = textwrap.dedent('''
    class NetHackPlayer:
        def __init__(self, max_depth, branch_depth):
            self.max_depth, self.branch_depth = max_depth, branch_depth
        def set_initial_values(self):
            self.skill = "discoverer"
        def skill_precondition(self, char_ascii_encodings, char_ascii_colors, num_items, color_map):
            return False, False
        def skill_termination(self, skill, skill_time, current_depth, previous_depth, preconditions):
            return skill_time >= 20
        def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition,
                         worshipper_precondition):
            return "descender" if current_skill == "discoverer" else "discoverer"
''')


def test_the_original_command_parses():
    cfg = parse_cfg(ORIGINAL_COMMAND)
    assert cfg.env == "nle_maestro" and cfg.algo == "APPO"
    assert cfg.train_for_env_steps == 4_000_000_000 and cfg.save_every_steps == 50_000_000
    assert cfg.num_workers == 24 and cfg.batch_size == 4096 and cfg.obs_scale == 255.0
    assert cfg.llm_reward == 0.1 and cfg.extrinsic_reward == 0.0 and cfg.code_seed == 42
    assert reward_dirs(cfg) == list(DEFAULT_REWARD_DIRS)
    assert str(meta_policy_file(cfg)) == "rl_baseline/meta_policies/exploration/seed42/execution.py"


def test_defaults_spellings_and_lists():
    cfg = parse_cfg([])
    assert reward_dirs(cfg) == list(DEFAULT_REWARD_DIRS) and cfg.encoder == "fast"
    assert cfg.beta_count_exponent == 3.0 and eps_quantiles(cfg) == [0.95, 0.85, 0.85, 0.85, 0.85]
    cfg = parse_cfg(["--llm-reward", "0.5", "--reward-dir", "a,b", "--eps_threshold_quantile", "0.85",
                     "--train-for-env-steps=1_000_000"])
    assert cfg.llm_reward == 0.5 and reward_dirs(cfg) == ["a", "b"] and eps_quantiles(cfg) == 0.85
    assert cfg.train_for_env_steps == 1_000_000


def test_help_explains_every_flag():
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-m", "scripts.main", "--help"], capture_output=True, text=True,
                         timeout=120, cwd=root).stdout
    for f in FLAGS:
        assert f"--{f.name}" in out
    assert "--train_for_seconds" in out and "--encoder" in out


def _argv(tmp_path, *extra):
    return ["--train_dir", str(tmp_path / "train"), "--experiment", "x", "--num_workers", "1", *extra]


def _policy(tmp_path, text=GOOD_POLICY):
    p = tmp_path / "execution.py"
    p.write_text(text)
    return str(p)


def test_missing_reward_dir_fails_before_any_worker(tmp_path):
    t = time.time()
    with pytest.raises(UserError, match="reward model directory of skill 'discoverer' not found"):
        main(_argv(tmp_path, "--meta_policy", _policy(tmp_path), "--reward_dir", str([str(tmp_path / "nope")] * 5)))
    with pytest.raises(UserError, match="lists 2 directories"):
        main(_argv(tmp_path, "--meta_policy", _policy(tmp_path), "--reward_dir", "a,b"))
    assert not (tmp_path / "train").exists() and time.time() - t < 30


def test_missing_or_invalid_meta_policy_fails_before_any_worker(tmp_path):
    with pytest.raises(UserError, match="policy over skills not found"):
        main(_argv(tmp_path, "--llm_reward", "0", "--meta_policy_dir", str(tmp_path / "none")))
    with pytest.raises(UserError, match="not usable.*SyntaxError|not usable.*cannot be imported|refused by the code screen.*syntax error"):
        main(_argv(tmp_path, "--llm_reward", "0", "--meta_policy", _policy(tmp_path, "class NetHackPlayer(:\n")))
    bad_skill = GOOD_POLICY.replace('return "descender" if', 'return "flyer" if')
    with pytest.raises(UserError, match="returned 'flyer'"):
        main(_argv(tmp_path, "--llm_reward", "0", "--meta_policy", _policy(tmp_path, bad_skill)))
    looping = GOOD_POLICY.replace('self.skill = "discoverer"', 'while True: pass')
    from maestromotif.rl import validate

    with pytest.raises(UserError, match="did not answer within 3 s"):
        validate.check_meta_policy(_policy(tmp_path, looping), timeout=3)
    assert not (tmp_path / "train").exists()


def test_unknown_encoder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="unknown encoder 'resnet'"):
        main(_argv(tmp_path, "--llm_reward", "0", "--meta_policy", _policy(tmp_path), "--encoder", "resnet"))


def test_evaluation_dispatch(tmp_path, monkeypatch):
    import importlib.util

    try:
        available = importlib.util.find_spec("maestromotif.eval.main_eval") is not None
    except ModuleNotFoundError:  # no maestromotif.eval package at all
        available = False
    if not available:
        with pytest.raises(UserError, match="evaluation is not available"):
            main(_argv(tmp_path, "--evaluation", "True", "--eval_target", "gnomish"))
    else:  # the evaluation package is installed: main hands it the parsed config
        import maestromotif.eval.main_eval as me

        seen = {}
        monkeypatch.setattr(me, "evaluate_from_main_cfg", lambda cfg: seen.setdefault("cfg", cfg) and 0)
        main(_argv(tmp_path, "--evaluation", "True", "--eval_target", "gnomish"))
        assert seen["cfg"].eval_target == "gnomish" and seen["cfg"].evaluation is True
