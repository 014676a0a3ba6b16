"""Evaluate skills zero-shot on a named task: ``python -m scripts.evaluate --task goldenexit --episodes 100``.

Runs MaestroMotif (the task's policy over skills + the trained skill policy) and the baselines on the
real game, episodes in parallel processes, and writes ``<out>/report.{md,json,csv,png}`` plus one line
per episode in ``<out>/episodes.jsonl``. Rerunning the same command resumes an interrupted run.
Success is measured twice: with the paper's proxy detector and with an exact one. See README
"Zero-shot evaluation".
"""

from __future__ import annotations

import argparse
import sys

from maestromotif.eval.agents import AGENT_NAMES, AGENTS
from maestromotif.eval.evaluator import FRESH, EvalConfig, evaluate
from maestromotif.eval.report import markdown
from maestromotif.eval.tasks import TASK_NAMES, TASKS
from maestromotif.utils.errors import run_cli


def str2bool(text: str) -> bool:
    low = str(text).lower()
    if low in ("true", "1", "yes", "y"):
        return True
    if low in ("false", "0", "no", "n"):
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got '{text}'")


def parser() -> argparse.ArgumentParser:
    d = EvalConfig(tasks=[])
    p = argparse.ArgumentParser(prog="python -m scripts.evaluate", description=__doc__,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)

    def add(*names: str, **kw) -> None:  # accept --a_b and --a-b
        spellings = list(names) + [n.replace("_", "-") for n in names if "_" in n]
        p.add_argument(*spellings, **kw)

    tasks = "; ".join(f"{n} ({TASKS[n].title})" for n in TASK_NAMES)
    add("--task", "--tasks", "--eval_target", dest="task", required=True,
        help=f"task(s), comma separated, or 'all': {tasks}")
    add("--episodes", type=int, default=d.episodes, help="episodes per task and agent (game seeds seed..seed+episodes-1)")
    add("--num_workers", type=int, default=d.num_workers, help="parallel worker processes (use the number of CPU cores)")
    add("--envs_per_worker", type=int, default=d.envs_per_worker,
        help="episodes each worker runs at once; the skill policy acts for all of them in one batched forward pass")
    add("--checkpoint", default=d.checkpoint,
        help=f"skill policy: experiment dir (train_dir/skill_policy/<experiment>) or a checkpoint_*.pth file; "
             f"'{FRESH}' = a freshly initialised network (to try the pipeline without a trained policy)")
    add("--agents", default=",".join(d.agents),
        help="comma-separated agents: " + "; ".join(f"{n} ({AGENTS[n].description})" for n in AGENT_NAMES))
    add("--max_episode_steps", type=int, default=d.max_episode_steps,
        help="agent steps before an episode is cut (the original's default: 10000)")
    add("--out", default=d.out, help="output folder (episodes.jsonl, report.*, eval_config.json); resumable")
    add("--seed", type=int, default=d.seed, help="game seed of episode 0 (episode i plays seed+i, for every agent)")
    add("--code_seed", type=int, default=d.code_seed, help="which generated policy over skills: seed<N> folder")
    add("--meta_policies", default=d.meta_policies,
        help="root of the policies over skills: <root>/<task>/seed<code_seed>/execution.py")
    add("--record", default=None, metavar="DIR",
        help="keep every episode's ttyrec in DIR/ttyrec/<task>/<agent>/ and render the first --render_episodes "
             "episodes of each task and agent to DIR/<task>_<agent>_epNNNNN.html")
    add("--render_episodes", type=int, default=d.render_episodes, help="episodes per task and agent rendered to HTML with --record")
    add("--deterministic", type=str2bool, default=d.deterministic,
        help="True: the skill policy takes its most likely action; False: it samples (as in training)")
    add("--device", default=d.device, help="torch device for the skill policy")
    add("--ceiling", type=str2bool, nargs="?", const=True, default=d.ceiling,
        help="True: add the ceiling row, the agent 'scripted_skills' (each skill run by a hand-written controller) "
             "next to the agents given")
    add("--progress", type=str2bool, default=True, help="show a progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    cfg = EvalConfig(tasks=a.task.split(","), agents=a.agents.split(","), episodes=a.episodes,
                     num_workers=a.num_workers, envs_per_worker=a.envs_per_worker, checkpoint=a.checkpoint, meta_policies=a.meta_policies,
                     code_seed=a.code_seed, seed=a.seed, max_episode_steps=a.max_episode_steps,
                     deterministic=a.deterministic, out=a.out, record=a.record, render_episodes=a.render_episodes,
                     device=a.device, ceiling=a.ceiling)
    report = evaluate(cfg, show_progress=a.progress)
    print(markdown(report))
    print(f"report: {cfg.out}/report.md (+ .json .csv .png), episodes: {cfg.out}/episodes.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
