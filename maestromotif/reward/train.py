"""Bradley-Terry training of one skill's reward model: :func:`train_reward_model`.

Loss (the paper's, with a tie as a 0.5/0.5 soft label)::

    P(o1 > o2) = softmax([r(o1), r(o2)])[0]
    L = -E[ (1 - y) log P(o1 > o2) + y log P(o2 > o1) ],  y = 0 (first), 1 (second), 0.5 (tie)

Each epoch visits the training pairs in a seeded shuffled order (``seed``, epoch), in batches of
``batch_size`` (the last one may be smaller), with Adam at ``reward_lr``. After each epoch the model is
evaluated on every distinct input of the dataset; that one pass gives the train/held-out loss and
accuracy, the normalisation (mean/std) and the quantile row. The checkpoint is written atomically at
every epoch end and every ``save_every_sec`` inside an epoch; rerunning the same command after a crash
or ``kill -9`` resumes from it and ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from maestromotif.reward.checkpoint import (
    CHECKPOINT_NAME,
    load_checkpoint,
    nonfinite_problems,
    save_checkpoint,
)
from maestromotif.reward.config import RewardConfig
from maestromotif.reward.data import PreferenceData, load_preference_data
from maestromotif.reward.model import RewardModel, num_parameters
from maestromotif.reward.reports import (
    QUANTILES,
    add_tensorboard_epoch,
    open_tensorboard,
    write_metrics_csv,
    write_plot,
    write_quantile_csv,
)
from maestromotif.utils.config import save_config
from maestromotif.utils.errors import UserError


def bt_loss(rewards: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean Bradley-Terry cross-entropy. rewards (B, 2); targets (B,) = P(second better) in {0, .5, 1}."""
    logp = torch.log_softmax(rewards, dim=1)
    return -((1.0 - targets) * logp[:, 0] + targets * logp[:, 1]).mean()


def pair_stats(rewards: np.ndarray, targets: np.ndarray) -> tuple[float, float, int]:
    """(mean loss over all pairs, accuracy over non-tie pairs, number of non-tie pairs)."""
    if len(rewards) == 0:
        return math.nan, math.nan, 0
    loss = float(bt_loss(torch.from_numpy(rewards), torch.from_numpy(targets)))
    nontie = targets != 0.5
    if not nontie.any():
        return loss, math.nan, 0
    pred_second = rewards[nontie, 1] > rewards[nontie, 0]
    acc = float(np.mean(pred_second == (targets[nontie] == 1.0)))
    return loss, acc, int(nontie.sum())


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "gpu":
        name = "cuda"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {name} requested but torch sees no CUDA device",
                        fix="use --device cpu (or auto)")
    return torch.device(name)


@torch.no_grad()
def predict(model: RewardModel, messages: np.ndarray, deltas: np.ndarray, batch_size: int = 1024,
            device: torch.device | str = "cpu") -> np.ndarray:
    """Un-normalised rewards of many inputs (float64, in order)."""
    was_training = model.training
    model.eval()
    out = []
    for i in range(0, len(messages), batch_size):
        m = torch.from_numpy(np.ascontiguousarray(messages[i:i + batch_size])).to(device)
        d = torch.from_numpy(np.ascontiguousarray(deltas[i:i + batch_size], dtype=np.float32)).to(device)
        out.append(model(m, d).double().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros(0)


def evaluate(model: RewardModel, data: PreferenceData, cfg: RewardConfig, device: torch.device) -> dict[str, Any]:
    """One pass over the distinct inputs: split losses/accuracies, normalisation, quantiles."""
    t0 = time.perf_counter()
    r = predict(model, data.messages, data.deltas, cfg.eval_batch_size, device)
    mean = float(r.mean())
    std = float(r.std())
    norm = (r - mean) / max(std, 1e-8)
    rec: dict[str, Any] = {"reward_mean": mean, "reward_std": std,
                           "quantiles": [float(q) for q in np.quantile(norm, QUANTILES)]}
    for split, idx in (("train", data.train_idx), ("val", data.val_idx)):
        pr = r[data.pairs[idx]]
        loss, acc, nontie = pair_stats(pr, data.targets[idx])
        rec.update({f"{split}_loss": loss, f"{split}_acc": acc, f"{split}_pairs": int(len(idx)),
                    f"{split}_nontie": nontie})
    rec["eval_seconds"] = time.perf_counter() - t0
    return rec


class _Run:
    """State of one training run; everything needed to resume is in :meth:`checkpoint`."""

    def __init__(self, cfg: RewardConfig, data: PreferenceData, device: torch.device):
        self.cfg, self.data, self.device = cfg, data, device
        self.out = cfg.out_dir
        self.ckpt_path = self.out / CHECKPOINT_NAME
        torch.manual_seed(cfg.seed)
        self.model = RewardModel(cfg.encoder_embedding_dim, cfg.encoder_hidden_dim, cfg.keep_deltas).to(device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.reward_lr)
        self.epoch = 0
        self.batch_in_epoch = 0
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self.tb = None

    # -- checkpoint ---------------------------------------------------------------------------------
    def checkpoint(self) -> dict[str, Any]:
        last = self.history[-1]
        return {
            "config": self.cfg.to_dict(), "model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
            "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch, "step": self.step,
            "finished": self.epoch >= self.cfg.num_epochs and self.batch_in_epoch == 0,
            "reward_mean": last["reward_mean"], "reward_std": last["reward_std"],
            "quantiles": dict(zip(QUANTILES, last["quantiles"])), "history": self.history,
            "fingerprint": self.data.fingerprint, "dataset_fingerprint": self.data.dataset.fingerprint,
            "skill": self.cfg.skill, "label_counts": self.data.counts_by_label,
            "num_distinct": self.data.num_distinct,
        }

    def save(self) -> None:
        bad = nonfinite_problems(self.model.state_dict(), self.history[-1] if self.history else {})
        if bad:  # never overwrite the last good checkpoint with a broken model
            raise NonFiniteTraining(f"non-finite {', '.join(bad)}")
        save_checkpoint(self.ckpt_path, self.checkpoint())

    def resume(self) -> bool:
        if not self.ckpt_path.exists():
            return False
        ck = load_checkpoint(self.ckpt_path, device=str(self.device))
        old = RewardConfig.from_dict(ck["config"])
        diff = old.diff(self.cfg)
        if diff:
            raise UserError(
                "exists with a different config: " + ", ".join(f"{k}: {a!r} there, {b!r} now" for k, (a, b) in diff.items()),
                path=self.ckpt_path, expected="the same training config as the run being resumed",
                fix="rerun with the old values, or pick another --experiment/--train_dir (or delete the "
                    "directory to start over)")
        if ck.get("fingerprint") != self.data.fingerprint:
            raise UserError("was trained on a different dataset or label file than the ones given now",
                            path=self.ckpt_path, expected=f"dataset {self.cfg.dataset_path} and labels "
                            f"{self.cfg.labels_path} unchanged since the checkpoint was written",
                            fix="pick another --experiment/--train_dir (or delete the directory to retrain)")
        try:
            self.model.load_state_dict(ck["model"])
            self.opt.load_state_dict(ck["optimizer"])
        except (RuntimeError, KeyError, ValueError) as e:
            raise UserError(f"holds weights that do not fit the model ({str(e)[:200]})", path=self.ckpt_path,
                            fix="delete the directory to retrain") from None
        self.epoch, self.batch_in_epoch = int(ck["epoch"]), int(ck.get("batch_in_epoch", 0))
        self.step, self.history = int(ck.get("step", 0)), list(ck.get("history", []))
        return True

    # -- outputs ------------------------------------------------------------------------------------
    def write_reports(self) -> None:
        """CSV files and TensorBoard after each evaluated epoch (the plot is drawn at the end)."""
        write_metrics_csv(self.out, self.history)
        write_quantile_csv(self.out, self.history)
        if self.tb is None:  # first call of this process: rebuild tb/ from the checkpoint's history
            self.tb = open_tensorboard(self.out, self.history)
        else:
            add_tensorboard_epoch(self.tb, self.history[-1])

    def record_epoch(self, train_seconds: float) -> None:
        rec = {"epoch": self.epoch, "step": self.step, **evaluate(self.model, self.data, self.cfg, self.device),
               "train_seconds": train_seconds}
        self.history.append(rec)

    # -- training -----------------------------------------------------------------------------------
    def train_epoch(self) -> float:
        cfg, data = self.cfg, self.data
        epoch = self.epoch + 1
        order = data.train_idx[np.random.default_rng([cfg.seed, epoch]).permutation(len(data.train_idx))]
        batches = [order[i:i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)]
        msgs = torch.from_numpy(data.messages)
        deltas = torch.from_numpy(data.deltas)
        pairs = torch.from_numpy(data.pairs)
        targets = torch.from_numpy(data.targets)
        self.model.train()
        t0 = last_save = time.perf_counter()
        bar = _progress(len(batches), self.batch_in_epoch, f"epoch {epoch}/{cfg.num_epochs}", cfg.progress)
        for b in range(self.batch_in_epoch, len(batches)):
            idx = torch.from_numpy(batches[b])
            # Run the network once per distinct input in the batch (same loss and gradients).
            uniq, inv = torch.unique(pairs[idx], return_inverse=True)
            r = self.model(msgs[uniq].to(self.device), deltas[uniq].to(self.device))[inv.to(self.device)]
            loss = bt_loss(r, targets[idx].to(self.device))
            if not torch.isfinite(loss):
                raise NonFiniteTraining(f"loss {loss.item()} at epoch {epoch}, batch {b + 1}/{len(batches)} "
                                        f"(step {self.step + 1})")
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.step += 1
            self.batch_in_epoch = b + 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
            if b + 1 < len(batches) and time.perf_counter() - last_save >= cfg.save_every_sec:
                self.save()  # mid-epoch: resumes at batch b + 1 of this same shuffled order
                last_save = time.perf_counter()
        if bar is not None:
            bar.close()
        self.epoch, self.batch_in_epoch = epoch, 0
        return time.perf_counter() - t0


UNKNOWN_WARN_FRACTION = 0.5  # above this share of unusable labels the run is flagged loudly


def _warn_labels(data: PreferenceData, cfg: RewardConfig, log) -> None:
    """Say loudly (stderr and the log) when most labels are unusable: the model learns from few pairs."""
    import sys

    n = sum(data.counts_by_label.values())
    unknown = data.counts_by_label["unknown"]
    if n and unknown / n > UNKNOWN_WARN_FRACTION:
        msg = (f"WARNING: {unknown} of {n} labels ({100 * unknown / n:.0f}%) in {cfg.labels_path} are unknown "
               f"(not annotated or unparseable) and dropped; training on the {n - unknown} others. Finish the "
               "annotation (python -m scripts.annotate_pairs ... resumes; --retry-unparseable 1) first.")
        print(msg, file=sys.stderr)
        if log is not print:
            log(msg)


def _progress(total: int, initial: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="batch", leave=False)


def train_reward_model(cfg: RewardConfig, log=print) -> Path:
    """Train (or resume, or just re-report a finished) reward model; return its directory.

    This is what ``python -m scripts.train_reward`` runs. Tests and other phases can call it on a
    small dataset, e.g. ``train_reward_model(RewardConfig.quick(ds, labels, tmp_path))``.
    """
    threads = torch.get_num_threads()
    want = cfg.num_threads
    if want <= 0 and cfg.num_workers > 0:  # the original's flag: one meaning, CPU parallelism
        want = min(cfg.num_workers, os.cpu_count() or 1)
        log(f"[reward] --num_workers {cfg.num_workers}: using {want} torch threads (capped at the CPU count)")
    if want > 0:
        torch.set_num_threads(want)
    try:
        return _train(cfg, log)
    finally:
        torch.set_num_threads(threads)  # a library call leaves the caller's process as it found it


class NonFiniteTraining(Exception):
    """The loss or the weights stopped being finite numbers (e.g. a far too high learning rate)."""


def _train(cfg: RewardConfig, log) -> Path:
    try:
        return _train_checked(cfg, log)
    except NonFiniteTraining as e:
        ck = cfg.out_dir / CHECKPOINT_NAME
        kept = (f"the last good checkpoint is kept: {ck}" if ck.exists() else "no checkpoint was written")
        raise UserError(f"training stopped: {e}; {kept}", path=cfg.out_dir,
                        expected="finite loss and weights",
                        fix=f"lower --reward_lr (now {cfg.reward_lr:g}; the original's is 1e-05): delete "
                            f"{cfg.out_dir} and rerun with the lower value") from None


def _train_checked(cfg: RewardConfig, log) -> Path:
    device = resolve_device(cfg.device)
    data = load_preference_data(cfg)
    if len(data.train_idx) == 0:
        raise UserError(f"no training pairs left after holding out {len(data.val_idx)} pairs",
                        path=cfg.labels_path, fix="lower --val_fraction or annotate more pairs")
    run = _Run(cfg, data, device)
    resumed = run.resume()
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    save_config(cfg.out_dir / "config.json", cfg, dataset=str(cfg.dataset_path), labels=str(cfg.labels_path),
                label_counts=data.counts_by_label, distinct_inputs=data.num_distinct,
                train_pairs=len(data.train_idx), val_pairs=len(data.val_idx), fingerprint=data.fingerprint)
    save_config(cfg.out_dir / "reward_metrics" / "config.json", cfg)
    _warn_labels(data, cfg, log)
    log(f"[reward] {cfg.experiment}: {data.dataset.num_pairs} pairs in {cfg.dataset_path}, labels "
        f"{data.counts_by_label} ({data.counts_by_label['unknown']} unknown dropped); "
        f"{len(data.train_idx)} train / {len(data.val_idx)} held-out pairs; {data.num_distinct} distinct "
        f"inputs; model {num_parameters(run.model):,} parameters on {device}")
    if resumed:
        log(f"[reward] resuming from {run.ckpt_path}: epoch {run.epoch} done"
            + (f", batch {run.batch_in_epoch} of the next" if run.batch_in_epoch else ""))
    if not run.history:  # epoch 0: the untrained model (the original's first quantile row)
        run.record_epoch(0.0)
        run.save()
    run.write_reports()
    while run.epoch < cfg.num_epochs or run.batch_in_epoch > 0:  # a started epoch is always finished
        seconds = run.train_epoch()
        run.record_epoch(seconds)
        run.save()
        run.write_reports()
        h = run.history[-1]
        log(f"[reward] epoch {run.epoch}/{cfg.num_epochs}: train loss {h['train_loss']:.4f} acc "
            f"{h['train_acc']:.3f} | held-out loss {h['val_loss']:.4f} acc {h['val_acc']:.3f} | "
            f"{seconds:.1f}s train, {h['eval_seconds']:.1f}s eval")
    run.save()  # records `finished` under this config (num_epochs may have changed)
    run.tb.close()
    if cfg.plot:
        write_plot(cfg.out_dir, run.history, f"reward model {cfg.experiment}")
    log(f"[reward] done: {cfg.out_dir}")
    return cfg.out_dir
