"""Preference data for the Bradley-Terry trainer: distinct model inputs, labelled pairs, the split.

NetHack messages repeat a lot (most transitions show no message at all), so every sample is mapped to
its *distinct model input* (current message bytes, masked stat deltas) once. A training batch then
runs the network only on the distinct inputs it contains and gathers the rewards back per pair,
which gives exactly the same loss and gradients as running it on every sample. The reward
normalisation (mean/std) and the quantile file are computed over these distinct inputs of the whole
dataset, as the original does (its "distinct messages": current message + masked stat string).

Labels (the original's encoding): 0 first better -> target P(second better) = 0, 1 second better ->
1, 2 tie -> 0.5 (soft label), 3 unknown/unparseable -> dropped and counted. (The original turns
every label > 1, 3 included, into 0.5; the issue asks to drop 3 - a failed annotation is not a tie.)
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from maestromotif.data.dataset import (
    FIRST,
    SECOND,
    TIE,
    UNKNOWN,
    PairDataset,
    label_counts,
    load_dataset,
    load_labels,
)
from maestromotif.reward.config import RewardConfig
from maestromotif.reward.model import delta_mask
from maestromotif.utils.errors import UserError

TARGET_OF_LABEL = {FIRST: 0.0, SECOND: 1.0, TIE: 0.5}


@dataclass
class PreferenceData:
    dataset: PairDataset
    messages: np.ndarray  # (U, 256) uint8: distinct inputs
    deltas: np.ndarray  # (U, 5) float32, masked
    counts: np.ndarray  # (U,) samples of the dataset with that input
    first_sample: np.ndarray  # (U,) index of a sample with that input (for its text)
    pairs: np.ndarray  # (P, 2) int64: distinct-input ids of the kept (labelled) pairs
    targets: np.ndarray  # (P,) float32: P(second better) - 0, 1 or 0.5
    pair_index: np.ndarray  # (P,) index of each kept pair in the dataset
    train_idx: np.ndarray  # indices into pairs
    val_idx: np.ndarray
    counts_by_label: dict[str, int] = field(default_factory=dict)
    fingerprint: str = ""

    @property
    def num_distinct(self) -> int:
        return len(self.messages)

    def text(self, uid: int) -> str:
        """A person-readable form of a distinct input: the message and the kept deltas."""
        s = self.dataset.samples[int(self.first_sample[uid])]
        return describe_input(s["msg_strs"][1], self.deltas[uid])


def describe_input(message: str, deltas: np.ndarray) -> str:
    from maestromotif.data.captions import DELTA_NAMES

    parts = [f"{n}{'+' if d > 0 else '-'}" for n, d in zip(DELTA_NAMES, deltas) if d != 0]
    return f'"{message}"' + (f" [{' '.join(parts)}]" if parts else "")


def distinct_inputs(messages: np.ndarray, deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first index, inverse, counts) of the distinct rows of (message bytes, deltas)."""
    if len(messages) == 0:
        z = np.zeros(0, np.int64)
        return z, z, z
    key = np.concatenate([messages.astype(np.uint8), (np.rint(deltas) + 1).astype(np.uint8)], axis=1)
    _, first, inverse, counts = np.unique(key, axis=0, return_index=True, return_inverse=True,
                                          return_counts=True)
    return first.astype(np.int64), inverse.reshape(-1).astype(np.int64), counts.astype(np.int64)


def split_pairs(pairs: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded held-out split that keeps every copy of the same (unordered) comparison on one side."""
    if len(pairs) == 0 or val_fraction <= 0:
        return np.arange(len(pairs)), np.zeros(0, np.int64)
    key = np.sort(pairs, axis=1)
    _, group = np.unique(key, axis=0, return_inverse=True)
    group = group.reshape(-1)
    num_groups = int(group.max()) + 1
    order = np.random.default_rng(seed).permutation(num_groups)
    sizes = np.bincount(group, minlength=num_groups)[order]
    n_val_groups = int(np.searchsorted(np.cumsum(sizes), round(val_fraction * len(pairs)), side="right"))
    is_val = np.zeros(num_groups, bool)
    is_val[order[:n_val_groups]] = True
    val = np.flatnonzero(is_val[group])
    train = np.flatnonzero(~is_val[group])
    return train, val


def labels_sidecar(labels_path: str | Path) -> Path:
    """``preference/<exp>.config.json``: the record scripts.annotate_pairs writes beside the labels."""
    p = Path(labels_path)
    return p.with_name(p.stem + ".config.json")


def check_labels_belong(labels_path: str | Path, ds: PairDataset) -> None:
    """Refuse labels whose sidecar records another dataset content (same size or not)."""
    side = labels_sidecar(labels_path)
    if not side.exists():
        return  # labels from elsewhere (e.g. the original's released files): only the length is checked
    try:
        rec = json.loads(side.read_text())
    except ValueError:
        return
    want = rec.get("dataset_fingerprint")
    if want and want != ds.fingerprint:
        raise UserError(f"the labels were annotated on dataset content {want} ({rec.get('dataset')}), but "
                        f"{ds.path} has content {ds.fingerprint}", path=labels_path,
                        expected="the dataset these labels were made for",
                        fix=f"pass that dataset (--dataset {rec.get('dataset')}), or annotate this one: "
                            f"python -m scripts.annotate_pairs --directory {Path(str(ds.path)).parent} "
                            f"--goal_key {Path(str(ds.path)).stem} --custom-annotator-string NEW_NAME")


def load_preference_data(cfg: RewardConfig) -> PreferenceData:
    """Load and check the dataset and labels named by ``cfg``; build the distinct inputs and the split."""
    ds = load_dataset(cfg.dataset_path)
    check_labels_belong(cfg.labels_path, ds)
    labels = load_labels(cfg.labels_path, num_pairs=ds.num_pairs, dataset_path=cfg.dataset_path)
    msgs = ds.messages
    deltas = ds.deltas * delta_mask(cfg.keep_deltas)[None, :]
    first, inverse, counts = distinct_inputs(msgs, deltas)
    keep = labels != UNKNOWN
    pair_index = np.flatnonzero(keep)
    pairs = inverse.reshape(-1, 2)[pair_index] if len(inverse) else np.zeros((0, 2), np.int64)
    targets = np.array([TARGET_OF_LABEL[int(x)] for x in labels[pair_index]], dtype=np.float32)
    if len(pairs) == 0:
        raise UserError(f"no usable labels: {label_counts(labels)}", path=cfg.labels_path,
                        expected="at least one pair labelled 0 (first), 1 (second) or 2 (tie)",
                        fix="finish the annotation (label 3 means not annotated) before training")
    if not (targets != 0.5).any() and getattr(cfg, "allow_all_ties", False):
        print(f"WARNING: {cfg.labels_path}: every usable label is a tie ({label_counts(labels)}): this reward model "
              "ranks nothing (--allow_all_ties); do not train skills on it", file=sys.stderr)
    elif not (targets != 0.5).any():
        raise UserError(f"every usable label is a tie ({label_counts(labels)}): the Bradley-Terry loss has "
                        "nothing to rank (accuracy would be nan)", path=cfg.labels_path,
                        expected="some pairs labelled 0 (first better) or 1 (second better)",
                        fix="check the annotation (prompt, --tie_margin, model) and annotate again")
    train, val = split_pairs(pairs, cfg.val_fraction, cfg.seed)
    h = hashlib.sha256()
    for a in (msgs, ds.deltas.astype(np.float32), labels.astype(np.int64)):
        h.update(np.ascontiguousarray(a).tobytes())
    return PreferenceData(
        dataset=ds, messages=np.ascontiguousarray(msgs[first]), deltas=np.ascontiguousarray(deltas[first]),
        counts=counts, first_sample=first, pairs=pairs.astype(np.int64), targets=targets,
        pair_index=pair_index, train_idx=train, val_idx=val, counts_by_label=label_counts(labels),
        fingerprint=h.hexdigest()[:16],
    )
