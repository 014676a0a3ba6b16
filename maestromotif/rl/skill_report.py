"""What each trained skill measurably does, against baselines (``scripts/skill_report.py``).

The trained network runs in the real game under the training policy over skills (call-and-return,
as in training) in three modes, for the same number of agent steps and the same game seeds:

- ``skill``        the network sees the running skill's one-hot (as trained);
- ``random_skill`` at every skill activation the network is told a uniformly random skill instead
                   (terminations and statistics still follow the real running skill) - what the
                   *conditioning* adds, with the same network and situations;
- ``random``       uniformly random actions.

For each mode and skill the report gives the skill's steps and its behaviours per 1000 of its steps
(:data:`maestromotif.skills.options.BEHAVIOURS`); the headline is each skill's target behaviour
(:data:`maestromotif.skills.own_job.SKILL_BEHAVIOUR`: discoverer cells explored, descender descents,
ascender ascents, worshipper altar drops, merchant items sold), and the own-job rate (fraction of a
skill's activations that did its job, :func:`maestromotif.skills.own_job.own_job_rates`). Written to ``skill_report.json`` and
``skill_report.md`` beside the checkpoint.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from maestromotif.nethack.actions import NUM_ACTIONS
from maestromotif.nethack.env import make_env
from maestromotif.rl.actor import find_checkpoint, load_actor
from maestromotif.rl.obs import ENV_OBS_KEYS, ObsBuilder
from maestromotif.skills.interface import load_policy_class
from maestromotif.skills.options import OptionsController
from maestromotif.skills.own_job import BEHAVIOURS, SKILL_BEHAVIOUR, own_job_rates, per_1000
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.io import atomic_save_json, atomic_write_text

MODES = ("skill", "random_skill", "random")


@dataclass
class ReportConfig:
    policy: str
    meta_policy: str | None = None
    steps: int = 24_000
    envs: int = 8
    max_episode_steps: int = 2_000
    seed: int = 0
    deterministic: bool = False


def _resolve_meta_policy(cfg: ReportConfig, actor) -> Path:
    from maestromotif.rl.config import meta_policy_file

    if cfg.meta_policy:
        return Path(cfg.meta_policy)
    # the recorded one, read from any directory (also the checkpoint's own workspace)
    return meta_policy_file(actor.cfg, bases=tuple(find_checkpoint(cfg.policy)[1].resolve().parents))


def run_mode(mode: str, cfg: ReportConfig, actor, policy_cls) -> dict[str, float]:
    """Counters summed over all episodes of one mode (``<skill>_steps``, ``<skill>_<behaviour>``, ...)."""
    import torch

    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    n = cfg.envs
    envs = [make_env(max_episode_steps=cfg.max_episode_steps, observation_keys=ENV_OBS_KEYS) for _ in range(n)]
    ctrls = [OptionsController(policy_cls, rng=random.Random(cfg.seed * 1000 + i)) for i in range(n)]
    builder = ObsBuilder(actor.encoder)
    told = [0] * n  # the skill the network is told (differs from the running one in random_skill mode)
    totals: dict[str, float] = {"episodes": 0}
    obs = []
    for i, (env, ctrl) in enumerate(zip(envs, ctrls)):
        o, info = env.reset(seed=cfg.seed * 1000 + i)
        ctrl.reset(o, info)
        told[i] = rng.randrange(len(SKILL_NAMES)) if mode == "random_skill" else ctrl.skill_index
        obs.append(o)
    state = actor.initial_state(n)
    steps = 0

    def add(stats: dict[str, float]) -> None:
        for k, v in stats.items():
            totals[k] = totals.get(k, 0) + v
        totals["episodes"] += 1

    while steps < cfg.steps:
        if mode == "random":
            actions = [rng.randrange(NUM_ACTIONS) for _ in range(n)]
        else:
            batch = [builder.build(o, told[i]) for i, o in enumerate(obs)]
            stacked = {k: np.stack([b[k] for b in batch]) for k in batch[0]}
            actions, state = actor.act(stacked, state, cfg.deterministic)
        done = np.zeros(n, dtype=bool)
        for i, (env, ctrl) in enumerate(zip(envs, ctrls)):
            o, _, term, trunc, info = env.step(int(actions[i]))
            before = ctrl.switches
            ctrl.step(o, info)
            if ctrl.switches != before or mode != "random_skill":
                told[i] = rng.randrange(len(SKILL_NAMES)) if mode == "random_skill" else ctrl.skill_index
            steps += 1
            if term or trunc:
                add(ctrl.stats())
                o, info = env.reset()
                ctrl.reset(o, info)
                told[i] = rng.randrange(len(SKILL_NAMES)) if mode == "random_skill" else ctrl.skill_index
                done[i] = True
            obs[i] = o
        if mode != "random" and done.any():
            state = actor.reset_state(state, done)
    for ctrl in ctrls:  # unfinished episodes count too (same number of steps per mode)
        add(ctrl.stats())
    for env in envs:
        env.close()
    return totals


def summarise(totals: dict[str, float]) -> dict[str, dict[str, float]]:
    out = {}
    own = own_job_rates(totals)
    for s in SKILL_NAMES:
        steps = totals.get(f"{s}_steps", 0)
        row = {"steps": steps, "activations": totals.get(f"{s}_activations", 0)}
        for beh in BEHAVIOURS:
            row[f"{beh}_per_1000"] = per_1000(totals.get(f"{s}_{beh}", 0), steps)
        row["own_job_rate"] = own.get(s, {}).get("own_job_rate", float("nan"))
        out[s] = row
    return out


def report(cfg: ReportConfig, out_dir: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    actor = load_actor(cfg.policy)
    policy_cls = load_policy_class(_resolve_meta_policy(cfg, actor))
    results: dict[str, Any] = {"config": asdict(cfg), "env_steps_trained": actor.env_steps, "modes": {}}
    for mode in MODES:
        if progress:
            print(f"running {mode} for {cfg.steps} steps...", flush=True)
        totals = run_mode(mode, cfg, actor, policy_cls)
        results["modes"][mode] = {"episodes": totals["episodes"], "per_skill": summarise(totals)}
    out_dir = Path(out_dir) if out_dir else find_checkpoint(cfg.policy)[1]
    atomic_save_json(out_dir / "skill_report.json", results)
    text = markdown(results)
    atomic_write_text(out_dir / "skill_report.md", text)
    if progress:
        print(text)
    return results


def markdown(results: dict[str, Any]) -> str:
    modes = results["modes"]
    lines = [f"Skill policy trained for {results['env_steps_trained']:,} env steps; "
             f"{results['config']['steps']:,} agent steps per mode.", "",
             "| skill | target behaviour (per 1000 skill steps) | " + " | ".join(MODES)
             + " | skill steps (skill mode) | own-job rate (skill mode) |",
             "|---|---|" + "---|" * len(MODES) + "---|---|"]
    for s, beh in SKILL_BEHAVIOUR.items():
        vals = [modes[m]["per_skill"][s][f"{beh}_per_1000"] for m in MODES]
        cells = " | ".join("n/a" if v != v else f"{v:.2f}" for v in vals)
        own = modes["skill"]["per_skill"][s].get("own_job_rate", float("nan"))  # NaN: discoverer, no activation
        lines.append(f"| {s} | {beh} | {cells} | {modes['skill']['per_skill'][s]['steps']:.0f} | "
                     f"{'n/a' if own != own else f'{100 * own:.0f}%'} |")
    return "\n".join(lines) + "\n"
