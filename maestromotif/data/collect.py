"""Collect captioned transitions from real NetHack episodes and build the per-skill pair datasets.

Work is split over ``num_workers`` processes. Each worker plays seeded episodes with the behaviour
policy and appends its transitions to shard files ``<out>/.collect/shard_w<worker>_<k>.pkl`` (atomic
writes, one shard per ``shard_size`` transitions), so a killed collection resumes where the shards
stop: rerun the same command and only the missing transitions are played.

Uninformative transitions (no message before or after and no stat change) dominate raw play; only a
``keep_boring`` fraction of them is kept so the LLM is mostly asked about something.

Once the pool holds ``pool_size`` transitions, each skill's dataset draws ``2 * num_pairs`` of them
(seeded by the skill's index, without replacement when the pool is large enough) and pairs
neighbours (samples ``2i``, ``2i+1``). All skills share the pool but get different pairings.

Sampling (``--sampling``): ``uniform`` draws every transition with the same probability (the
original's datasets); ``informative`` (default) weights a transition by ``1/sqrt(n)``, ``n`` the
number of pool transitions with the same caption, times 4 when the dungeon level, gold or experience
level changed. Rare events (stairs, gold, level-ups, shops, altars) are what the five skills are about
and what a small annotation budget must not miss; frequent captions are still present, just not
asked about hundreds of times.
"""

from __future__ import annotations

import dataclasses
import itertools
import multiprocessing as mp
import pickle
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from maestromotif.data.dataset import PairDataset, dataset_path, save_dataset, skill_events
from maestromotif.skills.table import SKILL_NAMES, get_skill
from maestromotif.utils.config import config_hash, to_dict
from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_save_json, atomic_save_pickle


@dataclass
class CollectConfig:
    out: str = "og_dataset"
    num_pairs: int = 1000  # pairs per skill dataset
    skills: tuple[str, ...] = SKILL_NAMES
    policy: str = "explore"  # "random", "explore", "scripted_skills" or a skill-policy checkpoint path
    # policy over skills of scripted_skills / a checkpoint ("" : its default); several, comma-separated,
    # take turns by episode (e.g. "travel,buc": the buc task's policy walks to altars, which travel
    # rarely meets)
    meta_policy: str = ""
    num_workers: int = 2
    seed: int = 0
    max_episode_steps: int = 2000
    keep_boring: float = 0.05
    pool_factor: float = 5.0  # pool of transitions = pool_factor * 2 * num_pairs
    sampling: str = "informative"  # how each skill draws its samples from the pool (see SAMPLING)
    shard_size: int = 100  # transitions per shard file: what a kill -9 can lose
    # "module:callable" that builds the policy of a checkpoint path (set by the entry point, so that
    # data/ never imports rl/; resolved inside each spawned worker)
    checkpoint_loader: str = ""

    @property
    def pool_size(self) -> int:
        return int(self.pool_factor * 2 * self.num_pairs)


def is_boring(sample: dict[str, Any]) -> bool:
    (m0, m1), (s0, s1) = sample["msg_strs"], sample["stats_list"]
    return not m0 and not m1 and list(s0) == list(s1)


# ----------------------------------------------------------------------------- workers
def _worker(cfg_dict: dict[str, Any], worker: int, target: int, start_shard: int, progress) -> None:
    import torch

    torch.set_num_threads(1)
    from maestromotif.data.policies import make_policy
    from maestromotif.nethack.env import make_env
    from maestromotif.nethack.obs import BL, caption_stats, message_text

    cfg = CollectConfig(**cfg_dict)
    shard_dir = Path(cfg.out) / ".collect"
    env = make_env(max_episode_steps=cfg.max_episode_steps)
    # Distinct, reproducible seeds per worker and shard: a resumed run plays new episodes.
    episode_seed = (cfg.seed * 1_000_003 + worker * 10_007 + start_shard * 101) % (2**31)
    metas = [m.strip() for m in cfg.meta_policy.split(",")] if cfg.meta_policy else [""]
    name = Path(cfg.policy).name if "/" in cfg.policy else cfg.policy
    # (policy, source label) per policy over skills; episodes take them in turn
    turns = itertools.cycle([(make_policy(cfg.policy, seed=episode_seed + i, meta_policy=m or None,
                                          checkpoint_loader=cfg.checkpoint_loader or None),
                              f"nle:{name}" + (f"/{m}" if m else "")) for i, m in enumerate(metas)])
    rng = random.Random(episode_seed)
    shard, buf, done_count = start_shard, [], 0
    # The buffer counts: a target below one shard is reached before any shard is written.
    while done_count + len(buf) < target:
        policy, source = next(turns)
        obs, info = env.reset(seed=episode_seed)
        policy.reset(obs, info)
        prev_msg, prev_stats = message_text(obs["message"]), caption_stats(obs["blstats"])
        prev_dnum = int(obs["blstats"][BL.DNUM])
        step, finished = 0, False
        while not finished and done_count + len(buf) < target:
            action = policy.act(obs, info)
            obs, _, term, trunc, info = env.step(action)
            finished = term or trunc
            if finished and not env.nethack.in_normal_game():
                break  # the final observation after death/quit has zeroed stats
            msg, stats = message_text(obs["message"]), caption_stats(obs["blstats"])
            dnum = int(obs["blstats"][BL.DNUM])
            sample = {"msg_strs": (prev_msg, msg), "stats_list": [prev_stats, stats], "source": source,
                      "episode": f"w{worker}s{episode_seed}", "step": step, "dnum": (prev_dnum, dnum)}
            if not is_boring(sample) or rng.random() < cfg.keep_boring:
                buf.append(sample)
                progress.put(1)
            if len(buf) >= cfg.shard_size:
                atomic_save_pickle(shard_dir / f"shard_w{worker}_{shard:05d}.pkl", buf)
                done_count += len(buf)
                shard, buf = shard + 1, []
            prev_msg, prev_stats, prev_dnum = msg, stats, dnum
            step += 1
        episode_seed = (episode_seed * 48271 + 1) % (2**31)
    if buf:
        atomic_save_pickle(shard_dir / f"shard_w{worker}_{shard:05d}.pkl", buf)
    env.close()


def _load_shards(shard_dir: Path) -> dict[int, list[list[dict[str, Any]]]]:
    by_worker: dict[int, list[list[dict[str, Any]]]] = {}
    for p in sorted(shard_dir.glob("shard_w*_*.pkl")):
        worker = int(p.name.split("_")[1][1:])
        try:
            with open(p, "rb") as f:
                by_worker.setdefault(worker, []).append(pickle.load(f))
        except Exception:  # a shard is written atomically; anything unreadable is not ours
            raise UserError("unreadable collection shard", path=p,
                            fix="delete it (its transitions will be collected again)") from None
    return by_worker


def collect_pool(cfg: CollectConfig, show_progress: bool = True) -> list[dict[str, Any]]:
    """Play episodes until the pool of transitions is full (resuming from existing shards)."""
    from tqdm import tqdm

    shard_dir = Path(cfg.out) / ".collect"
    shard_dir.mkdir(parents=True, exist_ok=True)
    stamp = shard_dir / "config.json"
    identity = config_hash(cfg, ignore=("num_workers", "num_pairs", "pool_factor", "skills", "out",
                                        "shard_size", "sampling", "checkpoint_loader") + (() if cfg.meta_policy else ("meta_policy",)))
    if stamp.exists():
        import json
        old = json.loads(stamp.read_text()).get("identity")
        if old != identity:
            raise UserError("existing collection shards were made with a different policy/seed/filter",
                            path=shard_dir, fix=f"delete {shard_dir} to start over, or rerun with the "
                                                "same --policy/--seed/--keep_boring/--max_episode_steps")
    atomic_save_json(stamp, {"identity": identity, "config": to_dict(cfg)})
    by_worker = _load_shards(shard_dir)
    have = sum(len(s) for shards in by_worker.values() for s in shards)
    missing = cfg.pool_size - have
    if missing > 0:
        nw = max(1, cfg.num_workers)
        ctx = mp.get_context("spawn")  # NLE is not fork-safe once a game exists in the parent
        progress = ctx.Queue()
        procs = []
        for w in range(nw):
            target = missing // nw + (1 if w < missing % nw else 0)
            start = max((int(p.stem.split("_")[2]) + 1 for p in shard_dir.glob(f"shard_w{w}_*.pkl")), default=0)
            procs.append(ctx.Process(target=_worker, args=(dataclasses.asdict(cfg), w, target, start, progress),
                                     daemon=True))
        for p in procs:
            p.start()
        bar = tqdm(total=cfg.pool_size, initial=have, desc="transitions", unit="tr", disable=not show_progress,
                   smoothing=0.05)
        while any(p.is_alive() for p in procs) or not progress.empty():
            try:
                bar.update(progress.get(timeout=0.5))
            except Exception:
                pass
        bar.close()
        bad = [p.exitcode for p in procs if p.exitcode]
        if bad:
            raise RuntimeError(f"collection worker(s) failed with exit codes {bad}; rerun to resume")
        by_worker = _load_shards(shard_dir)
    # Interleave workers deterministically, then cut to the pool size.
    pool = [s for w in sorted(by_worker) for shard in by_worker[w] for s in shard]
    return pool[: cfg.pool_size]


@dataclass
class CollectResult:
    paths: dict[str, Path] = field(default_factory=dict)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    pool_size: int = 0
    seconds: float = 0.0
    events: dict[str, int] = field(default_factory=dict)  # skill events in the pool (data.dataset.skill_events)


def build_datasets(pool: list[dict[str, Any]], cfg: CollectConfig, extra_meta: dict[str, Any] | None = None
                   ) -> CollectResult:
    """Draw each skill's pairs from the pool and write ``<out>/<skill>.pkl`` (+ ``.meta.json``)."""
    if len(pool) < 2:
        raise UserError(f"only {len(pool)} transitions collected; nothing to pair",
                        fix="raise --num_pairs/--pool_factor or lower the filtering (--keep_boring)")
    res = CollectResult(pool_size=len(pool))
    for name in cfg.skills:
        skill = get_skill(name)
        idx = SAMPLING[cfg.sampling](pool, 2 * cfg.num_pairs, cfg.seed * 1000 + skill.index)
        samples = [pool[i] for i in idx]
        meta = {"config": to_dict(cfg), "skill": name, "pool_size": len(pool), **(extra_meta or {})}
        path = save_dataset(dataset_path(cfg.out, name), samples, meta)
        res.paths[name] = path
        res.summaries[name] = PairDataset(samples).summary()
    return res


def uniform_indices(pool: list[dict[str, Any]], n: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return rng.sample(range(len(pool)), n) if n <= len(pool) else [rng.randrange(len(pool)) for _ in range(n)]


def informative_weights(pool: list[dict[str, Any]]) -> np.ndarray:
    from maestromotif.data.captions import caption

    caps = [caption(s["msg_strs"], s["stats_list"]) for s in pool]
    counts = Counter(caps)
    w = np.array([1.0 / np.sqrt(counts[c]) for c in caps])
    for i, s in enumerate(pool):
        a, b = s["stats_list"]
        if a[0] != b[0] or a[1] != b[1] or a[4] != b[4]:  # dungeon level, gold, experience level
            w[i] *= 4.0
    return w / w.sum()


def informative_indices(pool: list[dict[str, Any]], n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    p = informative_weights(pool)
    replace = n > len(pool)
    return rng.choice(len(pool), size=n, replace=replace, p=p).tolist()


SAMPLING = {"uniform": uniform_indices, "informative": informative_indices}


def collect(cfg: CollectConfig, show_progress: bool = True) -> CollectResult:
    for s in cfg.skills:
        get_skill(s)  # unknown skill -> clear error before any work
    if cfg.sampling not in SAMPLING:
        raise UserError(f"unknown --sampling '{cfg.sampling}'", expected=" or ".join(SAMPLING))
    if cfg.num_pairs <= 0:
        raise UserError(f"--num_pairs must be positive, got {cfg.num_pairs}")
    if cfg.num_workers < 1:
        raise UserError(f"--num_workers {cfg.num_workers} is out of range", expected="an integer >= 1 "
                        "(game processes)", fix="pass --num_workers 1 or more (e.g. the number of CPU cores)")
    check_policy(cfg.policy)
    t0 = time.time()
    pool = collect_pool(cfg, show_progress)
    res = build_datasets(pool, cfg)
    res.events = skill_events(pool)
    res.seconds = time.time() - t0
    return res


def check_policy(spec: str) -> None:
    """A bad --policy fails here, in this process, before any worker starts (not in every worker)."""
    from maestromotif.data.policies import POLICIES

    if spec in POLICIES or Path(spec).exists():
        return
    raise UserError(f"unknown collection policy '{spec}' (no such policy name, no such file)",
                    expected=f"one of {', '.join(POLICIES)} or the path of a skill-policy checkpoint/experiment dir",
                    fix="pass --policy random, --policy explore or an existing checkpoint path")


def pool_summary(pool: list[dict[str, Any]], top: int = 15) -> dict[str, Any]:
    msgs = Counter(s["msg_strs"][1] for s in pool)
    return {"transitions": len(pool), "boring": sum(is_boring(s) for s in pool),
            "unique_messages": len(msgs), "most_common_messages": msgs.most_common(top)}
