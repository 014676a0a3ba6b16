"""The intrinsic reward the RL phase pays the running skill: :class:`SkillReward`, :class:`SkillRewardSet`.

For one environment step with current message m and stat deltas d (5 values, ``DELTA_NAMES`` order,
clipped to -1..1; the model only sees the deltas it was trained with, by default the dungeon level)::

    r_norm = (r_phi(m, d) - mean) / std            # mean/std over the training dataset's distinct inputs
    r_int  = 1[r_norm >= eps] * r_norm / N(m)**beta

N(m) counts the steps of the current episode that showed message m, this one included (the original's
``MessageWrapper``: one counter per episode, keyed by the message only, shared by all skills, reset at
episode reset). As in the original (``LimitedDefaultDict``, ``--msg_max_keys`` 20) the counter keeps
at most ``msg_max_keys`` messages, least recently seen dropped first, so a message not seen for a
while counts from 1 again (:class:`MessageCounter`; ``msg_max_keys <= 0``: unbounded).
eps is read from ``reward_metrics/train_norm_quantiles.csv`` - the last row, in the
column of ``eps_quantile`` - and ``eps_quantile=0`` disables the threshold, as in the original learner.
(The original compares with a strict ``>``; the paper and this API use ``>=``; the quantile values are
rounded to 2 decimals, so the two differ only on rewards exactly equal to that rounded value.)

The empty message is treated like any other message, as in the original: it is scored by the model
and counted. Because most steps show no message, N("") grows quickly and its reward vanishes as
N^-beta within a few steps (and eps usually removes it already).

Speed: r_norm is cached per (message, kept deltas), so a repeated message costs a dict lookup
(``bench/reward.py`` measures the ratio). The cache is bounded (``cache_size`` entries, oldest
evicted first). Creating a :class:`SkillRewardSet` loads five small CPU models (~10 ms each); in a
sample-factory worker process call ``torch.set_num_threads(1)`` first (that is the caller's job:
this module never changes global torch settings).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from maestromotif.data.captions import DELTA_NAMES, MESSAGE_LEN, message_array
from maestromotif.reward.checkpoint import checkpoint_path, load_verified
from maestromotif.reward.config import RewardConfig
from maestromotif.reward.model import RewardModel, delta_mask
from maestromotif.reward.reports import read_eps
from maestromotif.utils.errors import UserError

DEFAULT_CACHE_SIZE = 200_000
DEFAULT_MSG_MAX_KEYS = 20  # the original's --msg_max_keys
MessageLike = str | bytes | np.ndarray


def message_key(message: MessageLike) -> bytes:
    """The bytes the model reads for a message: str -> ASCII ('?' for others), NLE uint8 array -> up
    to its first NUL; truncated to 256 bytes. Messages with the same key get the same reward and count."""
    if isinstance(message, str):
        b = message.encode("ascii", errors="replace")
    elif isinstance(message, bytes | bytearray):
        b = bytes(message)
    elif isinstance(message, np.ndarray):
        b = message.astype(np.uint8, copy=False).tobytes()
        nul = b.find(b"\0")
        b = b if nul < 0 else b[:nul]
    else:
        raise TypeError(f"message must be str, bytes or a uint8 array, not {type(message).__name__}")
    return b[:MESSAGE_LEN]


class MessageCounter:
    """N(message) for one episode: an LRU of at most ``max_keys`` messages (``<= 0``: unbounded).

    ``count(m)`` adds one to m's count, marks m most recently seen, drops the least recently seen
    message when more than ``max_keys`` are held, and returns m's new count - the original's
    ``messages_dict[msg] += 1`` on its ``LimitedDefaultDict``.
    """

    def __init__(self, max_keys: int = DEFAULT_MSG_MAX_KEYS):
        self.max_keys = int(max_keys)
        self._counts: dict[bytes, int] = {}  # insertion order = recency (re-inserted on every count)

    def count(self, key: bytes) -> int:
        counts = self._counts
        n = counts.pop(key, 0) + 1
        counts[key] = n
        if 0 < self.max_keys < len(counts):
            del counts[next(iter(counts))]
        return n

    def get(self, key: bytes, default: int = 0) -> int:
        return self._counts.get(key, default)

    def __getitem__(self, key: bytes) -> int:
        return self._counts[key]

    def clear(self) -> None:
        self._counts.clear()

    def __len__(self) -> int:
        return len(self._counts)

    def __contains__(self, key: bytes) -> bool:
        return key in self._counts


class _DeltaKey:
    """Turns raw deltas into the hashable tuple of the kept, clipped values."""

    def __init__(self, kept: Sequence[int]):
        self.kept = tuple(kept)

    def __call__(self, deltas: Any) -> tuple[float, ...]:
        if deltas is None:
            return (0.0,) * len(self.kept)
        if len(deltas) != len(DELTA_NAMES):
            raise ValueError(f"deltas must have {len(DELTA_NAMES)} values ({', '.join(DELTA_NAMES)}), "
                             f"got {len(deltas)}")
        return tuple(min(1.0, max(-1.0, float(deltas[i]))) for i in self.kept)

    def full(self, key: tuple[float, ...]) -> np.ndarray:
        d = np.zeros(len(DELTA_NAMES), np.float32)
        d[list(self.kept)] = key
        return d


class SkillReward:
    """One skill's reward model with its normalisation, threshold and exponent."""

    def __init__(self, model: RewardModel, mean: float, std: float, eps: float, beta: float,
                 config: RewardConfig, reward_dir: Path, device: str = "cpu",
                 cache_size: int = DEFAULT_CACHE_SIZE, epoch: int = 0, finished: bool = True):
        self.model = model.eval()
        self.mean, self.std = float(mean), max(float(std), 1e-8)
        self.eps, self.beta = float(eps), float(beta)
        self.config, self.reward_dir, self.device = config, Path(reward_dir), torch.device(device)
        self.epoch, self.finished = epoch, finished
        self.cache_size = cache_size
        kept = np.flatnonzero(delta_mask(config.keep_deltas))
        self._dkey = _DeltaKey(kept)
        self._cache: dict[tuple[bytes, tuple[float, ...]], float] = {}

    @classmethod
    def load(cls, reward_dir: str | Path, eps_quantile: float = 0.5, beta: float = 3.0, device: str = "cpu",
             *, allow_unfinished: bool = False, cache_size: int = DEFAULT_CACHE_SIZE) -> SkillReward:
        """Load ``<reward_dir>/checkpoint.pt`` and the eps of ``eps_quantile`` (0: no threshold)."""
        reward_dir = Path(reward_dir)
        ck = load_verified(checkpoint_path(reward_dir), device=device)
        cfg = RewardConfig.from_dict(ck["config"])
        finished = bool(ck.get("finished", False))
        if not finished and not allow_unfinished:
            raise UserError(f"its training is not finished (epoch {ck['epoch']} of {cfg.num_epochs}"
                            + (", mid-epoch" if ck.get("batch_in_epoch") else "") + ")",
                            path=checkpoint_path(reward_dir), expected="a finished reward training",
                            fix=f"rerun `python -m scripts.train_reward --experiment {cfg.experiment} "
                                f"--train_dir {reward_dir.parent}` (it resumes) before using it for RL")
        model = RewardModel(cfg.encoder_embedding_dim, cfg.encoder_hidden_dim, cfg.keep_deltas)
        try:
            model.load_state_dict(ck["model"])
        except RuntimeError as e:
            raise UserError(f"holds weights that do not fit its config ({str(e)[:200]})",
                            path=checkpoint_path(reward_dir), fix="retrain this reward model") from None
        model.to(device)
        for p in model.parameters():
            p.requires_grad_(False)
        return cls(model, ck["reward_mean"], ck["reward_std"], read_eps(reward_dir, eps_quantile), beta,
                   cfg, reward_dir, device, cache_size, int(ck["epoch"]), finished)

    @property
    def name(self) -> str:
        return self.config.experiment

    # -- rewards ------------------------------------------------------------------------------------
    def key(self, message: MessageLike, deltas: Any) -> tuple[bytes, tuple[float, ...]]:
        return message_key(message), self._dkey(deltas)

    def raw(self, message: MessageLike, deltas: Any) -> float:
        """Normalised reward r_norm of (message, deltas) (cached)."""
        k = self.key(message, deltas)
        r = self._cache.get(k)
        if r is None:
            r = self._compute([k])[0]
            self._store(k, r)
        return r

    def raw_batch(self, messages: Sequence[MessageLike], deltas: Sequence[Any] | np.ndarray | None = None) -> np.ndarray:
        """Normalised rewards of many inputs at once (uncached; for inspection and statistics)."""
        ds = [None] * len(messages) if deltas is None else deltas
        return np.asarray(self._compute([self.key(m, d) for m, d in zip(messages, ds)]), dtype=np.float64)

    def intrinsic(self, r_norm: float, count: int) -> float:
        """``1[r_norm >= eps] * r_norm / count**beta`` (count: N(message) including this step, >= 1)."""
        if count < 1:
            raise ValueError(f"count must be >= 1 (N(message) includes the current step), got {count}")
        return r_norm / count ** self.beta if r_norm >= self.eps else 0.0

    def cache_clear(self) -> None:
        self._cache.clear()

    @torch.no_grad()
    def _compute(self, keys: Sequence[tuple[bytes, tuple[float, ...]]], batch_size: int = 1024) -> list[float]:
        out: list[float] = []
        for i in range(0, len(keys), batch_size):
            chunk = keys[i:i + batch_size]
            m = torch.from_numpy(np.stack([message_array(k[0]) for k in chunk])).to(self.device)
            d = torch.from_numpy(np.stack([self._dkey.full(k[1]) for k in chunk])).to(self.device)
            r = self.model(m, d).double().cpu().numpy()
            out.extend(((r - self.mean) / self.std).tolist())
        return out

    def _store(self, k: tuple[bytes, tuple[float, ...]], r: float) -> None:
        if len(self._cache) >= self.cache_size:
            self._cache.pop(next(iter(self._cache)))  # oldest first (dicts keep insertion order)
        self._cache[k] = r


class SkillRewardSet:
    """The skills of one environment (index = skill id) with one per-episode message counter."""

    def __init__(self, rewards: Sequence[SkillReward], cache_size: int = DEFAULT_CACHE_SIZE,
                 msg_max_keys: int = DEFAULT_MSG_MAX_KEYS):
        if not rewards:
            raise UserError("no reward directories given", expected="one reward directory per skill")
        self.rewards = list(rewards)
        kept = sorted(set().union(*(r._dkey.kept for r in self.rewards)))
        self._dkey = _DeltaKey(kept)  # union of what the skills see: one cache key serves them all
        self.cache_size = cache_size
        self._cache: dict[tuple[bytes, tuple[float, ...]], tuple[float, ...]] = {}
        self._eps = tuple(r.eps for r in self.rewards)
        self._beta = tuple(r.beta for r in self.rewards)
        self.counts = MessageCounter(msg_max_keys)

    @classmethod
    def load(cls, reward_dirs: Sequence[str | Path], eps_quantile: float | Sequence[float] = 0.5,
             beta: float = 3.0, device: str = "cpu", *, cache_size: int = DEFAULT_CACHE_SIZE,
             msg_max_keys: int = DEFAULT_MSG_MAX_KEYS) -> SkillRewardSet:
        """Load one :class:`SkillReward` per directory (in skill-id order). ``eps_quantile`` may be one
        value or one per skill (the original's default was ``[0.95, 0.85, 0.85, 0.85, 0.85]``)."""
        reward_dirs = list(reward_dirs)
        qs = list(eps_quantile) if isinstance(eps_quantile, Sequence) else [eps_quantile] * len(reward_dirs)
        if len(qs) != len(reward_dirs):
            raise UserError(f"{len(qs)} eps quantiles for {len(reward_dirs)} reward directories",
                            expected="one quantile, or one per reward directory")
        return cls([SkillReward.load(d, q, beta, device, cache_size=1) for d, q in zip(reward_dirs, qs)],
                   cache_size=cache_size, msg_max_keys=msg_max_keys)

    def __len__(self) -> int:
        return len(self.rewards)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.rewards]

    def reset(self) -> None:
        """A new episode: forget the message counts N(message) (the reward cache is kept)."""
        self.counts.clear()

    def step(self, message: MessageLike, deltas: Any, skill_index: int) -> float:
        """Count this step's message and return the running skill's intrinsic reward."""
        return self.score(message, deltas, skill_index, self.count(message))

    def count(self, message: MessageLike) -> int:
        """Count one more step showing ``message``; returns N(message) including it."""
        return self.counts.count(message_key(message))

    def score(self, message: MessageLike, deltas: Any, skill_index: int, n: int) -> float:
        """``skill_index``'s intrinsic reward for (message, deltas) seen for the ``n``-th time (no counting)."""
        k = (message_key(message), self._dkey(deltas))
        vals = self._cache.get(k)
        if vals is None:
            vals = self._compute(k)
        r = vals[skill_index]
        return r / n ** self._beta[skill_index] if r >= self._eps[skill_index] else 0.0

    def all_raw(self, message: MessageLike, deltas: Any) -> np.ndarray:
        """r_norm of every skill for (message, deltas) (cached; does not count)."""
        k = (message_key(message), self._dkey(deltas))
        vals = self._cache.get(k)
        if vals is None:
            vals = self._compute(k)
        return np.array(vals)

    def _compute(self, k: tuple[bytes, tuple[float, ...]]) -> tuple[float, ...]:
        full = self._dkey.full(k[1])
        vals = tuple(r._compute([r.key(k[0], full)])[0] for r in self.rewards)
        if len(self._cache) >= self.cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[k] = vals
        return vals
