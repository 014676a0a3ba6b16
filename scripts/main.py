"""Train the skill-conditioned policy with APPO (Phase 4), or evaluate it with ``--evaluation True``.

    python -m scripts.main --algo APPO --num_workers 2 --num_envs_per_worker 8 --batch_size 1024 \
        --reward_scale 0.1 --obs_scale 255.0 --train_for_seconds 7200 --seed 2 --code_seed 42 \
        --extrinsic_reward 0.0 --llm_reward 0.1 --train_dir train_dir/skill_policy/ --experiment default

All flags (sample-factory's and MaestroMotif's): ``python -m scripts.main --help``; with
``--evaluation True --help`` also the evaluation's ``--eval_*`` flags. Rerunning a command resumes its
experiment. See docs/phase-rl.md.

This entry point joins the layers: training is ``maestromotif.rl``; ``--evaluation True`` goes to
``maestromotif.eval`` (which imports rl, never the other way), its flags injected into rl's parser.
"""

import sys

from maestromotif.utils.errors import UserError, run_cli


def evaluate(argv=None) -> int:
    """``--evaluation True``: the training config's parser plus the evaluation's flags, then the evaluation."""
    from maestromotif.rl.config import parse_cfg

    try:
        from maestromotif.eval.main_eval import add_eval_args, evaluate_from_main_cfg
    except ImportError as e:
        raise UserError(f"evaluation is not available in this installation ({e})",
                        expected="the module maestromotif.eval.main_eval with evaluate_from_main_cfg(cfg)",
                        fix="reinstall maestromotif, or drop --evaluation True to train") from None
    result = evaluate_from_main_cfg(parse_cfg(argv, evaluation=True, add_args=add_eval_args))
    return result if isinstance(result, int) else 0


def main(argv=None) -> int:
    from maestromotif.rl.config import wants_evaluation

    if wants_evaluation(argv):
        return evaluate(argv)
    from maestromotif.rl.train import main as train_main

    return train_main(argv)


if __name__ == "__main__":
    sys.exit(run_cli(main))
