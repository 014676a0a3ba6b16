"""scripts.export_run: one checkpoint, configs with relocated paths, re-export replaces, clear errors.

The real round trip (train, export, resume from the export) is in tests/test_rl_train.py; here the
file logic on a run directory laid out as scripts.main writes it.
"""

import json
from pathlib import Path

import pytest

from maestromotif.rl.export import export_run, path_rewrites
from maestromotif.utils.errors import UserError
from scripts.export_run import main as export_main


def _fake_run(root: Path, steps=(1000, 2000)) -> Path:
    run = root / "scratch" / "train" / "default"
    (run / "checkpoint_p0").mkdir(parents=True)
    for i, s in enumerate(steps):
        (run / "checkpoint_p0" / f"checkpoint_{i:09d}_{s}.pth").write_bytes(b"x" * (10 + i))
    (run / "checkpoint_p0" / "best_000000001_1500_reward_1.0.pth").write_bytes(b"best")
    checkout = root / "checkout"
    sf = {"train_dir": str(root / "scratch" / "train") + "/", "experiment": "default",
          "reward_dir": str([f"{checkout}/train_dir/skill_rewards/a", f"{checkout}/train_dir/skill_rewards/b"]),
          "meta_policy": "train_dir/skill_policy/default/exploration_policy.py",
          "cli_args": {"train_dir": str(root / "scratch" / "train") + "/"}}
    (run / "config.json").write_text(json.dumps(sf, indent=2))
    mm = {"argv": [f"{checkout}/scripts/main.py", "--train_dir", str(root / "scratch" / "train") + "/"]}
    (run / "maestromotif_config.json").write_text(json.dumps(mm, indent=2))
    (run / "metrics.csv").write_text("env_steps,run_seconds\n1000,1.0\n2000,2.0\n")
    (run / "sf_log.txt").write_text("log")
    return run


def test_export_keeps_one_checkpoint_and_relocates_paths(tmp_path):
    run = _fake_run(tmp_path)
    base = tmp_path / "repo"
    out = base / "train_dir" / "skill_policy" / "v2"
    out.mkdir(parents=True)
    (out / "NOTES.md").write_text("notes")
    res = export_run(run, out, base=base, draw_curves=False)
    assert res.env_steps == 2000
    assert [p.name for p in (out / "checkpoint_p0").iterdir()] == ["checkpoint_000000001_2000.pth"]
    sf = json.loads((out / "config.json").read_text())
    assert sf["train_dir"] == "train_dir/skill_policy/" and sf["cli_args"]["train_dir"] == "train_dir/skill_policy/"
    assert sf["reward_dir"] == str(["train_dir/skill_rewards/a", "train_dir/skill_rewards/b"])
    mm = json.loads((out / "maestromotif_config.json").read_text())
    assert mm["argv"][0] == "scripts/main.py" and mm["argv"][2] == "train_dir/skill_policy/"
    assert (out / "metrics.csv").read_text() == (run / "metrics.csv").read_text()
    assert (out / "NOTES.md").read_text() == "notes"  # what the export does not own is kept
    assert not (out / "sf_log.txt").exists()

    # more training, then a re-export: the shipped checkpoint is replaced, not added to
    (run / "checkpoint_p0" / "checkpoint_000000002_3000.pth").write_bytes(b"y" * 12)
    res = export_run(run, out, base=base, draw_curves=False)
    assert res.env_steps == 3000 and [p.name for p in res.removed] == ["checkpoint_000000001_2000.pth"]
    assert [p.name for p in (out / "checkpoint_p0").iterdir()] == ["checkpoint_000000002_3000.pth"]
    # an older checkpoint on request, by its env steps
    assert export_run(run, out, checkpoint="1000", base=base, draw_curves=False).env_steps == 1000


def test_paths_outside_the_base_stay_absolute_and_extra_replacements_apply(tmp_path):
    sf = {"train_dir": "/scratch/train/"}
    mm = {"argv": ["/src/checkout/scripts/main.py"]}
    pairs = path_rewrites(tmp_path / "run", Path("/data/shipped/default"), sf, mm, base=tmp_path,
                          extra=[("/models/", "/mnt/models/")])
    assert ("/scratch/train/", "/data/shipped/") in pairs
    assert ("/src/checkout/", "") in pairs and ("/models/", "/mnt/models/") in pairs
    assert [len(o) for o, _ in pairs] == sorted((len(o) for o, _ in pairs), reverse=True)


def test_bad_input_is_named(tmp_path, capsys):
    with pytest.raises(UserError, match="no config.json"):
        export_run(tmp_path, tmp_path / "out")
    run = _fake_run(tmp_path)
    with pytest.raises(UserError, match="no checkpoint named"):
        export_run(run, tmp_path / "out", checkpoint="999")
    with pytest.raises(UserError, match="the run directory itself"):
        export_run(run, run)
    for p in (run / "checkpoint_p0").glob("checkpoint_*"):
        p.unlink()
    with pytest.raises(UserError, match="no checkpoint yet"):
        export_run(run, tmp_path / "out")
    with pytest.raises(UserError, match="OLD=NEW"):
        export_main(["--run", str(run), "--out", str(tmp_path / "o"), "--replace", "nothing"])
