"""Nothing silent (issue 18): every bad input of docs/robustness.md ends in a clear error or is handled.

Real files throughout: the shipped og_dataset/ datasets, preference/ labels and reward models, label
files written by the real annotator (scripted LLM), reward models trained for one epoch, policy files
loaded through the real loader, the real NetHack game for the options framework.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from maestromotif.annotation.annotator import AnnotationConfig, annotate
from maestromotif.annotation.store import LabelStore
from maestromotif.data.dataset import load_dataset, save_dataset
from maestromotif.llm.scripted import ScriptedBackend
from maestromotif.reward.checkpoint import load_checkpoint, save_checkpoint
from maestromotif.reward.config import RewardConfig
from maestromotif.reward.runtime import SkillReward, SkillRewardSet
from maestromotif.reward.train import train_reward_model
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_REWARDS = [ROOT / "train_dir" / "skill_rewards" / f"gemma270m_{s}_classify" for s in SKILL_NAMES]
QUIET = {"log": lambda *a: None}


@pytest.fixture(autouse=True)
def one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _sample(msg: str, dlvl=(1, 1)) -> dict:
    return {"msg_strs": ("", msg), "stats_list": [[dlvl[0], 0, 10, 10, 1, 1], [dlvl[1], 0, 10, 10, 1, 1]]}


DOWN, DOOR, KILL = _sample("You descend.", (1, 2)), _sample("The door opens."), _sample("You kill the newt!")


def _annotate_cfg(tmp_path, **kw) -> AnnotationConfig:
    base = dict(directory=str(tmp_path / "data"), goal_key="descender", backend="scripted", mode="generate",
                preference_dir=str(tmp_path / "preference"), logdir="", progress=0, annotator="scripted")
    base.update(kw)
    return AnnotationConfig(**base)


def _judge(chat) -> str:  # prefers the description that went down
    text = chat[-1]["content"]
    d1, d2 = text.split('{"description_1":')[1].split('{"description_2":')
    v = "1" if "went down" in d1 and "went down" not in d2 else "2" if "went down" in d2 else "None"
    return f'("best_description": {v})'


# -- artefacts know what they were made from ------------------------------------------------------
def test_shipped_labels_refuse_another_dataset(tmp_path):
    cfg = RewardConfig.quick(ROOT / "og_dataset" / "ascender.pkl",
                             ROOT / "preference" / "gemma270m_descender_classify.npy", tmp_path)
    want = json.loads((ROOT / "og_dataset" / "descender.meta.json").read_text())["fingerprint"]
    with pytest.raises(UserError, match=f"annotated on dataset content {want}") as e:
        train_reward_model(cfg, **QUIET)
    assert "--dataset og_dataset/descender.pkl" in str(e.value)


def test_changed_dataset_of_same_size_is_refused_then_ignore_existing_restarts(tmp_path):
    save_dataset(tmp_path / "data" / "descender.pkl", [DOWN, DOOR, DOOR, KILL])
    run = annotate(_annotate_cfg(tmp_path), backend=ScriptedBackend(answers=_judge))
    assert run["annotated_now"] == 2
    save_dataset(tmp_path / "data" / "descender.pkl", [DOOR, DOWN, KILL, DOWN])  # recollected, same size
    with pytest.raises(UserError, match="another version of .*same size, content fingerprint") as e:
        annotate(_annotate_cfg(tmp_path), backend=ScriptedBackend(answers=_judge))
    assert "--ignore-existing 1" in str(e.value) and "--custom-annotator-string" in str(e.value)
    run = annotate(_annotate_cfg(tmp_path, ignore_existing=1), backend=ScriptedBackend(answers=_judge))
    assert run["annotated_now"] == 2 and run["already_done"] == 0
    assert list(np.load(tmp_path / "preference" / "scripted_descender_default.npy")) == [1, 1]


def test_grown_dataset_leads_to_a_fresh_annotation_of_every_chunk(tmp_path):
    save_dataset(tmp_path / "data" / "descender.pkl", [DOWN, DOOR, DOOR, KILL])
    for c in range(2):
        annotate(_annotate_cfg(tmp_path, n_annotation_chunks=2, chunk_number=c), backend=ScriptedBackend(answers=_judge))
    save_dataset(tmp_path / "data" / "descender.pkl", [DOWN, DOOR, DOOR, KILL, KILL, DOWN])  # grew
    with pytest.raises(UserError, match="2 pairs then, 3 now"):
        annotate(_annotate_cfg(tmp_path, n_annotation_chunks=2), backend=ScriptedBackend(answers=_judge))
    for c in range(2):
        annotate(_annotate_cfg(tmp_path, n_annotation_chunks=2, chunk_number=c, ignore_existing=int(c == 0)),
                 backend=ScriptedBackend(answers=_judge))
    labels = np.load(tmp_path / "preference" / "scripted_descender_default.npy")
    assert list(labels) == [0, 2, 1]
    ds = load_dataset(tmp_path / "data" / "descender.pkl")
    side = json.loads((tmp_path / "preference" / "scripted_descender_default.config.json").read_text())
    assert side["dataset_fingerprint"] == ds.fingerprint


def test_reward_model_records_its_dataset_and_skill(tmp_path):
    out = train_reward_model(RewardConfig.quick(ROOT / "og_dataset" / "descender.pkl",
                                                ROOT / "preference" / "gemma270m_descender_classify.npy", tmp_path),
                             **QUIET)
    side = json.loads((out / "checkpoint.json").read_text())
    want = json.loads((ROOT / "og_dataset" / "descender.meta.json").read_text())["fingerprint"]
    assert side["skill"] == "descender" and side["dataset_fingerprint"] == want
    assert load_checkpoint(out / "checkpoint.pt")["dataset_fingerprint"] == want


def test_reward_dirs_in_the_wrong_order_are_refused_and_a_mapping_is_accepted():
    from maestromotif.rl.config import reward_dirs
    from maestromotif.rl.validate import check_reward_dirs

    dirs = [str(d) for d in SHIPPED_REWARDS]
    check_reward_dirs(dirs)
    swapped = [dirs[1], dirs[0], *dirs[2:]]
    with pytest.raises(UserError, match="wrong order: position 0 is for 'discoverer' but .*descender"):
        check_reward_dirs(swapped)

    class Cfg:
        reward_dir = "{" + ", ".join(f"'{s}': '{d}'" for s, d in reversed(list(zip(SKILL_NAMES, dirs)))) + "}"
    assert reward_dirs(Cfg) == dirs


# -- empty / degenerate labels ---------------------------------------------------------------------
def test_empty_dataset_is_refused_by_annotation(tmp_path):
    save_dataset(tmp_path / "data" / "descender.pkl", [])
    with pytest.raises(UserError, match="0 pairs"):
        annotate(_annotate_cfg(tmp_path), backend=ScriptedBackend(answers=_judge))
    assert not (tmp_path / "preference" / "scripted_descender_default.npy").exists()


def test_all_tie_labels_are_refused_and_mostly_unknown_warns_with_numbers(tmp_path, capsys):
    ds = ROOT / "og_dataset" / "descender.pkl"
    n = len(np.load(ROOT / "preference" / "gemma270m_descender_classify.npy"))
    np.save(tmp_path / "tie.npy", np.full(n, 2))
    with pytest.raises(UserError, match="every usable label is a tie"):
        train_reward_model(RewardConfig.quick(ds, tmp_path / "tie.npy", tmp_path), **QUIET)
    # a smoke run on a few pairs may ask for a flat model instead (the pipeline's tiny preset)
    out = train_reward_model(RewardConfig.quick(ds, tmp_path / "tie.npy", tmp_path / "flat", allow_all_ties=True),
                             **QUIET)
    assert "every usable label is a tie" in capsys.readouterr().err
    ck = load_checkpoint(Path(out) / "checkpoint.pt")
    assert all(torch.isfinite(v).all() for v in ck["model"].values() if v.is_floating_point())
    labels = np.load(ROOT / "preference" / "gemma270m_descender_classify.npy")
    labels[n // 50:] = 3  # 98 % unknown
    np.save(tmp_path / "few.npy", labels)
    train_reward_model(RewardConfig.quick(ds, tmp_path / "few.npy", tmp_path, val_fraction=0.0), **QUIET)
    assert f"WARNING: {n - n // 50} of {n} labels (98%)" in capsys.readouterr().err


# -- numbers are finite -----------------------------------------------------------------------------
def test_nonfinite_training_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    cfg = RewardConfig.quick(ROOT / "og_dataset" / "descender.pkl",
                             ROOT / "preference" / "gemma270m_descender_classify.npy", tmp_path,
                             reward_lr=1e3, batch_size=100, num_epochs=2)
    with pytest.raises(UserError, match="training stopped: (loss|non-finite).*last good checkpoint is kept"):
        train_reward_model(cfg, **QUIET)
    ck = load_checkpoint(cfg.out_dir / "checkpoint.pt")
    assert all(torch.isfinite(v).all() for v in ck["model"].values() if v.is_floating_point())
    assert np.isfinite(ck["reward_mean"]) and np.isfinite(ck["reward_std"])


def test_bit_flipped_or_nan_checkpoint_is_refused_by_rl(tmp_path):
    d = tmp_path / "gemma270m_descender_default"
    shutil.copytree(SHIPPED_REWARDS[1], d)
    raw = bytearray((d / "checkpoint.pt").read_bytes())
    raw[len(raw) // 2] ^= 0x10
    (d / "checkpoint.pt").write_bytes(bytes(raw))
    dirs = [str(x) for x in SHIPPED_REWARDS]
    with pytest.raises(UserError, match="do not match the checksum"):
        SkillRewardSet.load([dirs[0], str(d), *dirs[2:]])
    ck = load_checkpoint(SHIPPED_REWARDS[1] / "checkpoint.pt")
    ck["model"] = {k: (v * float("nan") if v.is_floating_point() else v) for k, v in ck["model"].items()}
    save_checkpoint(d / "checkpoint.pt", {k: v for k, v in ck.items() if k != "format"})  # valid checksum
    with pytest.raises(UserError, match="non-finite values"):
        SkillReward.load(d)


# -- untrusted code stays untrusted ----------------------------------------------------------------
POLICY = textwrap.dedent('''
    class NetHackPlayer:
        def __init__(self, max_depth, branch_depth):
            self.max_depth, self.branch_depth = max_depth, branch_depth
        def set_initial_values(self):
            self.skill = "discoverer"
        def skill_precondition(self, char_ascii_encodings, char_ascii_colors, num_items, color_map):
            return False, False
        def skill_termination(self, skill, skill_time, current_depth, previous_depth, preconditions):
            return True
        def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition,
                         worshipper_precondition):
            BODY
''')


def test_policy_with_os_system_is_refused_before_any_line_runs(tmp_path):
    from maestromotif.skills.interface import load_policy_class

    marker = tmp_path / "pwned"
    p = tmp_path / "execution.py"
    p.write_text(f"import os\nos.system('touch {marker}')\n" + POLICY.replace("BODY", "return 'descender'"))
    with pytest.raises(UserError, match="refused by the code screen.*os"):
        load_policy_class(p)
    p.write_text(POLICY.replace("BODY", f"__import__('os').system('touch {marker}')"))
    with pytest.raises(UserError, match="refused by the code screen"):
        load_policy_class(p)
    assert not marker.exists()
    p.write_text(POLICY.replace("BODY", "try:\n            return 'x'\n        except:\n            return 'y'"))
    with pytest.raises(UserError, match="bare 'except:'"):
        load_policy_class(p)


def test_endless_loop_at_import_is_cut(tmp_path, monkeypatch):
    import maestromotif.skills.interface as interface

    monkeypatch.setattr(interface, "IMPORT_BUDGET_S", 0.3)
    p = tmp_path / "execution.py"
    p.write_text("while True:\n    pass\n" + POLICY.replace("BODY", "return 'descender'"))
    t = time.perf_counter()
    with pytest.raises(UserError, match="cannot be imported .*PolicyTimeout"):
        interface.load_policy_class(p)
    assert time.perf_counter() - t < 5


def test_endless_and_failing_policy_calls_are_bounded_and_counted(tmp_path):
    from maestromotif.nethack.env import make_env
    from maestromotif.skills.interface import load_policy_class
    from maestromotif.skills.options import OptionsController

    p = tmp_path / "execution.py"
    p.write_text(POLICY.replace("BODY", "while True:\n                try:\n                    pass\n"
                                        "                except Exception:\n                    pass"))
    ctrl = OptionsController(load_policy_class(p), rng=random.Random(0))
    ctrl.call_budget_s = 0.2
    env = make_env()
    try:
        obs, info = env.reset(seed=0)
        ctrl.reset(obs, info)
        t0 = time.perf_counter()
        for _ in range(3):
            obs, *_, info = env.step(0)
            ctrl.step(obs, info)
        assert time.perf_counter() - t0 < 5
        st = ctrl.stats()
        assert st["policy_timeouts"] == 3 and st["policy_errors"] == 3 and ctrl.skill == "discoverer"
        p2 = tmp_path / "p2" / "execution.py"
        p2.parent.mkdir()
        p2.write_text(POLICY.replace("BODY", "return 'flyer' if dungeon_depth else 1 / 0"))
        ctrl2 = OptionsController(load_policy_class(p2), rng=random.Random(0))
        ctrl2.reset(obs, info)
        obs, *_, info = env.step(0)
        ctrl2.step(obs, info)
        assert ctrl2.stats()["invalid_skill_names"] == 1
    finally:
        env.close()


def test_evaluation_table_reports_policy_errors_per_task():
    from maestromotif.eval.report import build_report, markdown

    class Cfg:
        tasks, agents, episodes, max_episode_steps, seed, checkpoint = ["gnomish"], ["maestromotif"], 2, 10, 0, "x"
    recs = [{"task": "gnomish", "agent": "maestromotif", "run_key": "k", "episode": i, "proxy": 0, "exact": 0,
             "progression": 0.0, "steps": 5, "end": "death",
             "agent_stats": {"policy_errors": 2, "policy_timeouts": 1, "invalid_skill_names": 3}} for i in range(2)]
    rep = build_report(recs, Cfg, {("gnomish", "maestromotif"): "k"})
    row = rep["rows"][0]
    assert (row["policy_errors"], row["policy_timeouts"], row["skill_fallbacks"]) == (4, 2, 6)
    rep["config"] = {"max_episode_steps": 10, "seed": 0, "episodes": 2, "checkpoint": "x"}
    assert "| maestromotif | 4 | 2 | 6 |" in markdown(rep)


def test_pickle_free_dataset_copy_loads_the_same():
    a = load_dataset(ROOT / "og_dataset" / "merchant.pkl")
    b = load_dataset(ROOT / "og_dataset" / "merchant.npz")
    assert a.fingerprint == b.fingerprint == a.meta["fingerprint"]


# -- hangs and dead ends ---------------------------------------------------------------------------
@pytest.mark.parametrize("n", ["0", "-1"])
def test_main_refuses_zero_or_negative_workers_at_once(tmp_path, n):
    from maestromotif.rl.train import main

    t = time.time()
    with pytest.raises(UserError, match=f"--num_workers {n} is out of range"):
        main(["--train_dir", str(tmp_path), "--experiment", "x", "--num_workers", n, "--llm_reward", "0"])
    assert time.time() - t < 30 and not (tmp_path / "x").exists()


@pytest.mark.parametrize("argv,match", [(["--policy", "nosuch"], "unknown collection policy 'nosuch'"),
                                        (["--num_workers", "0"], "--num_workers 0 is out of range"),
                                        (["--num_workers", "-1"], "--num_workers -1 is out of range")])
def test_collect_refuses_bad_policy_and_workers_before_any_worker(tmp_path, argv, match):
    from scripts.collect_dataset import main

    with pytest.raises(UserError, match=match):
        main(["--out", str(tmp_path / "d"), "--num_pairs", "2", *argv])
    assert not (tmp_path / "d" / ".collect").exists()


def test_unreachable_base_url_is_one_clear_error(tmp_path):
    save_dataset(tmp_path / "data" / "descender.pkl", [DOWN, DOOR])
    proc = subprocess.run([sys.executable, "-m", "scripts.annotate_pairs", "--directory", str(tmp_path / "data"),
                           "--goal_key", "descender", "--backend", "openai", "--base_url", "http://127.0.0.1:9/v1",
                           "--model", "m", "--max_retries", "0", "--mode", "generate", "--progress", "0",
                           "--preference_dir", str(tmp_path / "pref"), "--logdir", ""],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "http://127.0.0.1:9/v1/chat/completions" in proc.stderr and "--base_url" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3


def test_same_chunk_twice_at_once_is_refused(tmp_path):
    save_dataset(tmp_path / "data" / "descender.pkl", [DOWN, DOOR])
    store = LabelStore(tmp_path / "preference", "scripted_descender_default", 1)
    with store.chunk_lock(0, 1):  # another job holds it (flock: released when that job dies)
        with pytest.raises(UserError, match="being annotated right now by pid"):
            annotate(_annotate_cfg(tmp_path), backend=ScriptedBackend(answers=_judge))
    assert annotate(_annotate_cfg(tmp_path), backend=ScriptedBackend(answers=_judge))["annotated_now"] == 1


def test_small_cli_dead_ends():
    from scripts.inspect_reward import main as inspect_main
    from scripts.merge_annotations import parse_args as merge_args
    from scripts.skill_report import default_out

    assert merge_args(["--all", "--directory", "og_dataset"]).all is True  # the --help example
    assert merge_args(["--all", "1"]).all is True and merge_args(["--experiment", "a", "--all", "false"]).all is False
    assert default_out("train_dir/skill_policy/default") == Path("skill_reports/default")
    with pytest.raises(UserError, match=r"must be 5 integers in the order dlvl,gold,hp,xl,hunger"):
        inspect_main(["--reward_dir", str(SHIPPED_REWARDS[1]), "--top", "0", "--message", "You climb. [1,0,0]"])


def test_one_flag_declaration_spellings_and_booleans():
    from scripts.train_reward import parse_args

    a = parse_args(["--reward-lr", "0.01", "--directory", "d", "--progress", "false", "--plot", "--keep_deltas", "all"])
    assert a.reward_lr == 0.01 and a.dataset_dir == "d" and a.progress is False and a.plot is True
    assert len(a.keep_deltas) == 5
    with pytest.raises(SystemExit):
        parse_args(["--progress", "maybe"])


def test_evaluate_and_main_refuse_a_hostile_policy_before_running_it(tmp_path):
    from maestromotif.rl.train import main as rl_main
    from scripts.evaluate import main as eval_main

    marker = tmp_path / "pwned"
    shipped = (ROOT / "rl_baseline" / "meta_policies" / "gnomish" / "seed42" / "execution.py").read_text()
    hostile = tmp_path / "mp" / "gnomish" / "seed42" / "execution.py"
    hostile.parent.mkdir(parents=True)
    hostile.write_text(f"import os\nos.system('touch {marker}')\n" + shipped)
    with pytest.raises(UserError, match="refused by the code screen"):
        eval_main(["--task", "gnomish", "--episodes", "1", "--agents", "random_skills", "--checkpoint", "fresh",
                   "--meta_policies", str(tmp_path / "mp"), "--out", str(tmp_path / "out"), "--progress", "0"])
    with pytest.raises(UserError, match="refused by the code screen"):
        rl_main(["--train_dir", str(tmp_path / "train"), "--experiment", "x", "--num_workers", "1",
                 "--llm_reward", "0", "--meta_policy", str(hostile)])
    assert not marker.exists() and not (tmp_path / "train" / "x").exists()
