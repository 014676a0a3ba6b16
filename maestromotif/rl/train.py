"""Phase 4: train the skill-conditioned policy with APPO on released sample-factory 2.1.1.

Everything goes through sample-factory's public API: :func:`register_components` registers the env
(``register_env``) and the encoder (``global_model_factory().register_encoder_factory``) with
module-level factories (they are pickled into the worker processes); :func:`train` builds the
runner with ``sample_factory.train.make_runner`` and adds the observers of
:mod:`maestromotif.rl.observers` (working ``--train_for_seconds``, ``--save_every_steps``,
``metrics.csv`` + ``curves.png``).

Output: ``<train_dir>/<experiment>/`` - sample-factory's ``config.json`` and
``checkpoint_p0/checkpoint_<iteration>_<env_steps>.pth``, TensorBoard summaries in ``.summary/0``,
``metrics.csv``, ``curves.png`` and ``maestromotif_config.json`` (the config record of
:func:`maestromotif.utils.config.save_config`). Running the same command again resumes from the
latest checkpoint (sample-factory's ``--restart_behavior resume``), also after ``kill -9``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from maestromotif.rl.config import ENV_NAME, maestro_cfg, meta_policy_file, parse_cfg, reward_dirs
from maestromotif.utils.errors import UserError


def register_components() -> None:
    """Register the env and the encoders with sample-factory (idempotent)."""
    from sample_factory.algo.utils.context import global_env_registry, global_model_factory
    from sample_factory.envs.env_utils import register_env

    from maestromotif.rl.encoders import make_encoder
    from maestromotif.rl.env import make_skill_env

    if global_env_registry().get(ENV_NAME) is not make_skill_env:
        register_env(ENV_NAME, make_skill_env)
    global_model_factory().register_encoder_factory(make_encoder)


def validate(cfg: Any) -> dict[str, Any]:
    """Fail before any worker starts: encoder, reward dirs (when used), policy over skills."""
    from maestromotif.rl import validate as checks  # the module; this function is named validate

    checks.check_run_flags(cfg)
    checks.check_encoder(cfg.encoder)
    if float(cfg.llm_reward) != 0.0:
        checks.check_reward_dirs(reward_dirs(cfg))
        checks.check_rewards_load(cfg)
    return checks.check_meta_policy(meta_policy_file(cfg))


def warm_reward_table(cfg: Any) -> int:
    """Before the workers start: score the reward models' dataset messages into the shared reward table
    (:mod:`maestromotif.reward.table`; only inputs not scored by an earlier run). Returns how many."""
    from maestromotif.reward.table import table_root

    root = table_root(getattr(cfg, "reward_table_dir", ""), cfg.train_dir)
    if float(cfg.llm_reward) == 0.0 or not root:
        return 0
    import torch

    from maestromotif.reward import SkillRewardSet
    from maestromotif.reward.table import RewardTable, dataset_messages, table_dir, warm_table
    from maestromotif.rl.config import eps_quantiles

    dirs = reward_dirs(cfg)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the workers score: identical values
    try:
        table = RewardTable(table_dir(root, dirs), tag="warmup")
        n = warm_table(table, SkillRewardSet.load(dirs, eps_quantiles(cfg), float(cfg.beta_count_exponent)),
                       dataset_messages(dirs))
        table.close()
    finally:
        torch.set_num_threads(threads)
    return n


def train(cfg: Any) -> int:
    """Run (or resume) training; returns sample-factory's status code (0 = success)."""
    from sample_factory.algo.utils.misc import ExperimentStatus
    from sample_factory.cfg.arguments import maybe_load_from_checkpoint
    from sample_factory.train import make_runner
    from sample_factory.utils.utils import experiment_dir

    from maestromotif.rl.observers import MetricsCSV, SaveEverySteps, TrainForSeconds
    from maestromotif.utils.config import save_config

    # Validate what will run: on resume, the saved config + this command line's overrides.
    # (make_runner does the same merge again itself, from the original namespace.)
    saved = Path(experiment_dir(cfg=cfg, mkdir=False)) / "config.json"
    effective = maybe_load_from_checkpoint(cfg) if cfg.restart_behavior == "resume" and saved.is_file() else cfg
    probe = validate(effective)
    warm_reward_table(effective)
    register_components()
    if cfg.serial_mode:  # everything in this process: one torch thread leaves the cores to the envs
        import torch

        torch.set_num_threads(1)
    cfg, runner = make_runner(cfg)
    runner.register_observer(TrainForSeconds(cfg.train_for_seconds))
    if int(cfg.save_every_steps) > 0:
        runner.register_observer(SaveEverySteps(cfg.save_every_steps))
    runner.register_observer(MetricsCSV())
    exp = Path(experiment_dir(cfg=cfg))
    save_config(exp / "maestromotif_config.json", maestro_cfg(cfg), meta_policy=str(meta_policy_file(cfg)),
                meta_policy_probe=probe, sample_factory_config="config.json")
    status = runner.init()
    if status == ExperimentStatus.SUCCESS:
        status = runner.run()
    return int(status)


def main(argv: list[str] | None = None) -> int:
    """Train (``--evaluation True`` is the entry point's: ``scripts.main`` sends it to the evaluation)."""
    cfg = parse_cfg(argv)
    if cfg.evaluation:
        raise UserError("--evaluation True does not train: the evaluation is run by the entry point",
                        fix="run python -m scripts.main ... --evaluation True --eval_target <task>")
    return train(cfg)
