"""Zero-shot evaluation: episodes of (task, agent) pairs in parallel processes, resumable from disk.

Episode ``i`` of every task and agent plays the game seeded ``seed + i`` (``MaestroNLE.reset(seed=...)``
seeds NetHack's own generators), so agents are compared on the same dungeons. Each finished episode is
appended to ``<out>/episodes.jsonl`` as one line written with a single ``write`` + ``fsync``; a run
killed at any point (even ``kill -9``) resumes with the same command and reruns only the episodes that
are not in the file (a torn last line is ignored). The files of ``<out>``:

- ``eval_config.json``: this config (:func:`maestromotif.utils.config.save_config`) and the run keys;
- ``episodes.jsonl``: one JSON object per episode (schema: :data:`EPISODE_FIELDS`);
- ``report.json``, ``report.csv``, ``report.md``, ``report.png``: see :mod:`maestromotif.eval.report`.

A run key fingerprints what decides an episode's outcome (task, agent, seed, step limit, sampling,
checkpoint bytes, policy-over-skills source); an ``--out`` holding results of other settings is refused
rather than mixed.

More skill policies in the same run: ``extra_checkpoints`` (``--extra_checkpoints rules=<path>``) adds
the agent ``maestromotif[rules]``, the task's policy over skills running that skill policy, on the same
games and seeds. ``maestromotif`` keeps ``checkpoint`` and its run key, so a report made without extra
checkpoints resumes with them (only the new rows run).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import queue as queue_mod
import random
import shutil
import tempfile
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestromotif.eval.agents import (
    CHECKPOINT_NAME,
    AgentContext,
    agent_spec,
    code_fingerprint,
    parse_agents,
    with_ceiling,
    with_checkpoints,
)
from maestromotif.eval.detectors import Monitor
from maestromotif.eval.progression import Progression
from maestromotif.eval.recording import FrameRecorder, write_html
from maestromotif.eval.tasks import TASKS, get_task, parse_tasks
from maestromotif.nethack.deaths import DeathWatch, game_end
from maestromotif.nethack.obs import BL, GNOMISH_MINES
from maestromotif.utils.config import config_hash, save_config
from maestromotif.utils.errors import UserError
from maestromotif.utils.jsonl import append_record, read_jsonl
from maestromotif.workspace import in_workspace

EPISODES_FILE = "episodes.jsonl"
FRESH = "fresh"  # --checkpoint fresh: a freshly initialised skill policy (smoke tests, benchmarks)
LAST_STEPS = 12  # steps (that showed messages) kept to read the cause of death from
EPISODE_FIELDS = {
    "task": "task name", "agent": "agent name", "episode": "episode index (game seed = seed + episode)",
    "seed": "NetHack seed of the game", "run_key": "fingerprint of the settings that decide the outcome",
    "metric": "'success' (proxy/exact are booleans) or 'count' (proxy/exact are counts)",
    "proxy": "the paper's detector", "exact": "the exact detector",
    "proxy_step": "agent step at which the proxy succeeded (success tasks)", "exact_step": "same, exact",
    "evidence": "what established the exact verdict", "details": "detector-specific counters",
    "steps": "agent steps", "turns": "game turns (blstats time)",
    "end": "success | max_steps | how NetHack ended the game (died, starving, ...)",
    "death": "cause of the end ({cause, detail, messages}: maestromotif.nethack.deaths.CAUSES, the monster ..., "
             "the last messages read)",
    "progression": "BALROG progression (max over the episode)", "achievement": "the milestone behind it",
    "max_depth": "deepest level", "max_xp": "highest experience level", "gold": "gold at the end",
    "score": "in-game score at the end", "visited_mines": "entered the Gnomish Mines",
    "overview_calls": "#overview windows read by the detector", "agent_stats": "the agent's counters",
    "seconds": "wall time of the episode", "ttyrec": "recording (with --record)", "html": "rendered page",
}


@dataclass
class EvalConfig:
    tasks: list[str]
    agents: list[str] = field(default_factory=lambda: ["maestromotif", "random_skills", "random_actions"])
    episodes: int = 100
    num_workers: int = 1
    checkpoint: str = field(default_factory=lambda: in_workspace("skill_policy/default"))
    meta_policies: str = field(default_factory=lambda: in_workspace("meta_policies"))
    code_seed: int = 42
    seed: int = 0
    max_episode_steps: int = 10_000
    deterministic: bool = False
    out: str = field(default_factory=lambda: in_workspace("eval_results"))
    record: str | None = None
    render_episodes: int = 1
    device: str = "cpu"
    envs_per_worker: int = 16
    ceiling: bool = False  # add the scripted-skills agent (the ceiling of the hierarchy) to the agents
    # more skill policies, {name: experiment dir, checkpoint file or 'fresh'}: agent maestromotif[name] each
    extra_checkpoints: dict[str, str] = field(default_factory=dict)

    def validate(self) -> EvalConfig:
        self.tasks = parse_tasks(",".join(self.tasks))
        if isinstance(self.extra_checkpoints, str):
            self.extra_checkpoints = parse_checkpoints(self.extra_checkpoints)
        for name in self.extra_checkpoints:
            if not CHECKPOINT_NAME.match(name):
                raise UserError(f"skill policy name '{name}' in --extra_checkpoints",
                                expected="letters, digits, '_', '-' or '.' (it becomes the agent maestromotif[<name>])",
                                fix="e.g. --extra_checkpoints rules=train_dir/skill_policy/rules")
        self.agents = parse_agents(",".join(self.agents), self.extra_checkpoints)
        if self.extra_checkpoints:
            self.agents = with_checkpoints(self.agents, list(self.extra_checkpoints))
        if self.ceiling:
            self.agents = with_ceiling(self.agents)
        for name, low in (("episodes", 1), ("num_workers", 1), ("max_episode_steps", 1), ("render_episodes", 0),
                          ("envs_per_worker", 1)):
            if getattr(self, name) < low:
                raise UserError(f"--{name} must be >= {low}, got {getattr(self, name)}")
        return self

    @property
    def uses_skills(self) -> bool:
        return any(agent_spec(a).uses_skills for a in self.agents)

    @property
    def uses_actor(self) -> bool:
        """Some agent runs the trained skill policy (the scripted one needs only the policy over skills)."""
        return any(agent_spec(a).runs_actor for a in self.agents)

    def checkpoint_of(self, agent: str) -> str:
        """The skill policy ``agent`` runs: ``checkpoint``, or for ``maestromotif[<name>]`` the extra one."""
        name = agent_spec(agent).checkpoint
        return self.checkpoint if name is None else self.extra_checkpoints[name]


def parse_checkpoints(text: str) -> dict[str, str]:
    """``--extra_checkpoints``: ``name=path[,name=path...]`` -> ``{name: path}`` (in order)."""
    out: dict[str, str] = {}
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        name, sep, path = item.partition("=")
        name, path = name.strip(), path.strip()
        if not sep or not name or not path or name in out:
            raise UserError(f"--extra_checkpoints item '{item}'" + (" repeats a name" if name in out else ""),
                            expected="NAME=PATH[,NAME=PATH...] with distinct names, PATH an experiment dir, a "
                                     f"checkpoint_*.pth file or '{FRESH}'",
                            fix="e.g. --extra_checkpoints rules=train_dir/skill_policy/rules")
        out[name] = path
    return out


# ------------------------------------------------------------------------------------ inputs
def meta_policy_file(cfg: EvalConfig, task: str) -> Path:
    from maestromotif.skills.interface import meta_policy_path

    return meta_policy_path(cfg.meta_policies, get_task(task).policy_dir, cfg.code_seed)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def checkpoint_key(cfg: EvalConfig, checkpoint: str | None = None) -> str:
    """What identifies a skill policy (``cfg.checkpoint`` unless ``checkpoint`` is given)."""
    checkpoint = cfg.checkpoint if checkpoint is None else checkpoint
    if checkpoint == FRESH:
        return f"fresh-seed{cfg.seed}"
    from maestromotif.rl.actor import find_checkpoint

    ckpt, _ = find_checkpoint(checkpoint)
    return f"{ckpt.name}:{_sha256(ckpt)}"


def run_keys(cfg: EvalConfig) -> dict[tuple[str, str], str]:
    ckpts: dict[str, str] = {}  # skill policy path -> its key (each file hashed once)
    for agent in cfg.agents:
        if agent_spec(agent).runs_actor and cfg.checkpoint_of(agent) not in ckpts:
            ckpts[cfg.checkpoint_of(agent)] = checkpoint_key(cfg, cfg.checkpoint_of(agent))
    keys = {}
    for task in cfg.tasks:
        policy = None
        if cfg.uses_skills:
            path = meta_policy_file(cfg, task)
            if not path.is_file():
                raise UserError("policy over skills not found", path=path,
                                expected=f"<meta_policies>/{get_task(task).policy_dir}/seed{cfg.code_seed}/execution.py",
                                fix="generate it (python -m scripts.generate_code), pass --meta_policies/--code_seed, "
                                    "or evaluate only --agents random_actions")
            policy = _sha256(path)
        for agent in cfg.agents:
            spec = agent_spec(agent)
            skills, actor = spec.uses_skills, spec.runs_actor
            key = {"task": task, "agent": agent, "seed": cfg.seed, "max_episode_steps": cfg.max_episode_steps,
                   "deterministic": cfg.deterministic if actor else None,
                   "checkpoint": ckpts[cfg.checkpoint_of(agent)] if actor else None,
                   "policy": policy if skills else None}
            if spec.code:  # only then: the keys of the other agents stay as they were
                key["code"] = code_fingerprint(spec.code)
            keys[(task, agent)] = config_hash(key)
    return keys


# ------------------------------------------------------------------------------------ storage
class EpisodeStore:
    """``episodes.jsonl``: appended one line at a time (a single ``os.write`` + ``fsync`` per episode)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def load(self) -> list[dict[str, Any]]:
        """Episodes in file order; a torn line (a kill) is skipped, so that episode reruns."""
        if not self.path.exists():
            return []
        records, seen = [], set()
        for rec in read_jsonl(self.path):
            key = (rec.get("task"), rec.get("agent"), rec.get("episode"), rec.get("run_key"))
            if key not in seen:
                seen.add(key)
                records.append(rec)
        return records

    def append(self, record: dict[str, Any]) -> None:
        append_record(self.path, record)


# ------------------------------------------------------------------------------------ one episode
def episode_seed(cfg: EvalConfig, task: str, agent: str, episode: int) -> int:
    """The agent's own random stream (not the game's): stable across processes, batching and runs."""
    return zlib.crc32(f"{cfg.seed}/{task}/{agent}/{episode}".encode())


class Episode:
    """One running episode: environment, agent, detector, BALROG progression, optional frame recorder."""

    def __init__(self, env, agent, task: str, game_seed: int, frames: FrameRecorder | None = None):
        self.env, self.agent, self.task, self.frames = env, agent, task, frames
        self.detector = TASKS[task].detector()
        self.obs, self.info = env.reset(seed=game_seed)
        self.monitor = Monitor(env, self.detector)
        self.monitor.reset(self.obs, self.info)
        self.prog = Progression()
        self.prog.update(self.obs["blstats"])
        agent.reset(self.obs, self.info)
        b = self.obs["blstats"]
        self.max_depth, self.max_xp, self.mines = int(b[BL.DEPTH]), int(b[BL.XP]), False
        self.last = b.copy()  # the bottom line of the last step still in the game
        self.steps, self.end = 0, None
        self.deaths = DeathWatch(LAST_STEPS)  # the last messages: the cause of death is read from them
        if frames is not None:
            frames.add(self.obs, self._caption())

    def advance(self, action: int) -> bool:
        """Play ``action``; True when the episode is over."""
        env = self.env
        self.obs, _, done, truncated, self.info = env.step(action)
        self.steps += 1
        self.deaths.update(self.info.get("messages"))
        self.monitor.update(self.obs, self.info, action, done)
        b = self.obs["blstats"]
        if env.nethack.in_normal_game():
            self.last = b.copy()
        self.prog.update(b)
        self.max_depth, self.max_xp = max(self.max_depth, int(b[BL.DEPTH])), max(self.max_xp, int(b[BL.XP]))
        self.mines |= int(b[BL.DNUM]) == GNOMISH_MINES
        if self.frames is not None:
            self.frames.add(self.obs, self._caption())
        if done or truncated:
            self.end = game_end(env, done, truncated)
        elif self.detector.finished:
            self.end = "success"
        return self.end is not None

    def record(self) -> dict[str, Any]:
        b, det = self.last, self.detector
        details = det.details()
        return {
            "metric": det.metric, "proxy": det.proxy, "exact": det.exact,
            "proxy_step": details.pop("proxy_step"), "exact_step": details.pop("exact_step"),
            "evidence": details.pop("evidence"), "details": details,
            "steps": self.steps, "turns": int(b[BL.TIME]), "end": self.end,
            "progression": self.prog.value, "achievement": self.prog.achievement,
            "max_depth": self.max_depth, "max_xp": self.max_xp, "gold": int(b[BL.GOLD]), "score": int(b[BL.SCORE]),
            "visited_mines": self.mines, "overview_calls": self.monitor.overview_calls,
            "agent_stats": self.agent.stats(), "death": self.death(),
        }

    def death(self) -> dict[str, Any]:
        d = self.deaths.classify(self.end)
        return {"cause": d.cause, "detail": d.detail,
                "messages": self.deaths.last_messages() if d.cause not in ("alive", "timeout") else []}

    def _caption(self) -> str:
        skill = self.agent.skill
        return (f"step {self.steps}" + (f" | skill: {skill}" if skill else "")
                + f" | turn {int(self.obs['blstats'][BL.TIME])}")


def play(env, agent, task: str, game_seed: int, frames: FrameRecorder | None = None) -> dict[str, Any]:
    """One episode of ``agent`` on ``task`` (the record without the run's identifiers)."""
    ep = Episode(env, agent, task, game_seed, frames)
    while not ep.advance(agent.act(ep.obs, ep.info)):
        pass
    return ep.record()


class EpisodeRunner:
    """Runs up to ``slots`` episodes at once in one process: every step, the skill agents' actions come
    from one batched forward pass of the skill policy. Caches environments, the skill policy and the
    policies over skills."""

    def __init__(self, cfg: EvalConfig, keys: dict[tuple[str, str], str], slots: int = 1):
        self.cfg, self.keys, self.slots = cfg, keys, max(1, slots)
        self._envs: list = []
        self._actors: dict[str, Any] = {}  # skill policy path -> loaded actor
        self._policies: dict[str, type] = {}
        self.running: list[tuple[tuple[str, str, int], Episode, dict]] = []

    # cached inputs
    def actor(self, checkpoint: str | None = None):
        """The skill policy at ``checkpoint`` (default ``cfg.checkpoint``), loaded once."""
        checkpoint = self.cfg.checkpoint if checkpoint is None else checkpoint
        if checkpoint not in self._actors:
            import torch

            torch.set_num_threads(1)
            self._actors[checkpoint] = load_skill_actor(self.cfg, checkpoint)
        return self._actors[checkpoint]

    def policy_cls(self, task: str) -> type:
        if task not in self._policies:
            from maestromotif.skills.interface import load_policy_class

            self._policies[task] = load_policy_class(meta_policy_file(self.cfg, task))
        return self._policies[task]

    def _env(self, savedir: str | None):
        from maestromotif.nethack.env import make_env

        if savedir:
            return make_env(max_episode_steps=self.cfg.max_episode_steps, savedir=savedir, save_ttyrec_every=1)
        if self._envs:
            return self._envs.pop()
        return make_env(max_episode_steps=self.cfg.max_episode_steps)

    def close(self) -> None:
        for env in self._envs:
            env.close()
        self._envs = []

    # episodes
    def free(self) -> bool:
        return len(self.running) < self.slots

    def start(self, job: tuple[str, str, int]) -> None:
        cfg = self.cfg
        task, agent_name, episode = job
        rng_seed = episode_seed(cfg, task, agent_name, episode)
        ckpt = cfg.checkpoint_of(agent_name)
        ctx = AgentContext(rng=random.Random(rng_seed), policy_cls=lambda: self.policy_cls(task),
                           actor=lambda: self.actor(ckpt), deterministic=cfg.deterministic, agent=agent_name)
        agent = agent_spec(agent_name).build(ctx)
        extra: dict[str, Any] = {"t0": time.time()}
        record_dir = Path(cfg.record) if cfg.record else None
        if record_dir:
            extra["tmp"] = tempfile.mkdtemp(prefix=".ttyrec-", dir=_mkdir(record_dir))
        env = self._env(os.path.join(extra["tmp"], "nle") if record_dir else None)
        frames = FrameRecorder() if record_dir and episode < cfg.render_episodes else None
        self.running.append((job, Episode(env, agent, task, cfg.seed + episode, frames), extra))

    def step(self) -> list[dict[str, Any]]:
        """One step of every running episode; returns the records of the episodes that ended."""
        from maestromotif.eval.agents import SkillAgent

        groups: dict[int, list[int]] = {}  # one batched forward pass per skill policy
        for i, (_, ep, _) in enumerate(self.running):
            if isinstance(ep.agent, SkillAgent):
                groups.setdefault(id(ep.agent.actor), []).append(i)
        actions: dict[int, int] = {}
        for batched in groups.values():
            eps = [self.running[i][1] for i in batched]
            for i, a in zip(batched, SkillAgent.act_many([e.agent for e in eps], [e.obs for e in eps],
                                                          [e.info for e in eps])):
                actions[i] = a
        finished, still = [], []
        for i, (job, ep, extra) in enumerate(self.running):
            action = actions[i] if i in actions else ep.agent.act(ep.obs, ep.info)
            if ep.advance(action):
                finished.append(self._finish(job, ep, extra))
            else:
                still.append((job, ep, extra))
        self.running = still
        return finished

    def run(self, task: str, agent_name: str, episode: int) -> dict[str, Any]:
        """One episode on its own (tests, benchmarks)."""
        self.start((task, agent_name, episode))
        while True:
            done = self.step()
            if done:
                return done[0]

    def _finish(self, job, ep: Episode, extra: dict) -> dict[str, Any]:
        cfg = self.cfg
        task, agent_name, episode = job
        rec = ep.record()
        rec.update(task=task, agent=agent_name, episode=episode, seed=cfg.seed + episode,
                   run_key=self.keys.get((task, agent_name)), seconds=round(time.time() - extra["t0"], 3))
        if "tmp" in extra:
            ep.env.close()
            rec["ttyrec"] = _keep_ttyrec(Path(extra["tmp"]), Path(cfg.record), task, agent_name, episode)
        else:
            self._envs.append(ep.env)
        if ep.frames is not None:
            page = Path(cfg.record) / f"{task}_{agent_name}_ep{episode:05d}.html"
            summary = (f"game seed {rec['seed']}, {rec['steps']} steps, end: {rec['end']}, "
                       f"proxy {rec['proxy']}, exact {rec['exact']}")
            rec["html"] = str(write_html(page, ep.frames, f"{task} - {agent_name} - episode {episode}", summary))
        return rec


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _keep_ttyrec(tmp: Path, record_dir: Path, task: str, agent: str, episode: int) -> str | None:
    files = sorted(tmp.glob("nle/*.ttyrec*.bz2"), key=lambda p: p.stat().st_size)
    dest = None
    if files:
        dest = record_dir / "ttyrec" / task / agent / f"ep{episode:05d}.ttyrec3.bz2"
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(files[-1], dest)  # the episode's recording (NLE also opens an empty one at start)
    shutil.rmtree(tmp, ignore_errors=True)
    return str(dest) if dest else None


def load_skill_actor(cfg: EvalConfig, checkpoint: str | None = None):
    """The trained skill policy at ``checkpoint`` (default ``cfg.checkpoint``), or a freshly initialised one
    for ``fresh``."""
    from maestromotif.rl.actor import SkillActor, load_actor

    checkpoint = cfg.checkpoint if checkpoint is None else checkpoint
    if checkpoint == FRESH:
        import torch

        from maestromotif.rl.config import parse_cfg

        torch.manual_seed(cfg.seed)  # every worker builds the same network
        return SkillActor.fresh(parse_cfg([]), cfg.device)
    return load_actor(checkpoint, cfg.device)


# ------------------------------------------------------------------------------------ many episodes
def _run_slots(runner: EpisodeRunner, next_job, alive=lambda: True):
    """Keep ``runner``'s slots full with ``next_job()`` (None: no more); yield every finished record."""
    exhausted = False
    while alive():
        while not exhausted and runner.free():
            job = next_job()
            if job is None:
                exhausted = True
            else:
                runner.start(job)
        if not runner.running:
            return
        yield from runner.step()


def _worker(cfg_dict: dict[str, Any], keys: dict[str, str], jobs, results, parent: int) -> None:
    """A worker process: pulls jobs, streams one record per finished episode, then ``("done", pid)``.
    It stops by itself when the parent process is gone (e.g. killed)."""
    import traceback

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        cfg = EvalConfig(**cfg_dict)
        runner = EpisodeRunner(cfg, {tuple(k.split("|")): v for k, v in keys.items()}, cfg.envs_per_worker)
        for rec in _run_slots(runner, jobs.get, alive=lambda: os.getppid() == parent):
            results.put(("record", rec))
        runner.close()
    except BaseException as e:  # report, never hang the parent
        results.put(("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))
    results.put(("done", os.getpid()))


def pending_jobs(cfg: EvalConfig, records: Iterable[dict[str, Any]], keys: dict[tuple[str, str], str]
                 ) -> list[tuple[str, str, int]]:
    done = {(r["task"], r["agent"], r["episode"]) for r in records if keys.get((r["task"], r["agent"])) == r["run_key"]}
    # episode-major order: a partial run already covers every task and agent
    return [(t, a, e) for e in range(cfg.episodes) for t in cfg.tasks for a in cfg.agents if (t, a, e) not in done]


def evaluate(cfg: EvalConfig, show_progress: bool = True) -> dict[str, Any]:
    """Run (or resume) the evaluation described by ``cfg``; write the report; return it."""
    from tqdm import tqdm

    from maestromotif.eval.report import build_report, write_report

    cfg.validate()
    out = Path(cfg.out)
    keys = run_keys(cfg)
    store = EpisodeStore(out / EPISODES_FILE)
    records = store.load()
    clash = sorted({(r["task"], r["agent"]) for r in records
                    if (r["task"], r["agent"]) in keys and r["run_key"] != keys[(r["task"], r["agent"])]})
    if clash:
        raise UserError(f"holds results made with other settings for {', '.join(f'{t}/{a}' for t, a in clash)}",
                        path=store.path, expected="the same checkpoint, policy over skills, --seed, --max_episode_steps "
                        "and --deterministic as the episodes already there",
                        fix="pass another --out, or delete that file to start over")
    save_config(out / "eval_config.json", cfg, run_keys={f"{t}|{a}": k for (t, a), k in keys.items()})
    jobs = pending_jobs(cfg, records, keys)
    if jobs:
        bar = tqdm(total=len(jobs), desc="episodes", unit="ep", disable=not show_progress, dynamic_ncols=True)
        try:
            for rec in _run_jobs(cfg, keys, jobs):
                store.append(rec)
                bar.set_postfix_str(f"{rec['task']}/{rec['agent']} ep{rec['episode']}: {rec['end']}", refresh=False)
                bar.update()
        finally:
            bar.close()
    report = build_report(store.load(), cfg, keys)
    write_report(out, report)
    return report


def _run_jobs(cfg: EvalConfig, keys, jobs):
    """Yield one record per finished episode (in-process, or from ``num_workers`` processes)."""
    workers = min(cfg.num_workers, len(jobs))
    if workers == 1:
        runner = EpisodeRunner(cfg, keys, cfg.envs_per_worker)
        queue = list(reversed(jobs))
        try:
            yield from _run_slots(runner, lambda: queue.pop() if queue else None)
        finally:
            runner.close()
        return
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # no inherited NetHack or torch state in the workers
    job_q, result_q = ctx.Queue(), ctx.Queue()
    for job in jobs:
        job_q.put(job)
    for _ in range(workers):
        job_q.put(None)
    str_keys = {f"{t}|{a}": k for (t, a), k in keys.items()}
    procs = [ctx.Process(target=_worker, args=(dataclasses.asdict(cfg), str_keys, job_q, result_q, os.getpid()),
                         daemon=True) for _ in range(workers)]
    for proc in procs:
        proc.start()
    try:
        running = workers
        while running:
            try:
                kind, payload = result_q.get(timeout=10)
            except queue_mod.Empty:
                if not any(p.is_alive() for p in procs):
                    raise RuntimeError("the evaluation workers died without reporting (out of memory?)") from None
                continue
            if kind == "record":
                yield payload
            elif kind == "error":
                raise RuntimeError(f"an evaluation worker failed: {payload}")
            else:
                running -= 1
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join(timeout=5)
