"""Flags of ``scripts/main.py``: sample-factory's own flags plus the MaestroMotif ones (:data:`FLAGS`).

The original command line works unchanged (``--algo APPO --num_workers 24 ... --reward_dir "['a', ...]"
--extrinsic_reward 0.0 --llm_reward 0.1``); ``4_000_000_000``-style numbers parse, and both
``--a-b`` and ``--a_b`` spellings are accepted. Defaults that differ from sample-factory's are in
:data:`SF_DEFAULTS` (sized for a small CPU machine; the paper's scale is set by its own flags).

Path defaults follow the workspace (:mod:`maestromotif.workspace`; ``--workspace DIR``): ``--train_dir``,
``--reward_dir`` and ``--meta_policy_dir`` left at their defaults become ``<workspace>/...`` paths after
parsing; paths given on the command line are read relative to the current directory. Relative paths
recorded in an experiment's config (a run started in a workspace root) are read by
:func:`reward_dirs` / :func:`meta_policy_file` through :func:`maestromotif.workspace.resolve_recorded`.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maestromotif.skills.interface import meta_policy_path
from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.cli import InWorkspace, parse_bool
from maestromotif.utils.errors import UserError
from maestromotif.workspace import resolve_recorded, workspace

ENV_NAME = "nle_maestro"
# the shipped reward models, one experiment per skill under <workspace>/train_dir/skill_rewards/
DEFAULT_REWARD_EXPERIMENTS = tuple(f"gemma270m_{s}_classify" for s in SKILL_NAMES)


def default_reward_dirs(root: str | Path | None = None) -> list[str]:
    """``--reward_dir``'s default: the shipped reward models of the workspace (``root`` = ``--workspace``)."""
    return [str(workspace(root).skill_rewards / e) for e in DEFAULT_REWARD_EXPERIMENTS]


class _RewardDirsDefault(InWorkspace):
    """``--reward_dir``'s parser default: a list literal of the five workspace directories, once resolved."""

    def __init__(self) -> None:
        super().__init__("skill_rewards")

    def resolve(self, root: str | None) -> str:
        return repr(default_reward_dirs(root))

    def __str__(self) -> str:
        return f"['{super().__str__()}/gemma270m_<skill>_classify', ...] for the five skills"


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
    metavar: str | None = None


FLAGS: tuple[Flag, ...] = (
    Flag("workspace", str, "", "workspace root that the path defaults marked <workspace> live in ('' = "
         "$MAESTROMOTIF_WORKSPACE, else the checkout holding the package and its shipped artefacts; "
         "see docs/files.md)", metavar="DIR"),
    Flag("reward_dir", str, _RewardDirsDefault(),
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
    Flag("meta_policy_dir", str, InWorkspace("meta_policies"), "root of the generated policies over skills"),
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
    Flag("evaluation", str2bool, False, "evaluate a trained skill policy instead of training: scripts.main "
         "hands the config to maestromotif.eval.main_eval.evaluate_from_main_cfg"),
    Flag("eval_target", str, "none", "evaluation task (with --evaluation True), e.g. gnomish, delphi, "
         "minetown, transactions, price, buc, goldenexit, levelupsell, discoveryhunger"),
)

# sample-factory defaults we change (CPU-sized; every one can be overridden on the command line).
SF_DEFAULTS: dict[str, Any] = {
    "env": ENV_NAME,
    "train_dir": InWorkspace("skill_policy"),  # <workspace>/train_dir/skill_policy once parsed
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
        group.add_argument(f"--{f.name}", type=f.type, default=f.default, help=f.help, metavar=f.metavar)
    parser.set_defaults(**SF_DEFAULTS, device=_default_device())


def _default_device() -> str:
    """sample-factory defaults to --device gpu and crashes without one: use the GPU only if present."""
    import torch

    return "gpu" if torch.cuda.is_available() else "cpu"


def _argv(argv: Sequence[str] | None) -> list[str]:
    import sys

    return normalise_argv(sys.argv[1:] if argv is None else argv)


def wants_evaluation(argv: Sequence[str] | None = None) -> bool:
    """Whether the command line asks for ``--evaluation True`` (read before the full parse, which
    depends on it)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--evaluation", type=str2bool, default=False)
    return pre.parse_known_args(_argv(argv))[0].evaluation


def parse_cfg(argv: Sequence[str] | None = None, evaluation: bool | None = None,
              add_args: Callable[[argparse.ArgumentParser], None] | None = None):
    """Parse the full configuration (sample-factory + MaestroMotif flags).

    ``add_args(parser)`` adds a caller's own flags: ``scripts.main`` passes the evaluation's
    (``maestromotif.eval.main_eval.add_eval_args``) with ``--evaluation True``, so this layer does not
    import the evaluation (layers point one way: eval -> rl, never back)."""
    from sample_factory.cfg.arguments import parse_full_cfg, parse_sf_args

    argv = _argv(argv)
    if not any(a == "--env" or a.startswith("--env=") for a in argv):
        argv = ["--env", ENV_NAME] + argv  # sample-factory makes --env required
    if evaluation is None:
        evaluation = wants_evaluation(argv)
    # sample-factory's first pass only needs the env name; giving it our flags would make
    # argparse treat e.g. --encoder as an ambiguous prefix of --encoder_mlp_layers.
    env_only = argv[argv.index("--env"):argv.index("--env") + 2] if "--env" in argv else \
        [a for a in argv if a.startswith("--env=")]
    parser, _ = parse_sf_args(env_only, evaluation=evaluation)
    parser.allow_abbrev = False  # a typo must not silently select another flag
    add_maestro_args(parser)
    if add_args is not None:
        add_args(parser)
    return resolve_defaults(parse_full_cfg(parser, argv))


def resolve_defaults(cfg: Any) -> Any:
    """Path flags left at their workspace defaults -> ``<workspace>/...`` strings (``cfg.workspace`` =
    ``--workspace``); what the user gave stays as given. ``--train_dir`` also overrides a resumed
    experiment's saved one: the experiment lives where it was found, whatever directory (perhaps a
    relative one) its first run recorded."""
    for name in list(vars(cfg)):
        setattr(cfg, name, _flag(cfg, name))
    if isinstance(getattr(cfg, "cli_args", None), dict):
        cfg.cli_args["train_dir"] = cfg.train_dir
    return cfg


def _flag(cfg: Any, name: str) -> Any:
    """``cfg.<name>``; a workspace default still unresolved (a config built without :func:`parse_cfg`) is
    resolved against ``cfg.workspace``."""
    value = getattr(cfg, name)
    return value.resolve(getattr(cfg, "workspace", None) or None) if isinstance(value, InWorkspace) else value


def reward_dirs(cfg: Any, bases: tuple[str | Path, ...] = ()) -> list[str]:
    """``--reward_dir`` as a list of paths read from any directory (:func:`_parse_reward_dirs`, then
    :func:`maestromotif.workspace.resolve_recorded`; ``bases``: more roots to try, e.g. above a checkpoint)."""
    root = getattr(cfg, "workspace", None)
    return [str(resolve_recorded(d, root, bases)) for d in _parse_reward_dirs(cfg)]


def _parse_reward_dirs(cfg: Any) -> list[str]:
    """``--reward_dir`` as written: a Python list literal, a skill -> dir mapping, or comma-separated."""
    raw = _flag(cfg, "reward_dir")
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


def meta_policy_file(cfg: Any, bases: tuple[str | Path, ...] = ()) -> Path:
    """The policy over skills' ``execution.py``: ``--meta_policy``, else ``<meta_policy_dir>/<task>/seed<N>/``;
    read from any directory (:func:`maestromotif.workspace.resolve_recorded`)."""
    root = getattr(cfg, "workspace", None)
    if getattr(cfg, "meta_policy", ""):
        return resolve_recorded(cfg.meta_policy, root, bases)
    # the root folder is what was given or recorded: read it, then go down to the task's seed
    return meta_policy_path(resolve_recorded(_flag(cfg, "meta_policy_dir"), root, bases), cfg.meta_policy_task, int(cfg.code_seed))


def maestro_cfg(cfg: Any) -> dict[str, Any]:
    """The MaestroMotif part of a config (for the config record saved beside the run)."""
    out = {f.name: getattr(cfg, f.name, f.default) for f in FLAGS}
    return {k: v.resolve(out.get("workspace")) if isinstance(v, InWorkspace) else v for k, v in out.items()}
