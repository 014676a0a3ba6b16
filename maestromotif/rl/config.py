"""Flags of ``scripts/main.py``: sample-factory's own flags plus the MaestroMotif ones (:data:`FLAGS`).

The original command line works unchanged (``--algo APPO --num_workers 24 ... --reward_dir "['a', ...]"
--extrinsic_reward 0.0 --llm_reward 0.1``); ``4_000_000_000``-style numbers parse, and both
``--a-b`` and ``--a_b`` spellings are accepted. Defaults that differ from sample-factory's are in
:data:`SF_DEFAULTS` (sized for a small CPU machine; the paper's scale is set by its own flags).
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maestromotif.skills.interface import meta_policy_path
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.cli import parse_bool
from maestromotif.utils.errors import UserError

ENV_NAME = "nle_maestro"
DEFAULT_REWARD_DIRS = tuple(f"train_dir/skill_rewards/gemma270m_{s}_default" for s in SKILL_NAMES)


def str2bool(v: Any) -> bool:
    """The one boolean parser of every command (maestromotif.utils.cli.parse_bool)."""
    return parse_bool(v)


def number(kind: type):
    """``int``/``float`` parser that accepts ``4_000_000_000`` and ``1e9`` (ints given as floats)."""
    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            if kind is int:
                f = float(text)
                if f.is_integer():
                    return int(f)
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    parse.__name__ = kind.__name__
    return parse


@dataclass(frozen=True)
class Flag:
    name: str
    type: Any
    default: Any
    help: str


FLAGS: tuple[Flag, ...] = (
    Flag("reward_dir", str, repr(list(DEFAULT_REWARD_DIRS)),
         "the five skills' reward-model directories, in skill order (discoverer, descender, ascender, "
         "worshipper, merchant), as a Python list literal \"['dir1', ...]\" or comma-separated, or a mapping "
         "\"{'discoverer': 'dir1', ...}\"; each directory's recorded skill is checked against its position"),
    Flag("llm_reward", number(float), 0.1, "coefficient of the running skill's intrinsic reward (paper: 0.1); "
         "0 trains without reward models"),
    Flag("extrinsic_reward", number(float), 0.0, "coefficient of the in-game score delta (paper: 0 for skills)"),
    Flag("eps_threshold_quantile", str, "[0.95, 0.85, 0.85, 0.85, 0.85]",
         "intrinsic reward is zeroed below this quantile of the reward model's dataset rewards: one value "
         "(e.g. 0.85) or one per skill as a list literal (default: the original's); 0 disables the threshold"),
    Flag("beta_count_exponent", number(float), 3.0,
         "intrinsic reward is divided by N(message)^beta, N = times this episode showed the message (paper: 3)"),
    Flag("reward_table_dir", str, "", "root of the reward table shared by the workers and by later runs with the "
         "same reward models (maestromotif/reward/table.py; '' = <train_dir>/reward_tables, 'none' = off)"),
    Flag("encoder", str, "fast", "policy encoder: 'fast' (character-embedding crop) or 'cdgpt5' (pixel crop, "
         "as the paper); see README 'Skill training' for their measured speeds"),
    Flag("code_seed", number(int), 42, "seed directory of the policy over skills: "
         "<meta_policy_dir>/<meta_policy_task>/seed<code_seed>/execution.py"),
    Flag("meta_policy_task", str, "exploration", "task directory of the training policy over skills"),
    Flag("meta_policy_dir", str, "rl_baseline/meta_policies", "root of the generated policies over skills"),
    Flag("meta_policy", str, "", "explicit path of an execution.py (overrides the three flags above)"),
    Flag("max_episode_steps", number(int), 10_000, "agent steps after which an episode is truncated "
         "(the original's default)"),
    # The original's reward and game semantics (docs/fidelity.md); the other value is our former rule.
    Flag("msg_max_keys", number(int), 20, "N(message) keeps at most this many messages, least recently seen "
         "dropped first (the original's LRU); <= 0: unbounded"),
    Flag("reward_obs", str, "before", "which observation the intrinsic reward scores: 'before' (the one the "
         "action was chosen from, with its skill - the original learner) or 'after' (the one it led to)"),
    Flag("delta_reference", str, "skill_start", "dungeon-level delta the reward model sees: 'skill_start' "
         "(against the depth when the running skill started, at most --diff_h steps back - the original) "
         "or 'step' (one step)"),
    Flag("diff_h", number(int), 1000, "horizon in steps of the 'skill_start' delta (the original's --diff_h)"),
    Flag("skill_time_unit", str, "turns", "unit of skill_time passed to skill_termination: 'turns' (game "
         "turns, the original's; one wait = 25 turns) or 'steps' (agent steps)"),
    Flag("keep_messages", str, "original", "message the observation keeps across a --More--: 'original' "
         "(only stairs / frozen messages, as the original) or 'last' (the last one shown if the screen is blank)"),
    Flag("item_prompt", str, "agent", "eat/quaff item prompt: 'agent' (the next action answers, y = first "
         "item, else cancel - the original) or 'auto' (first item at once)"),
    Flag("save_every_steps", number(int), 0, "also checkpoint every this many env steps (0: off); "
         "time-based checkpoints (--save_every_sec) continue, --keep_checkpoints applies to both"),
    Flag("evaluation", str2bool, False, "evaluate a trained skill policy instead of training: hands the "
         "config to maestromotif.eval.main_eval.evaluate_from_main_cfg"),
    Flag("eval_target", str, "none", "evaluation task (with --evaluation True), e.g. gnomish, delphi, "
         "minetown, transactions, price, buc, goldenexit, levelupsell, discoveryhunger"),
)

# sample-factory defaults we change (CPU-sized; every one can be overridden on the command line).
SF_DEFAULTS: dict[str, Any] = {
    "env": ENV_NAME,
    "train_dir": "train_dir/skill_policy",
    "experiment": "default",
    "num_workers": 2,
    "num_envs_per_worker": 16,
    "batch_size": 1024,
    "rnn_size": 128,
    "save_every_sec": 300,
    # Our encoders embed byte values of "obs"/"message": running mean/std normalisation would destroy them
    # (blstats are normalised by maestromotif.rl.obs already). With --normalize_input True only blstats is.
    "normalize_input": False,
    "normalize_input_keys": ["blstats"],
    # The original recipe (sample-factory 1 as vendored by MaestroMotif): V-trace (its learner has no
    # GAE path), no return normalisation (sample-factory 2 forbids it with V-trace), rewards clipped at
    # 10. The intrinsic reward bypasses --reward_scale / --reward_clip (maestromotif.rl.env).
    "with_vtrace": True,
    "normalize_returns": False,
    "reward_clip": 10.0,
}


def normalise_argv(argv: Sequence[str]) -> list[str]:
    """``--a-b`` -> ``--a_b`` (flag names only), so both spellings work."""
    out = []
    for tok in argv:
        if tok.startswith("--") and len(tok) > 2:
            name, eq, val = tok[2:].partition("=")
            tok = "--" + name.replace("-", "_") + eq + val
        out.append(tok)
    return out


def add_maestro_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("MaestroMotif skill training")
    for f in FLAGS:
        group.add_argument(f"--{f.name}", type=f.type, default=f.default, help=f.help)
    parser.set_defaults(**SF_DEFAULTS, device=_default_device())


def _default_device() -> str:
    """sample-factory defaults to --device gpu and crashes without one: use the GPU only if present."""
    import torch

    return "gpu" if torch.cuda.is_available() else "cpu"


def parse_cfg(argv: Sequence[str] | None = None, evaluation: bool | None = None):
    """Parse the full configuration (sample-factory + MaestroMotif flags)."""
    import sys

    from sample_factory.cfg.arguments import parse_full_cfg, parse_sf_args

    argv = normalise_argv(sys.argv[1:] if argv is None else argv)
    if not any(a == "--env" or a.startswith("--env=") for a in argv):
        argv = ["--env", ENV_NAME] + argv  # sample-factory makes --env required
    if evaluation is None:
        pre = argparse.ArgumentParser(add_help=False)
        pre.add_argument("--evaluation", type=str2bool, default=False)
        evaluation = pre.parse_known_args(argv)[0].evaluation
    # sample-factory's first pass only needs the env name; giving it our flags would make
    # argparse treat e.g. --encoder as an ambiguous prefix of --encoder_mlp_layers.
    env_only = argv[argv.index("--env"):argv.index("--env") + 2] if "--env" in argv else \
        [a for a in argv if a.startswith("--env=")]
    parser, _ = parse_sf_args(env_only, evaluation=evaluation)
    parser.allow_abbrev = False  # a typo must not silently select another flag
    add_maestro_args(parser)
    if evaluation:
        _maybe_add_eval_args(parser)
    return parse_full_cfg(parser, argv)


def _maybe_add_eval_args(parser: argparse.ArgumentParser) -> None:
    """Let the evaluation module add its own flags (if it defines ``add_eval_args(parser)``)."""
    try:
        from maestromotif.eval import main_eval
    except ImportError:
        return
    add = getattr(main_eval, "add_eval_args", None)
    if callable(add):
        add(parser)


def reward_dirs(cfg: Any) -> list[str]:
    """``--reward_dir`` as a list (Python list literal, or comma-separated)."""
    raw = cfg.reward_dir
    if isinstance(raw, list | tuple):
        return [str(x) for x in raw]
    text = str(raw).strip()
    if text.startswith("{"):  # a mapping skill -> dir: the order cannot be wrong
        try:
            val = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            val = None
        if not isinstance(val, dict) or sorted(map(str, val)) != sorted(SKILL_NAMES):
            raise UserError(f"--reward_dir {text!r} is not a mapping of the five skills",
                            expected="\"{'discoverer': 'dir', 'descender': 'dir', ...}\" with keys "
                                     + ", ".join(SKILL_NAMES))
        return [str(val[s]).strip() for s in SKILL_NAMES]
    if text.startswith("["):
        try:
            val = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise UserError(f"--reward_dir {text!r} is not a valid list literal",
                            expected="\"['dir_discoverer', 'dir_descender', ...]\" or dir1,dir2,...") from None
        return [str(x).strip() for x in val]
    return [p.strip() for p in text.split(",") if p.strip()]


def eps_quantiles(cfg: Any) -> float | list[float]:
    """``--eps_threshold_quantile``: one float, or a list of five (one per skill)."""
    raw = cfg.eps_threshold_quantile
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, list | tuple):
        return [float(x) for x in raw]
    text = str(raw).strip()
    try:
        val = ast.literal_eval(text)
        if isinstance(val, int | float):
            return float(val)
        vals = [float(x) for x in val]
    except (ValueError, SyntaxError, TypeError):
        raise UserError(f"--eps_threshold_quantile {text!r} is not a number or a list of numbers",
                        expected="e.g. 0.85 or \"[0.95, 0.85, 0.85, 0.85, 0.85]\"") from None
    if len(vals) != len(SKILL_NAMES):
        raise UserError(f"--eps_threshold_quantile lists {len(vals)} values",
                        expected=f"one value, or {len(SKILL_NAMES)} (one per skill, in skill order)")
    return vals


def meta_policy_file(cfg: Any) -> Path:
    if getattr(cfg, "meta_policy", ""):
        return Path(cfg.meta_policy)
    return meta_policy_path(cfg.meta_policy_dir, cfg.meta_policy_task, int(cfg.code_seed))


def maestro_cfg(cfg: Any) -> dict[str, Any]:
    """The MaestroMotif part of a config (for the config record saved beside the run)."""
    return {f.name: getattr(cfg, f.name, f.default) for f in FLAGS}
