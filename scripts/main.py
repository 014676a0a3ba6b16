"""Train the skill-conditioned policy with APPO (Phase 4), or evaluate it with ``--evaluation True``.

    python -m scripts.main --algo APPO --num_workers 2 --num_envs_per_worker 8 --batch_size 1024 \
        --reward_scale 0.1 --obs_scale 255.0 --train_for_seconds 7200 --seed 2 --code_seed 42 \
        --extrinsic_reward 0.0 --llm_reward 0.1 --train_dir train_dir/skill_policy/ --experiment default

All flags (sample-factory's and MaestroMotif's): ``python -m scripts.main --help``. Rerunning a
command resumes its experiment. See README "Skill training".
"""

import sys

from maestromotif.utils.errors import run_cli


def main(argv=None):
    from maestromotif.rl.train import main as train_main

    return train_main(argv)


if __name__ == "__main__":
    sys.exit(run_cli(main))
