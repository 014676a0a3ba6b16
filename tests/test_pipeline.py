"""The one-command pipeline: planning logic (fast) and the tiny preset end to end on the real stack."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maestromotif.pipeline.config import PipelineConfig, make_config
from maestromotif.pipeline.runner import STATE_FILE, Pipeline
from maestromotif.pipeline.stages import STAGE_NAMES
from maestromotif.utils.errors import UserError

REPO = Path(__file__).resolve().parents[1]


def _keys(**overrides) -> dict[str, str]:
    return Pipeline(make_config("tiny", overrides=[f"{k}={json.dumps(v)}" for k, v in overrides.items()]),
                    "/nonexistent/w").stage_keys()


def test_a_changed_setting_changes_only_the_stages_it_affects():
    base = _keys()
    assert set(base) == set(STAGE_NAMES)
    changed = {name: {s for s in STAGE_NAMES if _keys(**{name: v})[s] != base[s]}
               for name, v in [("reward_epochs", 3), ("eval_episodes", 7), ("num_pairs", 12), ("code_seed", 7)]}
    assert changed["reward_epochs"] == {"reward", "train", "eval", "report"}
    assert changed["eval_episodes"] == {"eval", "report"}
    assert changed["num_pairs"] == {"collect", "annotate", "reward", "train", "eval", "report"}
    assert changed["code_seed"] == {"code", "train", "eval", "report"}


def test_bad_input_errors_name_what_to_fix(tmp_path):
    with pytest.raises(UserError, match="unknown stage 'trian'"):
        Pipeline(make_config("tiny"), tmp_path).run(stages=["trian"])
    with pytest.raises(UserError, match="unknown pipeline setting"):
        make_config("tiny", overrides=["num_pair=3"])
    with pytest.raises(UserError, match="unknown evaluation task"):
        make_config("tiny", overrides=["eval_tasks=gnomish,nope"])
    with pytest.raises(UserError, match="unknown preset"):
        make_config("huge")
    # a workdir written by another pipeline version
    (tmp_path / STATE_FILE).write_text(json.dumps({"pipeline_version": 0, "maestromotif_version": "0.0.1"}))
    with pytest.raises(UserError, match="pipeline version 0"):
        Pipeline(make_config("tiny"), tmp_path)
    # missing inputs: reward models need finished annotation
    w = tmp_path / "fresh"
    with pytest.raises(UserError, match="needs stage 'annotate'"):
        Pipeline(make_config("tiny"), w).run(stages=["reward"])


def test_paper_dry_run_prints_the_cluster_commands(capsys):
    from scripts.pipeline import main

    assert main(["--workdir", "/tmp/never_created_paper_run", "--preset", "paper", "--dry_run"]) == 0
    out = capsys.readouterr().out
    assert not Path("/tmp/never_created_paper_run").exists()
    assert "sbatch --array=0-99" in out and "$SLURM_ARRAY_TASK_ID" in out and "--backend vllm" in out
    assert out.count("scripts.merge_annotations") == 5 and out.count("scripts.train_reward") == 5
    assert "--num_workers 24 --num_envs_per_worker 20 --batch_size 4096" in out
    assert "scripts.generate_code --task exploration" in out and "scripts.evaluate --task gnomish,delphi" in out


def test_config_file_overrides_the_preset(tmp_path):
    f = tmp_path / "cfg.yaml"
    f.write_text("eval_episodes: 3\neval_tasks: [buc, price]\n")
    cfg = make_config("tiny", str(f), ["reward_lr=0.001"])
    assert cfg.eval_episodes == 3 and cfg.eval_tasks == ("buc", "price") and cfg.reward_lr == 0.001
    assert cfg.num_pairs == make_config("tiny").num_pairs and isinstance(cfg, PipelineConfig)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="cannot be parsed"):
        make_config("tiny", str(bad))


# ---------------------------------------------------------------------------------------- end to end
SMALL = ["--set", "num_pairs=8", "--set", "reward_epochs=3", "--set", "train_for_seconds=45",
         "--set", "eval_tasks=goldenexit,buc", "--set", "eval_episodes=1", "--set", "eval_max_episode_steps=80",
         "--set", "envs_per_worker=2", "--set", "rl_batch_size=128"]


def _pipeline(w: Path, *extra: str, **kw):
    cmd = [sys.executable, "-m", "scripts.pipeline", "--workdir", str(w), "--preset", "tiny", *SMALL, *extra]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def _state(w: Path) -> dict:
    try:
        return json.loads((w / STATE_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def _done_units(w: Path, stage: str) -> list[str]:
    units = _state(w).get("stages", {}).get(stage, {}).get("units", {})
    return [u for u, r in units.items() if r.get("done")]


@pytest.mark.slow
def test_tiny_pipeline_end_to_end_kill_resume_and_partial_rerun(tmp_path):
    w = tmp_path / "quick"
    # 1. start, and kill -9 the whole process group once two skills are annotated
    proc = _pipeline(w, start_new_session=True)
    deadline = time.time() + 600
    while len(_done_units(w, "annotate")) < 2:
        assert proc.poll() is None, proc.stdout.read()
        assert time.time() < deadline, "annotation did not progress"
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    annotated = _done_units(w, "annotate")
    # 2. rerun: collection and the finished annotations are skipped, the rest runs to the end
    proc = _pipeline(w)
    out, _ = proc.communicate(timeout=1200)
    assert proc.returncode == 0, out
    assert "[collect] up to date" in out
    assert f"{5 - len(annotated)}/5 units to run" in out
    for u in annotated:
        assert f"- {u}:" not in out
    st = _state(w)
    assert all(all(r["done"] for r in st["stages"][s]["units"].values()) for s in STAGE_NAMES)
    # every stage wrote the files its stand-alone command writes
    for s in ("discoverer", "merchant"):
        assert (w / "og_dataset" / f"{s}.pkl").exists()
        assert (w / "preference" / f"gemma270m_{s}_default.npy").exists()
        assert (w / "train_dir" / "skill_rewards" / f"gemma270m_{s}_default" / "metrics.csv").exists()
    assert (w / "rl_baseline" / "meta_policies" / "goldenexit" / "seed42" / "execution.py").exists()
    assert list((w / "train_dir" / "skill_policy" / "default" / "checkpoint_p0").glob("checkpoint_*.pth"))
    report = json.loads((w / "eval_results" / "report.json").read_text())
    assert report
    md = (w / "report.md").read_text()
    for heading in ("## Stages", "## LLM labels", "## Reward models", "## Skill training", "## Zero-shot evaluation"):
        assert heading in md
    assert "Golden Exit" in md and (w / "plots" / "label_balance.png").stat().st_size > 1000
    assert (w / "report.html").read_text().count("<img") >= 3
    # 3. a changed evaluation setting reruns evaluation and the report only
    trained = st["stages"]["train"]["units"]["train"]["seconds"]
    proc = _pipeline(w, "--set", "eval_episodes=2")
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out
    for s in ("collect", "annotate", "reward", "code", "train"):
        assert f"[{s}] up to date" in out
    assert "[eval] zero-shot" in out or "[eval] evaluate" in out
    assert _state(w)["stages"]["train"]["units"]["train"]["seconds"] == trained
    # 4. --force redoes one stage (and what depends on it only when its key changes: not here)
    proc = _pipeline(w, "--set", "eval_episodes=2", "--stages", "report", "--force", "report")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "[report]" in out and "up to date" not in out.split("[report]")[1][:40], out
