"""scripts/main.py flags and the checks that run before any sample-factory worker starts."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from maestromotif.rl.config import (
    FLAGS,
    default_reward_dirs,
    eps_quantiles,
    meta_policy_file,
    parse_cfg,
    reward_dirs,
)
from maestromotif.rl.train import main
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.errors import UserError
from maestromotif.workspace import ENV_VAR, SHIPPED, workspace

ORIGINAL_COMMAND = [
    "--algo", "APPO", "--num_workers", "24", "--num_envs_per_worker", "20", "--batch_size", "4096",
    "--reward_scale", "0.1", "--obs_scale", "255.0", "--train_for_env_steps", "4_000_000_000",
    "--save_every_steps", "50_000_000", "--keep_checkpoints", "5", "--stats_avg", "1000", "--seed", "2",
    "--code_seed", "42", "--reward_dir",
    "['train_dir/skill_rewards/gemma270m_discoverer_classify',\n'train_dir/skill_rewards/gemma270m_descender_classify',"
    "\n'train_dir/skill_rewards/gemma270m_ascender_classify',\n'train_dir/skill_rewards/gemma270m_worshipper_classify',"
    "\n'train_dir/skill_rewards/gemma270m_merchant_classify']",
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
    # the original's relative paths, given on the command line, are read relative to the current directory
    # (the checkout here, where they exist)
    assert reward_dirs(cfg) == [f"train_dir/skill_rewards/gemma270m_{s}_classify" for s in SKILL_NAMES]
    assert cfg.train_dir == "train_dir/skill_policy/"
    # not given: the workspace's
    assert meta_policy_file(cfg) == workspace().meta_policies / "exploration" / "seed42" / "execution.py"


def test_defaults_spellings_and_lists():
    cfg = parse_cfg([])
    assert reward_dirs(cfg) == default_reward_dirs() and cfg.encoder == "fast"
    assert cfg.beta_count_exponent == 3.0 and eps_quantiles(cfg) == [0.95, 0.85, 0.85, 0.85, 0.85]
    cfg = parse_cfg(["--llm-reward", "0.5", "--reward-dir", "a,b", "--eps_threshold_quantile", "0.85",
                     "--train-for-env-steps=1_000_000"])
    assert cfg.llm_reward == 0.5 and eps_quantiles(cfg) == 0.85
    assert reward_dirs(cfg) == [str(workspace().root / "a"), str(workspace().root / "b")]  # not under cwd
    assert cfg.train_for_env_steps == 1_000_000


def test_path_defaults_follow_the_workspace_from_any_directory(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    cfg = parse_cfg([])
    w = workspace()
    assert cfg.train_dir == str(w.skill_policy) and cfg.meta_policy_dir == str(w.meta_policies)
    assert reward_dirs(cfg) == [str(w.skill_rewards / f"gemma270m_{s}_classify") for s in SKILL_NAMES]
    assert meta_policy_file(cfg) == w.meta_policies / "exploration" / "seed42" / "execution.py"
    # resuming: the experiment's train_dir is where it was found, not the (relative) one its config recorded
    assert cfg.cli_args["train_dir"] == cfg.train_dir

    other = tmp_path / "ws"
    cfg = parse_cfg(["--workspace", str(other), "--meta_policy_dir", "mine"])
    assert cfg.train_dir == str(other / "train_dir" / "skill_policy")
    assert cfg.meta_policy_dir == "mine"  # given: as typed, relative to the current directory ...
    (tmp_path / "mine" / "exploration" / "seed42").mkdir(parents=True)
    assert meta_policy_file(cfg) == Path("mine/exploration/seed42/execution.py")
    monkeypatch.setenv(ENV_VAR, str(other))
    assert parse_cfg([]).meta_policy_dir == str(other / "rl_baseline" / "meta_policies")


def test_paths_recorded_in_the_shipped_policy_resolve_from_another_directory(monkeypatch, tmp_path):
    from maestromotif.rl.actor import load_cfg
    from maestromotif.workspace import resolve_recorded

    exp = SHIPPED.skill_policy / "default"
    if not (exp / "config.json").is_file():
        pytest.skip("no shipped skill policy in this checkout")
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    cfg = load_cfg(exp)
    assert not Path(cfg.meta_policy).is_absolute()  # recorded relative to the workspace root
    assert meta_policy_file(cfg).is_file()
    assert all(Path(d).is_dir() for d in reward_dirs(cfg))
    from maestromotif.rl.collect_policy import CheckpointPolicy

    assert CheckpointPolicy(exp).controller is not None  # the loader finds the recorded policy over skills
    # absolute: as is; relative existing under cwd: as given; else under the workspace root (or a base)
    (tmp_path / "here").mkdir()
    assert resolve_recorded("here") == Path("here")
    assert resolve_recorded("/x/y") == Path("/x/y")
    assert resolve_recorded("nowhere", root=tmp_path / "w") == tmp_path / "w" / "nowhere"
    assert resolve_recorded("here", bases=(tmp_path,)) == Path("here")
    (tmp_path / "b" / "only").mkdir(parents=True)
    assert resolve_recorded("only", root=tmp_path / "w", bases=(tmp_path / "b",)) == tmp_path / "b" / "only"
    # absolute but gone (trained in another checkout): the same artefact under this workspace
    (tmp_path / "w" / "train_dir" / "skill_rewards" / "m").mkdir(parents=True)
    moved = "/elsewhere/ckout/train_dir/skill_rewards/m"
    assert resolve_recorded(moved, root=tmp_path / "w") == tmp_path / "w" / "train_dir" / "skill_rewards" / "m"
    assert resolve_recorded("/elsewhere/ckout/train_dir/skill_rewards/gone", root=tmp_path / "w") == \
        Path("/elsewhere/ckout/train_dir/skill_rewards/gone")  # not there either: the recorded path in errors


def test_help_explains_every_flag_and_shows_workspace_defaults(tmp_path):
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-m", "scripts.main", "--help"], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(root)}).stdout
    for f in FLAGS:
        assert f"--{f.name}" in out
    assert "--train_for_seconds" in out and "--encoder" in out
    flat = "".join(out.split())  # argparse wraps anywhere
    for flag, shown in (("--train_dir", "<workspace>/train_dir/skill_policy"),
                        ("--meta_policy_dir", "<workspace>/rl_baseline/meta_policies"),
                        ("--reward_dir", "<workspace>/train_dir /skill_rewards/gemma270m_<skill>_classify"),
                        ("--workspace DIR", "$MAESTROMOTIF_WORKSPACE")):
        assert flag in out and shown.replace(" ", "") in flat, shown


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
    """scripts.main (the entry point, not the rl layer) sends --evaluation True to the evaluation, with the
    evaluation's flags injected into rl's parser; the rl layer alone refuses to treat it as training."""
    import maestromotif.eval.main_eval as me
    from scripts.main import main as entry

    seen = {}
    monkeypatch.setattr(me, "evaluate_from_main_cfg", lambda cfg: seen.setdefault("cfg", cfg) and 0)
    assert entry(_argv(tmp_path, "--evaluation", "True", "--eval_target", "gnomish", "--eval_episodes", "3")) == 0
    cfg = seen["cfg"]
    assert cfg.eval_target == "gnomish" and cfg.evaluation is True and cfg.eval_episodes == 3
    with pytest.raises(SystemExit):  # the evaluation's flags exist only in evaluation mode
        parse_cfg(["--eval_episodes", "3"])
    with pytest.raises(UserError, match="scripts.main"):
        main(_argv(tmp_path, "--evaluation", "True", "--eval_target", "gnomish"))
    assert not (tmp_path / "train").exists()
