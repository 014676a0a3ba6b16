"""End to end with the real embedded model: the CLI in score mode, and `kill -9` in the middle of a run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from maestromotif.annotation.store import read_jsonl
from maestromotif.data.dataset import UNKNOWN, load_labels, save_dataset

pytest.importorskip("llama_cpp")

ROOT = Path(__file__).resolve().parents[1]
MSGS = ["You descend the stairs.", "You kill the newt!", "$ - 5 gold pieces.", "The door opens.", "It's solid stone.",
        "You find a hidden passage.", "This door is locked.", "You see here a dagger.", ""]


def sample(i: int) -> dict:
    msg = MSGS[i % len(MSGS)]
    down = msg.startswith("You descend")
    gold = 5 if "gold" in msg else 0
    return {"msg_strs": ("", msg), "stats_list": [[1, 0, 10, 10, 1, 1], [2 if down else 1, gold, 10, 10, 1, 1]]}


def make_dataset(directory: Path, n_pairs: int) -> None:
    samples = []
    for p in range(n_pairs):
        a, b = p % len(MSGS), (p * 5 + 3) % len(MSGS)
        samples += [sample(a), sample(b)]
    save_dataset(directory / "descender.pkl", samples)


def cli(tmp_path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "scripts.annotate_pairs", "--directory", str(tmp_path / "data"),
            "--goal_key", "descender", "--preference_dir", str(tmp_path / "pref"), "--logdir", str(tmp_path / "logs"),
            "--threads", "1", "--n_ctx", "2048", "--progress", "0", *extra]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.mark.slow
def test_kill_9_mid_run_keeps_every_label_and_recomputes_none(tmp_path):
    make_dataset(tmp_path / "data", 24)
    part = tmp_path / "pref" / "gemma270m_descender_default.parts" / "chunk-0-of-1.jsonl"
    proc = subprocess.Popen(cli(tmp_path, "--batch_size", "1"), cwd=ROOT, env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline:
        llm_done = [r for r in read_jsonl(part) if r["s"] == "llm"] if part.exists() else []
        if len(llm_done) >= 3 or proc.poll() is not None:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed: " + proc.stderr.read().decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {r["i"]: r["l"] for r in read_jsonl(part)}
    cache_dir = next((tmp_path / "pref" / ".answer_cache").iterdir())
    cached_before = sum(1 for f in cache_dir.glob("*.jsonl") for _ in read_jsonl(f))
    assert not (tmp_path / "pref" / "gemma270m_descender_default.npy").exists()  # killed before the merge

    res = subprocess.run(cli(tmp_path, "--batch_size", "4"), cwd=ROOT, env=env(), capture_output=True, timeout=600)
    assert res.returncode == 0, res.stderr.decode()[-3000:]
    labels = load_labels(tmp_path / "pref" / "gemma270m_descender_default.npy", num_pairs=24)
    assert (labels != UNKNOWN).all()
    assert all(labels[i] == lab for i, lab in before.items())  # every label computed before the kill is kept
    run = json.loads(part.with_suffix(".summary.json").read_text())[-1]  # the rerun, after the killed run
    assert run["already_done"] == len(before)
    distinct = run["queries"] + cached_before  # nothing asked twice: the rerun only asks what was never answered
    assert run["llm_calls"] == 2 * run["queries"]
    assert distinct == len({tuple(sorted(p)) for p in _caption_pairs(tmp_path) if p[0] != p[1]})


def _caption_pairs(tmp_path: Path) -> list[tuple[str, str]]:
    from maestromotif.data.dataset import load_dataset

    ds = load_dataset(tmp_path / "data" / "descender.pkl")
    return [ds.pair_captions(i) for i in range(ds.num_pairs)]


@pytest.mark.slow
def test_cli_score_mode_summary_and_concurrent_chunks(tmp_path):
    make_dataset(tmp_path / "data", 12)
    procs = [subprocess.Popen(cli(tmp_path, "--n-annotation-chunks", "2", "--chunk-number", str(c), "--batch-size", "2"),
                              cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in (0, 1)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1].decode()[-2000:] for o in outs]
    subprocess.run([sys.executable, "-m", "scripts.merge_annotations", "--experiment", "gemma270m_descender_default",
                    "--preference_dir", str(tmp_path / "pref")], cwd=ROOT, env=env(), check=True, capture_output=True)
    labels = np.load(tmp_path / "pref" / "gemma270m_descender_default.npy")
    assert labels.shape == (12,) and (labels != UNKNOWN).all()  # both jobs' labels survive
    summary = json.loads((tmp_path / "pref" / "gemma270m_descender_default.summary.json").read_text())
    assert summary["complete"] and sum(summary["labels"].values()) == 12 and len(summary["runs"]) == 2
    assert all(r["mode"] == "score" and r["backend"]["model"] == "embedded" for r in summary["runs"])
    assert "caption-rule check" in outs[0][1].decode() + outs[1][1].decode()
    logs = list((tmp_path / "logs" / "gemma270m_descender_default").glob("chunk-*-of-2.jsonl"))
    assert len(logs) == 2
