"""Preference-pair datasets: ``og_dataset/<skill>.pkl``.

Schema (the original MaestroMotif format, so its released datasets load here unchanged)
---------------------------------------------------------------------------------------
A pickle holding a ``list`` of samples; pair ``i`` compares samples ``2*i`` and ``2*i + 1`` (so the
list has an even length and ``num_pairs = len(samples) // 2``). Each sample is a ``dict``:

- ``msg_strs``   ``(prev: str, cur: str)``: game message before and after the transition.
- ``stats_list`` ``[[dlvl, gold, hp, maxhp, xl, hunger], [same after]]``: ints, 2 x 6.
  ``dlvl`` is the depth (``blstats[NLE_BL_DEPTH]``), hunger follows ``blstats[NLE_BL_HUNGER]``.

Optional keys written by maestromotif (ignored by readers that do not know them):

- ``source``  where the transition came from, e.g. ``"nle:random"`` or ``"ttyrec:<file>"``.
- ``episode`` / ``step``  episode id and step index inside that episode.
- ``dnum``    ``(before, after)`` dungeon number (0 Dungeons of Doom, 2 Gnomish Mines, ...).

Next to each ``<skill>.pkl`` a ``<skill>.meta.json`` records the config that produced it (how the
samples were collected and paired), the maestromotif version, summary counts and the content
``fingerprint`` (:func:`content_fingerprint`). Label files and reward models record the fingerprint of
the dataset they were made from, and refuse to be used with another one.

A pickle runs code when it is loaded: open only datasets you made or trust. ``<skill>.npz`` (written
beside every pickle, see :func:`save_npz`) holds the same samples as plain arrays and loads with
``allow_pickle=False``; :func:`load_dataset` reads it when given a ``.npz`` path.

Label files (``preference/<annotator>_<skill>_<prompt>.npy``) are int arrays of length ``num_pairs``
aligned with the pairs: 0 first better, 1 second better, 2 tie, 3 unknown/unparseable.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from maestromotif.data.captions import caption, message_array, stat_deltas
from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_open, atomic_save_json, atomic_save_pickle

SCHEMA_HINT = ("a pickled list of dicts with 'msg_strs' (prev, cur) and 'stats_list' "
               "2 x [dlvl, gold, hp, maxhp, xl, hunger]; pairs are samples (2i, 2i+1)")

# Label encoding of preference files (the original's AnnotationIdx).
FIRST, SECOND, TIE, UNKNOWN = 0, 1, 2, 3
LABEL_NAMES = {FIRST: "first", SECOND: "second", TIE: "tie", UNKNOWN: "unknown"}


def flip(label: int) -> int:
    """The label of the same pair shown in the other order (first <-> second; tie and unknown stay)."""
    return {FIRST: SECOND, SECOND: FIRST}.get(label, label)


@dataclass
class PairDataset:
    """A list of captioned transition samples, read in pairs ``(2i, 2i+1)``."""

    samples: list[dict[str, Any]]
    path: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def num_pairs(self) -> int:
        return len(self.samples) // 2

    def pair(self, i: int) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.samples[2 * i], self.samples[2 * i + 1]

    @cached_property
    def captions(self) -> list[str]:
        """Caption of every sample (the text the LLM judges)."""
        return [caption(s["msg_strs"], s["stats_list"]) for s in self.samples]

    def pair_captions(self, i: int) -> tuple[str, str]:
        return self.captions[2 * i], self.captions[2 * i + 1]

    @cached_property
    def messages(self) -> np.ndarray:
        """Current message of every sample as bytes, uint8 (num_samples, 256)."""
        return np.stack([message_array(s["msg_strs"][1]) for s in self.samples]) if self.samples else \
            np.zeros((0, 256), np.uint8)

    @cached_property
    def deltas(self) -> np.ndarray:
        """Clipped stat deltas of every sample, float32 (num_samples, 5)."""
        return np.stack([stat_deltas(s["stats_list"]) for s in self.samples]) if self.samples else \
            np.zeros((0, 5), np.float32)

    @cached_property
    def fingerprint(self) -> str:
        """Content fingerprint: changes when any message or stat of any sample changes (not the path)."""
        return content_fingerprint(self.samples)

    def summary(self, top: int = 10) -> dict[str, Any]:
        msgs = Counter(s["msg_strs"][1] for s in self.samples)
        return {
            "samples": len(self.samples),
            "pairs": self.num_pairs,
            "unique_captions": len(set(self.captions)),
            "unique_messages": len(msgs),
            "identical_caption_pairs": sum(a == b for a, b in zip(self.captions[0::2], self.captions[1::2])),
            "most_common_messages": msgs.most_common(top),
        }


def content_fingerprint(samples: Sequence[dict[str, Any]]) -> str:
    """sha256 (16 hex digits) of what the LLM and the reward model read: messages and stats, in order."""
    h = hashlib.sha256()
    for s in samples:
        h.update(json.dumps([list(s["msg_strs"]), [[int(x) for x in row] for row in s["stats_list"]]],
                            separators=(",", ":")).encode())
    return h.hexdigest()[:16]


def validate_samples(samples: Any, path: str | Path | None = None) -> list[dict[str, Any]]:
    """Check the schema; raise :class:`UserError` naming the first offending sample."""
    if not isinstance(samples, list):
        raise UserError(f"holds a {type(samples).__name__}, not a list of samples", path=path,
                        expected=SCHEMA_HINT, fix="rebuild it with `python -m scripts.collect_dataset`")
    for i, s in enumerate(samples):
        problem = _sample_problem(s)
        if problem:
            raise UserError(f"sample {i} {problem}", path=path, expected=SCHEMA_HINT,
                            fix="rebuild it with `python -m scripts.collect_dataset` or repair that sample")
    return samples


def _sample_problem(s: Any) -> str | None:
    if not isinstance(s, dict):
        return f"is a {type(s).__name__}, not a dict"
    for key in ("msg_strs", "stats_list"):
        if key not in s:
            return f"has no '{key}' (keys: {sorted(s)})"
    m = s["msg_strs"]
    if not (isinstance(m, list | tuple) and len(m) == 2 and all(isinstance(x, str) for x in m)):
        return "has 'msg_strs' that is not two strings"
    st = np.asarray(s["stats_list"], dtype=object)
    if st.shape != (2, 6):
        return f"has 'stats_list' of shape {st.shape}, not (2, 6)"
    try:
        [int(x) for x in st.ravel()]
    except (TypeError, ValueError):
        return "has non-integer values in 'stats_list'"
    return None


def load_dataset(path: str | Path) -> PairDataset:
    """Load and validate a dataset pickle (and its ``.meta.json`` when present)."""
    path = Path(path)
    if not path.exists():
        raise UserError("dataset file not found", path=path, expected=SCHEMA_HINT,
                        fix="collect one with `python -m scripts.collect_dataset --out "
                            f"{path.parent}` or pass the right --directory/--dataset_dir")
    if path.suffix == ".npz":
        samples = _load_npz(path)
    else:
        try:
            with open(path, "rb") as f:
                samples = pickle.load(f)
        except Exception as e:  # corrupt, truncated, not a pickle
            raise UserError(f"cannot be unpickled ({type(e).__name__}: {e})", path=path, expected=SCHEMA_HINT,
                            fix="the file is corrupt or not a dataset; recollect it") from None
    samples = validate_samples(samples, path)
    if len(samples) % 2:
        raise UserError(f"has an odd number of samples ({len(samples)})", path=path, expected=SCHEMA_HINT,
                        fix="drop the last sample or recollect")
    meta = {}
    mpath = meta_path(path)
    if mpath.exists():
        meta = json.loads(mpath.read_text())
    return PairDataset(samples=samples, path=path, meta=meta)


def meta_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.stem + ".meta.json")


def save_dataset(path: str | Path, samples: Sequence[dict[str, Any]], meta: dict[str, Any] | None = None) -> Path:
    """Validate and atomically write a dataset pickle (+ ``.meta.json`` with ``meta`` and a summary)."""
    samples = validate_samples(list(samples), path)
    if len(samples) % 2:
        raise ValueError(f"{path}: a dataset needs an even number of samples, got {len(samples)}")
    path = Path(path)
    atomic_save_pickle(path, samples)
    save_npz(path.with_suffix(".npz"), samples)
    ds = PairDataset(samples=samples, path=path)
    summ = ds.summary()
    record = dict(meta or {})
    record["summary"] = {k: v for k, v in summ.items() if k != "most_common_messages"}
    record["fingerprint"] = ds.fingerprint
    atomic_save_json(meta_path(path), record)
    return path


def save_npz(path: str | Path, samples: Sequence[dict[str, Any]]) -> Path:
    """The samples as plain arrays (no pickle: loading it cannot run code). Extra keys are dropped."""
    path = Path(path)
    msgs = np.array([list(s["msg_strs"]) for s in samples], dtype=np.str_).reshape(-1, 2)
    stats = np.array([s["stats_list"] for s in samples], dtype=np.int64).reshape(-1, 2, 6)
    with atomic_open(path, "wb") as f:
        np.savez_compressed(f, msg_strs=msgs, stats_list=stats)
    return path


def _load_npz(path: Path) -> list[dict[str, Any]]:
    try:
        with np.load(path, allow_pickle=False) as z:
            msgs, stats = z["msg_strs"], z["stats_list"]
    except Exception as e:
        raise UserError(f"cannot be read as a dataset .npz ({type(e).__name__}: {e})", path=path,
                        expected="arrays msg_strs (N, 2) str and stats_list (N, 2, 6) int",
                        fix="rewrite it from the pickle with maestromotif.data.dataset.save_npz") from None
    return [{"msg_strs": (str(m[0]), str(m[1])), "stats_list": st.tolist()} for m, st in zip(msgs, stats)]


def dataset_path(directory: str | Path, skill: str) -> Path:
    return Path(directory) / f"{skill}.pkl"


def load_labels(path: str | Path, num_pairs: int | None = None, dataset_path: str | Path | None = None) -> np.ndarray:
    """Load a label file; check values (0..3) and, when given, its length against ``num_pairs``."""
    path = Path(path)
    if not path.exists():
        raise UserError("label file not found", path=path,
                        expected="an int .npy of labels 0/1/2/3 aligned with the dataset pairs",
                        fix="annotate with `python -m scripts.annotate_pairs` (and merge chunks with "
                            "`python -m scripts.merge_annotations`) or pass the right --experiment")
    try:
        labels = np.load(path, allow_pickle=False)
    except Exception as e:
        raise UserError(f"cannot be read as .npy ({e})", path=path, fix="re-create the label file") from None
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise UserError(f"has shape {labels.shape} dtype {labels.dtype}", path=path,
                        expected="a 1-D integer array", fix="re-create the label file")
    bad = ~np.isin(labels, [FIRST, SECOND, TIE, UNKNOWN])
    if bad.any():
        raise UserError(f"has {int(bad.sum())} labels outside 0..3 (first at index {int(np.argmax(bad))})",
                        path=path, expected="0 first, 1 second, 2 tie, 3 unknown")
    if num_pairs is not None and len(labels) != num_pairs:
        raise UserError(f"has {len(labels)} labels but the dataset {dataset_path or ''} has {num_pairs} pairs",
                        path=path, expected="one label per pair of the dataset it was annotated on",
                        fix="check that --dataset_dir/--experiment name the dataset these labels were made for")
    return labels.astype(np.int64)


def label_counts(labels: Iterable[int]) -> dict[str, int]:
    c = Counter(int(x) for x in labels)
    return {LABEL_NAMES[k]: c.get(k, 0) for k in LABEL_NAMES}


_KILL = re.compile(r"\bYou (kill|destroy)\b|\bis (killed|destroyed)\b")
_ALTAR = re.compile(r"\baltar\b")
_SHOP = re.compile(r"Welcome (again )?to [^!]*'s |\bYou sold\b|\boffers \d+ gold pieces? for\b")


def skill_events(samples: list[dict[str, Any]]) -> dict[str, int]:
    """How many transitions show each skill-relevant event: ``descents`` / ``ascents`` (dungeon level
    up / down), ``gold`` (gold increased), ``kills``, ``altar`` (a message about an altar), ``shop``
    (a shopkeeper's welcome, offer or a sale). Used to check that a dataset is rich in what the five
    skills are about."""
    out = dict.fromkeys(("descents", "ascents", "kills", "gold", "altar", "shop"), 0)
    for sm in samples:
        (a, b), msg = sm["stats_list"], sm["msg_strs"][1]
        out["descents"] += b[0] > a[0]
        out["ascents"] += b[0] < a[0]
        out["gold"] += b[1] > a[1]
        out["kills"] += bool(_KILL.search(msg))
        out["altar"] += bool(_ALTAR.search(msg))
        out["shop"] += bool(_SHOP.search(msg))
    return {k: int(v) for k, v in out.items()}
