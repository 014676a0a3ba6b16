"""Evaluate skills zero-shot on a named task: ``python -m scripts.evaluate --task goldenexit --episodes 100``.

Runs MaestroMotif (the task's policy over skills + the trained skill policy) and the baselines on the
real game, episodes in parallel processes, and writes ``<out>/report.{md,json,csv,png}`` plus one line
per episode in ``<out>/episodes.jsonl``. Rerunning the same command resumes an interrupted run.
Success is measured twice: with the paper's proxy detector and with an exact one. Several skill
policies side by side in one run (e.g. skills learned from LLM labels and from the caption-rule oracle):
``--checkpoint train_dir/skill_policy/default --extra_checkpoints rules=train_dir/skill_policy/rules``
(agents ``maestromotif`` and ``maestromotif[rules]``). See docs/evaluation.md.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from maestromotif.eval.agents import AGENT_NAMES, AGENTS, CHECKPOINT_LABELS
from maestromotif.eval.evaluator import FRESH, EvalConfig, evaluate, parse_checkpoints
from maestromotif.eval.report import markdown
from maestromotif.eval.tasks import TASK_NAMES, TASKS
from maestromotif.utils.cli import arg, from_namespace, make_parser, ws_arg
from maestromotif.utils.errors import run_cli

_D = EvalConfig(tasks=[])


@dataclass
class EvalArgs:
    task: str = arg(help="task(s), comma separated, or 'all': "
                         + "; ".join(f"{n} ({TASKS[n].title})" for n in TASK_NAMES),
                    aliases=("tasks", "eval_target"), required=True)
    episodes: int = arg(_D.episodes, "episodes per task and agent (game seeds seed..seed+episodes-1)")
    num_workers: int = arg(_D.num_workers, "parallel worker processes (use the number of CPU cores; >= 1)")
    envs_per_worker: int = arg(_D.envs_per_worker, "episodes each worker runs at once; the skill policy acts for "
                                                   "all of them in one batched forward pass")
    checkpoint: str = ws_arg("skill_policy/default", "skill policy: experiment dir (train_dir/skill_policy/<experiment>) or a "
                                         f"checkpoint_*.pth file; '{FRESH}' = a freshly initialised network (to "
                                         "try the pipeline without a trained policy)")
    extra_checkpoints: str = arg("", "more skill policies evaluated in the same run, on the same games and seeds: "
                                     "NAME=PATH[,NAME=PATH...] (PATH as for --checkpoint) adds the agent "
                                     "maestromotif[NAME] per skill policy, right after maestromotif; e.g. "
                                     "rules=train_dir/skill_policy/rules -> maestromotif[rules] (labelled "
                                     "'" + CHECKPOINT_LABELS["rules"] + "'). --checkpoint stays the agent "
                                     "maestromotif, so a report made without this flag resumes with it",
                                 metavar="NAME=PATH")
    agents: str = arg(",".join(_D.agents), "comma-separated agents: "
                      + "; ".join(f"{n} ({AGENTS[n].description})" for n in AGENT_NAMES)
                      + "; <agent>[NAME] (e.g. maestromotif[rules]) runs that agent with the skill policy NAME "
                        "of --extra_checkpoints")
    max_episode_steps: int = arg(_D.max_episode_steps, "agent steps before an episode is cut (the original's "
                                                       "default: 10000)")
    out: str = ws_arg("eval_results", "output folder (episodes.jsonl, report.*, eval_config.json); resumable")
    seed: int = arg(_D.seed, "game seed of episode 0 (episode i plays seed+i, for every agent)")
    code_seed: int = arg(_D.code_seed, "which generated policy over skills: seed<N> folder")
    meta_policies: str = ws_arg("meta_policies", "root of the policies over skills: "
                                               "<root>/<task>/seed<code_seed>/execution.py (screened before loading)")
    record: str | None = arg(None, "keep every episode's ttyrec in DIR/ttyrec/<task>/<agent>/ and render the first "
                                   "--render_episodes episodes of each task and agent to "
                                   "DIR/<task>_<agent>_epNNNNN.html", metavar="DIR")
    render_episodes: int = arg(_D.render_episodes, "episodes per task and agent rendered to HTML with --record")
    deterministic: bool = arg(_D.deterministic, "True: the skill policy takes its most likely action; False: it "
                                                "samples (as in training)")
    device: str = arg(_D.device, "torch device for the skill policy")
    ceiling: bool = arg(_D.ceiling, "add the ceiling row, the agent 'scripted_skills' (each skill run by a "
                                    "hand-written controller) next to the agents given")
    progress: bool = arg(True, "show a progress bar")


def parser():
    return make_parser(EvalArgs, prog="python -m scripts.evaluate", description=__doc__)


def main(argv: list[str] | None = None) -> int:
    a = from_namespace(EvalArgs, parser().parse_args(argv))
    cfg = EvalConfig(tasks=a.task.split(","), agents=a.agents.split(","), episodes=a.episodes,
                     num_workers=a.num_workers, envs_per_worker=a.envs_per_worker, checkpoint=a.checkpoint, meta_policies=a.meta_policies,
                     code_seed=a.code_seed, seed=a.seed, max_episode_steps=a.max_episode_steps,
                     deterministic=a.deterministic, out=a.out, record=a.record, render_episodes=a.render_episodes,
                     device=a.device, ceiling=a.ceiling, extra_checkpoints=parse_checkpoints(a.extra_checkpoints))
    report = evaluate(cfg, show_progress=a.progress)
    print(markdown(report))
    print(f"report: {cfg.out}/report.md (+ .json .csv .png), episodes: {cfg.out}/episodes.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
