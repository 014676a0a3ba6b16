"""The stage table. A stage is a list of units; a unit is one stand-alone command (or a small
in-process step) with the files it produces.

    collect   -> og_dataset/<skill>.pkl                                   (scripts.collect_dataset)
    annotate  -> preference/<annotator>_<skill>_<prompt>.npy, per skill   (scripts.annotate_pairs)
    reward    -> train_dir/skill_rewards/<experiment>/, per skill         (scripts.train_reward)
    code      -> rl_baseline/meta_policies/<task>/seed<N>/execution.py    (scripts.generate_code, or the
                 per task                                                  shipped ones with reuse_code)
    train     -> train_dir/skill_policy/default/                          (scripts.main)
    eval      -> eval_results/ (episodes.jsonl, report.*)                 (scripts.evaluate)
    report    -> report.md, report.html, plots/*.png                      (in-process)

The workdir is a workspace (:class:`maestromotif.workspace.Workspace`: the repository's layout), so any
stage can be rerun or replaced by hand with the printed command, or with ``--workspace <workdir>``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from maestromotif.pipeline.config import PipelineConfig
from maestromotif.workspace import CHECKOUT, SHIPPED, Workspace

REPO_ROOT = CHECKOUT  # commands run from the checkout that holds the package
SHIPPED_META_POLICIES = SHIPPED.meta_policies


@dataclass
class Unit:
    name: str
    outputs: list[Path]
    argv: list[str] | None = None  # a command run from the repository root
    fn: Callable[[], None] | None = None  # or an in-process step
    fallback: Callable[[], str] | None = None  # called when the command fails; returns a note
    describe: str = ""  # what `fn` does, for --dry_run and the state file

    def key_material(self, workdir: Path | None = None) -> list[str]:
        """What the unit's result depends on: its command, independent of the interpreter's path and of
        where the workdir lies (a moved workdir stays up to date)."""
        if not self.argv:
            return [self.describe]
        out = []
        for a in map(str, self.argv):
            if a == sys.executable:
                a = "python"
            elif workdir is not None:
                a = a.replace(str(workdir), "<workdir>")
            out.append(a)
        return out


@dataclass
class Stage:
    name: str
    deps: tuple[str, ...]
    doc: str
    units: Callable[[PipelineConfig, Path], list[Unit]]
    slurm: Callable[[PipelineConfig, Path], str] | None = None  # cluster form for --dry_run


def _py(*args: object) -> list[str]:
    return [sys.executable, "-m", *[str(a) for a in args]]


def experiment(cfg: PipelineConfig, skill: str) -> str:
    return f"{cfg.annotator}_{skill}_{cfg.prompt}"


def _collect(cfg: PipelineConfig, w: Path) -> list[Unit]:
    out = Workspace(w).og_dataset
    return [Unit("collect", [out / f"{s}.pkl" for s in cfg.skills],
                 argv=_py("scripts.collect_dataset", "--policy", cfg.collect_policy, "--num_pairs", cfg.num_pairs,
                          "--out", out, "--num_workers", cfg.num_workers, "--seed", cfg.seed,
                          "--skills", *cfg.skills))]


def _annotate_argv(cfg: PipelineConfig, w: Path, skill: str, chunk: int | str = 0) -> list[str]:
    argv = _py("scripts.annotate_pairs", "--directory", Workspace(w).og_dataset, "--goal_key", skill,
               "--n-annotation-chunks", cfg.annotation_chunks, "--chunk-number", chunk,
               "--annotator", cfg.annotator, "--prompt", cfg.prompt, "--preference_dir", Workspace(w).preference,
               "--logdir", Workspace(w).path("prompt_logs"), "--backend", cfg.backend, "--batch_size",
               cfg.annotation_batch_size, "--progress", 0)
    if cfg.model:
        argv += ["--model", cfg.model]
    return argv + list(cfg.annotation_extra)


def _annotate(cfg: PipelineConfig, w: Path) -> list[Unit]:
    units = []
    for s in cfg.skills:
        npy = Workspace(w).preference / f"{experiment(cfg, s)}.npy"
        if cfg.annotation_chunks == 1:
            units.append(Unit(f"annotate/{s}", [npy], argv=_annotate_argv(cfg, w, s)))
        else:  # run the chunks one after another here; on a cluster they are a Slurm array
            for c in range(cfg.annotation_chunks):
                units.append(Unit(f"annotate/{s}/chunk{c}", [], argv=_annotate_argv(cfg, w, s, c)))
            units.append(Unit(f"annotate/{s}/merge", [npy],
                              argv=_py("scripts.merge_annotations", "--preference_dir", Workspace(w).preference,
                                       "--experiment", experiment(cfg, s))))
    return units


def _annotate_slurm(cfg: PipelineConfig, w: Path) -> str:
    lines = []
    for s in cfg.skills:
        argv = " ".join(_annotate_argv(cfg, w, s, "$SLURM_ARRAY_TASK_ID")).replace(sys.executable, "python")
        lines.append(f"sbatch --array=0-{cfg.annotation_chunks - 1} --partition={cfg.slurm_partition} "
                     f"--gres=gpu:8 --job-name=annotate_{s} --wrap=\"{argv}\"")
    for s in cfg.skills:
        lines.append(" ".join(_py("scripts.merge_annotations", "--preference_dir", Workspace(w).preference,
                                  "--experiment", experiment(cfg, s))).replace(sys.executable, "python")
                     + "   # after the array finishes")
    return "\n".join(lines)


def _reward(cfg: PipelineConfig, w: Path) -> list[Unit]:
    units = []
    for s in cfg.skills:
        exp = experiment(cfg, s)
        units.append(Unit(f"reward/{s}", [Workspace(w).skill_rewards / exp],
                          argv=_py("scripts.train_reward", "--experiment", exp, "--dataset_dir", Workspace(w).og_dataset,
                                   "--preference_dir", Workspace(w).preference, "--train_dir",
                                   Workspace(w).skill_rewards, "--num_epochs", cfg.reward_epochs,
                                   "--batch_size", cfg.reward_batch_size, "--reward_lr", cfg.reward_lr,
                                   "--seed", 777, "--progress", 0, "--num_threads", 1,
                                   *(["--allow_all_ties", "True"] if cfg.reward_allow_all_ties else []))))
    return units


def _copy_shipped(task: str, seed: int, dest_root: Path) -> None:
    src = SHIPPED_META_POLICIES / task / f"seed{seed}"
    if not (src / "execution.py").exists():
        from maestromotif.utils.errors import UserError

        raise UserError("no shipped policy over skills to reuse", path=src / "execution.py",
                        fix="run without reuse_code (generate it) or pass an existing code_seed")
    dest = dest_root / task / f"seed{seed}"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest)


def _code(cfg: PipelineConfig, w: Path) -> list[Unit]:
    root = Workspace(w).meta_policies
    units = []
    for t in cfg.code_tasks:
        path = root / t / f"seed{cfg.code_seed}" / "execution.py"
        if cfg.reuse_code:
            units.append(Unit(f"code/{t}", [path], fn=lambda t=t: _copy_shipped(t, cfg.code_seed, root),
                              describe=f"copy shipped rl_baseline/meta_policies/{t}/seed{cfg.code_seed}"))
        else:
            argv = _py("scripts.generate_code", "--task", t, "--seed", cfg.code_seed, "--backend", cfg.backend,
                       "--max_rewrites", cfg.max_rewrites, "--out", root, "--logdir", Workspace(w).path("codegen_logs"))
            if cfg.model:
                argv += ["--model", cfg.model]

            def fallback(t=t) -> str:
                _copy_shipped(t, cfg.code_seed, root)
                return "the LLM loop produced no valid code: reused the shipped policy"
            units.append(Unit(f"code/{t}", [path], argv=argv, fallback=fallback))
    # Whatever their origin, every policy is validated before skills train on it.
    units.append(Unit("code/validate", [], argv=_py("scripts.generate_code", "--validate_only", "--task",
                                                     ",".join(cfg.code_tasks), "--seed", cfg.code_seed,
                                                     "--out", root)))
    return units


def train_argv(cfg: PipelineConfig, w: Path) -> list[str]:
    reward_dirs = [str(Workspace(w).skill_rewards / experiment(cfg, s)) for s in cfg.skills]
    argv = _py("scripts.main", "--algo", "APPO", "--num_workers", cfg.rl_workers, "--num_envs_per_worker",
               cfg.envs_per_worker, "--batch_size", cfg.rl_batch_size, "--reward_scale", 0.1, "--obs_scale", 255.0,
               "--train_for_env_steps", cfg.train_for_env_steps, "--stats_avg", 1000, "--seed", cfg.seed + 2,
               "--code_seed", cfg.code_seed, "--meta_policy_dir", Workspace(w).meta_policies,
               "--reward_dir", repr(reward_dirs), "--extrinsic_reward", cfg.extrinsic_reward,
               "--llm_reward", cfg.llm_reward, "--train_dir", Workspace(w).skill_policy,
               "--experiment", "default")
    if cfg.train_for_seconds:
        argv += ["--train_for_seconds", str(cfg.train_for_seconds)]
    return argv + [str(a) for a in cfg.rl_extra]


def _train(cfg: PipelineConfig, w: Path) -> list[Unit]:
    return [Unit("train", [Workspace(w).skill_policy / "default"], argv=train_argv(cfg, w))]


def _eval(cfg: PipelineConfig, w: Path) -> list[Unit]:
    return [Unit("eval", [Workspace(w).eval_results / "report.json"],
                 argv=_py("scripts.evaluate", "--task", ",".join(cfg.eval_tasks), "--episodes", cfg.eval_episodes,
                          "--num_workers", cfg.num_workers, "--checkpoint", Workspace(w).skill_policy / "default",
                          "--meta_policies", Workspace(w).meta_policies, "--code_seed", cfg.code_seed,
                          "--agents", cfg.eval_agents, "--max_episode_steps", cfg.eval_max_episode_steps,
                          "--out", Workspace(w).eval_results, "--seed", cfg.seed, "--progress", "False"))]


def _report(cfg: PipelineConfig, w: Path) -> list[Unit]:
    from maestromotif.pipeline.report import write_report

    return [Unit("report", [w / "report.md", w / "report.html"], fn=lambda: write_report(cfg, w),
                 describe="write report.md / report.html / plots/*.png")]


STAGES: tuple[Stage, ...] = (
    Stage("collect", (), "collect a captioned-pair dataset from NLE", _collect),
    Stage("annotate", ("collect",), "annotate it for the five skills with the LLM", _annotate, _annotate_slurm),
    Stage("reward", ("annotate",), "train the five reward models", _reward),
    Stage("code", (), "generate/validate the policies over skills", _code),
    Stage("train", ("reward", "code"), "train the skill policy with APPO", _train),
    Stage("eval", ("train", "code"), "evaluate zero-shot on the nine tasks (and the baselines)", _eval),
    Stage("report", ("collect", "annotate", "reward", "train", "eval"), "write the report", _report),
)
STAGE_NAMES = tuple(s.name for s in STAGES)
