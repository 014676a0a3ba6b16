"""One artefact layout (maestromotif/workspace.py) and one JSONL store (maestromotif/utils/jsonl.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from maestromotif.data.dataset import FIRST, SECOND, TIE, UNKNOWN, flip
from maestromotif.eval.evaluator import EpisodeStore, EvalConfig
from maestromotif.utils.cli import arg, make_parser, parse, ws_arg
from maestromotif.utils.jsonl import AppendLog, append_record, read_jsonl
from maestromotif.workspace import ENV_VAR, LAYOUT, SHIPPED, Workspace, default_root

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Args:
    checkpoint: str = ws_arg("skill_policy/default", "skill policy")
    data: str = ws_arg("og_dataset", "datasets")
    n: int = arg(1, "a number")


def test_layout_is_the_repository_and_the_checkout_has_the_shipped_files():
    assert SHIPPED.root == ROOT
    for name in ("og_dataset", "preference", "skill_rewards", "skill_policy", "meta_policies", "code_generation"):
        assert SHIPPED.path(name).is_dir(), name
    assert Workspace("/w").path("skill_policy/default") == Path("/w/train_dir/skill_policy/default")
    assert Workspace("/w").meta_policies == Path("/w") / LAYOUT["meta_policies"]
    with pytest.raises(KeyError, match="unknown workspace path"):
        Workspace("/w").path("nowhere")


def test_root_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)  # the current directory does not matter
    assert default_root() == ROOT
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert default_root() == tmp_path / "env"
    assert default_root(tmp_path / "flag") == tmp_path / "flag"


def test_flag_defaults_follow_the_workspace_and_given_paths_do_not(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    a = parse(Args, [], prog="x")
    assert a.checkpoint == str(ROOT / "train_dir/skill_policy/default") and a.data == str(ROOT / "og_dataset")
    a = parse(Args, ["--workspace", str(tmp_path / "w"), "--data", "mine"], prog="x")
    assert a.checkpoint == str(tmp_path / "w/train_dir/skill_policy/default")
    assert a.data == "mine"  # a path on the command line is the user's, read from the current directory
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "e"))
    assert parse(Args, [], prog="x").checkpoint == str(tmp_path / "e/train_dir/skill_policy/default")
    assert Args().data == str(tmp_path / "e/og_dataset")  # library use: same default
    assert EvalConfig(tasks=[]).meta_policies == str(tmp_path / "e/rl_baseline/meta_policies")
    help_text = make_parser(Args, "x").format_help()
    assert "<workspace>/train_dir/skill_policy/default" in help_text and "--workspace" in help_text



def test_collect_and_annotate_path_defaults_follow_the_workspace(monkeypatch, tmp_path):
    from scripts.annotate_pairs import parse_args as annotate_args
    from scripts.collect_dataset import parse_args as collect_args

    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    w = Workspace(tmp_path / "w")
    assert collect_args([]).out == str(SHIPPED.og_dataset)
    assert collect_args(["--workspace", str(w.root)]).out == str(w.og_dataset)
    a = annotate_args(["--workspace", str(w.root)])
    assert (a.directory, a.preference_dir, a.logdir) == (str(w.og_dataset), str(w.preference),
                                                         str(w.path("prompt_logs")))
    a = annotate_args(["--workspace", str(w.root), "--preference_dir", "mine", "--logdir", ""])
    assert (a.directory, a.preference_dir, a.logdir) == (str(w.og_dataset), "mine", "")

def test_evaluate_finds_the_shipped_files_from_any_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in (ENV_VAR, "USER", "LOGNAME")}
    env["PYTHONPATH"] = str(ROOT)  # what `pip install -e .` gives
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "scripts.evaluate", "--task", "goldenexit", "--episodes", "1",
                        "--agents", "maestromotif", "--max_episode_steps", "20", "--progress", "0", "--out", str(out)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    cfg = json.loads((out / "eval_config.json").read_text())["config"]
    assert cfg["checkpoint"] == str(ROOT / "train_dir/skill_policy/default")
    assert cfg["meta_policies"] == str(ROOT / "rl_baseline/meta_policies")
    assert "USER" not in p.stderr  # the NetHack options name the player; no warning without $USER


def test_jsonl_skips_torn_and_corrupt_lines_and_never_glues(tmp_path):
    path = tmp_path / "a.jsonl"
    append_record(path, {"i": 1})
    with open(path, "ab") as f:
        f.write(b'not json\n{"i": 2')  # a corrupt line, then a torn one (a killed writer)
    assert [r["i"] for r in read_jsonl(path)] == [1]
    append_record(path, {"i": 3})
    log = AppendLog(path)
    log.write([{"i": 4}])
    log.close()
    with open(path, "ab") as f:
        f.write(b'{"i": 5')
    log = AppendLog(path)
    log.write([{"i": 6}])
    log.close()
    assert [r["i"] for r in read_jsonl(path)] == [1, 3, 4, 6]


def test_episode_store_is_the_jsonl_store_with_deduplication(tmp_path):
    import numpy as np

    store = EpisodeStore(tmp_path / "episodes.jsonl")
    rec = {"task": "t", "agent": "a", "episode": 0, "run_key": "k", "score": np.int64(3), "seen": {2, 1}}
    store.append(rec)
    store.append(rec)
    with open(store.path, "ab") as f:
        f.write(b'{"task": "t", "agent": "a", "episode": 1')
    assert store.load() == [{"task": "t", "agent": "a", "episode": 0, "run_key": "k", "score": 3, "seen": [1, 2]}]


def test_flip():
    assert [flip(x) for x in (FIRST, SECOND, TIE, UNKNOWN)] == [SECOND, FIRST, TIE, UNKNOWN]
