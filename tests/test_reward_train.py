"""Reward-model training: the loss, learning a known preference, ties, files, errors, resume after kill -9."""

from __future__ import annotations

import csv
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from maestromotif.data.dataset import save_dataset
from maestromotif.reward.checkpoint import load_checkpoint
from maestromotif.reward.config import RewardConfig
from maestromotif.reward.data import load_preference_data, split_pairs
from maestromotif.reward.model import RewardModel
from maestromotif.reward.reports import QUANTILES, read_eps
from maestromotif.reward.synthetic import write_synthetic_preferences
from maestromotif.reward.train import bt_loss, train_reward_model
from maestromotif.utils.errors import UserError, run_cli

ROOT = Path(__file__).resolve().parents[1]
QUIET = {"log": lambda *a: None}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on a busy shared CPU, torch's spinning worker threads make tiny batches
    ~100x slower (measured: 2.5 ms vs 500 ms per forward at load 9 on 2 cores)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# -- the loss -----------------------------------------------------------------------------------------
def test_bt_loss_is_the_papers_formula():
    r = torch.tensor([[0.3, -1.2], [2.0, 0.5], [-0.4, 0.9]], dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64)  # first better, second better, tie
    p12 = torch.exp(r[:, 0]) / (torch.exp(r[:, 0]) + torch.exp(r[:, 1]))
    p21 = 1 - p12
    paper = -torch.stack([torch.log(p12[0]), torch.log(p21[1]), torch.log(torch.sqrt(p12[2] * p21[2]))]).mean()
    assert torch.allclose(bt_loss(r, y), paper)


def test_tie_loss_is_minimal_at_equal_rewards_and_pulls_them_together():
    gap = torch.linspace(-3, 3, 61, dtype=torch.float64)
    r = torch.stack([gap, torch.zeros_like(gap)], 1).requires_grad_()
    losses = torch.stack([bt_loss(r[i:i + 1], torch.tensor([0.5], dtype=torch.float64)) for i in range(len(gap))])
    assert int(torch.argmin(losses)) == 30  # gap 0
    losses.sum().backward()
    g = r.grad[:, 0]
    # gradient descent moves r1 towards r2 from both sides
    assert (g[gap > 0] > 0).all() and (g[gap < 0] < 0).all() and abs(float(g[30])) < 1e-12


def test_ties_pull_two_rewards_together_in_the_real_model():
    torch.manual_seed(0)
    model = RewardModel(32, 64)
    from maestromotif.data.captions import message_array

    msgs = torch.from_numpy(np.stack([message_array("You climb down the stairs."), message_array("It's solid stone.")]))
    deltas = torch.zeros(2, 5)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train(target: float, steps: int) -> float:
        for _ in range(steps):
            r = model(msgs, deltas)[None, :]
            loss = bt_loss(r, torch.tensor([target]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            r = model(msgs, deltas)
        return float(r[0] - r[1])

    apart = train(0.0, 40)  # "first better": pushes the rewards apart
    assert apart > 1.0
    together = train(0.5, 60)  # ties only
    assert abs(together) < 0.2 * apart


# -- learning a known preference ------------------------------------------------------------------------
def test_learns_a_synthetic_preference_with_high_heldout_accuracy(tmp_path):
    ds, labels = write_synthetic_preferences(tmp_path, "descender", num_pairs=240, seed=1,
                                             dlvl_prob=0.3, dlvl_score=1.0)
    cfg = RewardConfig.quick(ds, labels, tmp_path / "train_dir", experiment="synthetic_descender_default",
                             num_epochs=4, batch_size=24, reward_lr=2e-3, val_fraction=0.25, seed=3,
                             plot=True)
    out = train_reward_model(cfg, **QUIET)
    ck = load_checkpoint(out / "checkpoint.pt")
    first, last = ck["history"][0], ck["history"][-1]
    assert last["val_nontie"] >= 20
    assert last["val_acc"] >= 0.9, ck["history"]
    assert last["val_loss"] < first["val_loss"] - 0.1
    assert ck["finished"] and ck["epoch"] == 4

    # the files a person and the RL phase read
    rows = list(csv.reader((out / "metrics.csv").read_text().splitlines()))
    assert rows[0][:6] == ["epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2", "3", "4"]
    q = list(csv.reader((out / "reward_metrics/train_norm_quantiles.csv").read_text().splitlines()))
    assert [float(x) for x in q[0]] == list(QUANTILES) and q[0][0] == "0.05" and q[0][-1] == "0.95"
    assert len(q) == 1 + 5 and all(len(r) == 19 and all(len(x.split(".")[1]) == 2 for x in r) for r in q[1:])
    assert read_eps(out, 0.5) == float(q[-1][QUANTILES.index(0.5)])
    assert (out / "training_curves.png").stat().st_size > 1000
    assert (out / "config.json").exists() and (out / "reward_metrics/config.json").exists()
    assert len(list((out / "tb").glob("events.out.tfevents.*"))) == 1
    # normalisation: mean/std over the distinct inputs of the dataset
    data = load_preference_data(cfg)
    model = RewardModel(cfg.encoder_embedding_dim, cfg.encoder_hidden_dim)
    model.load_state_dict(ck["model"])
    with torch.no_grad():
        r = model(torch.from_numpy(data.messages), torch.from_numpy(data.deltas)).double().numpy()
    assert math.isclose(ck["reward_mean"], r.mean(), abs_tol=1e-5)
    assert math.isclose(ck["reward_std"], r.std(), rel_tol=1e-4)
    # rerunning a finished experiment trains nothing more
    again = train_reward_model(cfg, **QUIET)
    assert load_checkpoint(again / "checkpoint.pt")["step"] == ck["step"]


def test_delta_mask_defaults_to_dlvl_only(tmp_path):
    samples = [{"msg_strs": ("", "x"), "stats_list": [[1, 5, 10, 10, 1, 1], [2, 9, 3, 10, 2, 2]]},
               {"msg_strs": ("", "x"), "stats_list": [[1, 0, 10, 10, 1, 1], [1, 0, 10, 10, 1, 1]]}]
    ds = save_dataset(tmp_path / "d.pkl", samples)
    np.save(tmp_path / "l.npy", np.array([0]))
    data = load_preference_data(RewardConfig.quick(ds, tmp_path / "l.npy", tmp_path, val_fraction=0))
    assert data.deltas.tolist() == [[0, 0, 0, 0, 0], [1, 0, 0, 0, 0]] or \
        data.deltas.tolist() == [[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]]
    data = load_preference_data(RewardConfig.quick(ds, tmp_path / "l.npy", tmp_path, val_fraction=0,
                                                   keep_deltas=("dlvl", "gold", "hp", "xl", "hunger")))
    assert sorted(map(tuple, data.deltas.tolist())) == [(0, 0, 0, 0, 0), (1, 1, -1, 1, 1)]


def test_labels_unknown_dropped_ties_soft_and_split_keeps_duplicates_together(tmp_path):
    ds, _ = write_synthetic_preferences(tmp_path, "descender", num_pairs=100, seed=0)
    labels = np.array([0, 1, 2, 3] * 25)
    np.save(tmp_path / "l.npy", labels)
    data = load_preference_data(RewardConfig.quick(ds, tmp_path / "l.npy", tmp_path, val_fraction=0.3))
    assert data.counts_by_label == {"first": 25, "second": 25, "tie": 25, "unknown": 25}
    assert len(data.pairs) == 75 and sorted(set(data.targets.tolist())) == [0.0, 0.5, 1.0]
    assert (data.targets[data.pair_index % 4 == 2] == 0.5).all()
    key = lambda i: tuple(sorted(data.pairs[i]))  # noqa: E731
    assert not {key(i) for i in data.train_idx} & {key(i) for i in data.val_idx}
    a, b = split_pairs(data.pairs, 0.3, seed=5), split_pairs(data.pairs, 0.3, seed=5)
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all()


# -- errors ---------------------------------------------------------------------------------------------
def test_clear_errors_for_bad_inputs(tmp_path):
    ds, labels = write_synthetic_preferences(tmp_path, "descender", num_pairs=20, seed=0)
    np.save(tmp_path / "short.npy", np.zeros(19, np.int64))
    with pytest.raises(UserError, match="has 19 labels but the dataset .* has 20 pairs"):
        load_preference_data(RewardConfig.quick(ds, tmp_path / "short.npy", tmp_path))
    with pytest.raises(UserError, match="label file not found"):
        load_preference_data(RewardConfig.quick(ds, tmp_path / "nope.npy", tmp_path))
    with pytest.raises(UserError, match="dataset file not found"):
        load_preference_data(RewardConfig.quick(tmp_path / "nope.pkl", labels, tmp_path))
    np.save(tmp_path / "unknown.npy", np.full(20, 3, np.int64))
    with pytest.raises(UserError, match="no usable labels"):
        load_preference_data(RewardConfig.quick(ds, tmp_path / "unknown.npy", tmp_path))
    # the experiment name selects both files; the CLI turns a UserError into exit code 2
    from scripts.train_reward import main

    argv = ["--experiment", "nobody_descender_default", "--dataset_dir", str(tmp_path / "og_dataset"),
            "--preference-dir", str(tmp_path / "preference"), "--train_dir", str(tmp_path / "t")]
    assert run_cli(main, argv) == 2
    with pytest.raises(UserError, match=r"preference/nobody_descender_default\.npy"):
        main(argv)
    with pytest.raises(UserError, match="keep_deltas"):
        RewardConfig(keep_deltas=("depth",))


def test_resume_refuses_a_corrupt_checkpoint_or_changed_inputs(tmp_path):
    ds, labels = write_synthetic_preferences(tmp_path, "descender", num_pairs=24, seed=0)
    cfg = RewardConfig.quick(ds, labels, tmp_path / "t", experiment="x_descender_default")
    out = train_reward_model(cfg, **QUIET)
    ck = out / "checkpoint.pt"
    good = ck.read_bytes()
    with pytest.raises(UserError, match="different config: reward_lr"):
        train_reward_model(RewardConfig.quick(ds, labels, tmp_path / "t", experiment="x_descender_default",
                                              reward_lr=0.5), **QUIET)
    np.save(tmp_path / "other.npy", np.ones(24, np.int64))
    with pytest.raises(UserError, match="different dataset or label file"):
        train_reward_model(RewardConfig.quick(ds, tmp_path / "other.npy", tmp_path / "t",
                                              experiment="x_descender_default"), **QUIET)
    ck.write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(UserError, match="(?s)cannot be loaded.*delete it"):
        train_reward_model(cfg, **QUIET)
    ck.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="cannot be loaded"):
        load_checkpoint(ck)
    torch.save({"model": {}}, ck)
    with pytest.raises(UserError, match="not a maestromotif reward checkpoint"):
        load_checkpoint(ck)


# -- kill -9 and resume ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_resume_after_kill_9_gives_the_uninterrupted_result(tmp_path):
    scores = {"": 0.0, "You climb down the stairs.": 2.0, "It's solid stone.": 0.0, "The grid bug bites!": -1.0}
    ds, labels = write_synthetic_preferences(tmp_path, "descender", num_pairs=160, seed=2, scores=scores)
    common = dict(experiment="k_descender_default", num_epochs=2, batch_size=4, reward_lr=1e-3,
                  encoder_hidden_dim=64, encoder_embedding_dim=32, num_threads=1)
    ref = train_reward_model(RewardConfig.quick(ds, labels, tmp_path / "ref", **common), **QUIET)

    killed_dir = tmp_path / "killed"
    argv = [sys.executable, "-m", "scripts.train_reward", "--dataset", str(ds), "--labels", str(labels),
            "--train_dir", str(killed_dir), "--experiment", common["experiment"], "--num_epochs", "2",
            "--batch_size", "4", "--reward_lr", "1e-3", "--encoder_hidden_dim", "64",
            "--encoder_embedding_dim", "32", "--num_threads", "1", "--val_fraction", "0.2",
            "--seed", "777", "--device", "cpu", "--progress", "0", "--save_every_sec", "0"]
    ckpt = killed_dir / common["experiment"] / "checkpoint.pt"
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if ckpt.exists() and load_checkpoint(ckpt)["step"] >= 5:
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"training ended before it could be killed: {proc.stderr.read()[-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    mid = load_checkpoint(ckpt)
    a = load_checkpoint(ref / "checkpoint.pt")
    assert not mid["finished"] and 5 <= mid["step"] < a["step"]

    resumed = train_reward_model(RewardConfig.quick(ds, labels, killed_dir, **common), **QUIET)
    b = load_checkpoint(resumed / "checkpoint.pt")
    assert a["step"] == b["step"] and b["finished"]
    for k in a["model"]:
        assert torch.allclose(a["model"][k], b["model"][k], atol=1e-6), k
    assert (ref / "reward_metrics/train_norm_quantiles.csv").read_text() == \
        (resumed / "reward_metrics/train_norm_quantiles.csv").read_text()
    assert len((resumed / "metrics.csv").read_text().splitlines()) == 1 + 3


def test_cli_flags_accept_both_spellings_and_the_originals_command():
    from maestromotif.workspace import workspace
    from scripts.train_reward import parse_args

    cfg = parse_args("--batch_size 1000 --num_workers 40 --reward_lr 1e-5 --num_epochs 20 --seed 777 "
                     "--dataset_dir og_dataset --experiment gemma270m_descender_default "
                     "--train_dir train_dir/skill_rewards".split())
    assert (cfg.batch_size, cfg.num_workers, cfg.reward_lr, cfg.num_epochs, cfg.seed) == (1000, 40, 1e-5, 20, 777)
    assert cfg.dataset_path == Path("og_dataset/descender.pkl")
    # not given: the default follows the workspace (maestromotif/workspace.py), not the current directory
    assert cfg.labels_path == workspace().preference / "gemma270m_descender_default.npy"
    assert cfg.out_dir == Path("train_dir/skill_rewards/gemma270m_descender_default")
    assert cfg.keep_deltas == ("dlvl",)
    cfg = parse_args("--batch-size 8 --reward-lr 0.1 --keep-deltas all --experiment a_merchant_b --progress 0".split())
    assert (cfg.batch_size, cfg.reward_lr, cfg.progress, cfg.skill) == (8, 0.1, False, "merchant")
    assert cfg.keep_deltas == ("dlvl", "gold", "hp", "xl", "hunger")
    assert parse_args(["--keep_deltas", "none"]).keep_deltas == ()
    with pytest.raises(SystemExit):
        parse_args(["--keep_deltas", "depth"])
