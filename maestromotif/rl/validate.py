"""Checks run before any sample-factory process starts, so bad inputs fail fast with a clear message.

- ``--encoder`` must name an entry of :data:`maestromotif.rl.encoders.ENCODERS`;
- with ``--llm_reward`` != 0, ``--reward_dir`` must list five existing reward-model directories
  (one per skill, in skill order) that :mod:`maestromotif.reward` can load;
- the policy over skills (``execution.py``) must exist, import, follow the interface and answer a
  few calls with valid skill names. LLM-written code is untrusted, so this probe runs in a
  subprocess with a timeout (``python -m maestromotif.rl.validate <execution.py>``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from maestromotif.skills.table import SKILL_NAMES
from maestromotif.utils.errors import UserError

PROBE_TIMEOUT_S = 60


def check_encoder(name: str) -> None:
    from maestromotif.rl.encoders import ENCODERS

    if name not in ENCODERS:
        raise UserError(f"unknown encoder '{name}'", expected=f"one of {', '.join(sorted(ENCODERS))}",
                        fix="pass --encoder fast or --encoder cdgpt5")


# sample-factory flags that hang or spin instead of failing when out of range: (name, minimum, why)
POSITIVE_FLAGS = (
    ("num_workers", 1, "rollout worker processes; 0 or fewer trains at 0 FPS forever"),
    ("num_envs_per_worker", 1, "games per worker"),
    ("batch_size", 1, "samples per learner step"),
)


def check_run_flags(cfg: Any) -> None:
    """Refuse values with which sample-factory would run forever without a step."""
    for name, low, why in POSITIVE_FLAGS:
        val = getattr(cfg, name, None)
        if val is not None and int(val) < low:
            raise UserError(f"--{name} {val} is out of range ({why})", expected=f"an integer >= {low}",
                            fix=f"pass --{name} {max(low, 2) if name == 'num_workers' else low} or more")


def check_reward_dirs(dirs: list[str]) -> None:
    if len(dirs) != len(SKILL_NAMES):
        raise UserError(f"--reward_dir lists {len(dirs)} directories",
                        expected=f"{len(SKILL_NAMES)}, one per skill in this order: {', '.join(SKILL_NAMES)}",
                        fix="pass --reward_dir \"['<discoverer dir>', ..., '<merchant dir>']\"")
    for skill, d in zip(SKILL_NAMES, dirs):
        if not Path(d).is_dir():
            raise UserError(f"reward model directory of skill '{skill}' not found", path=d,
                            expected="a directory written by `python -m scripts.train_reward`",
                            fix="train it first, fix --reward_dir, or pass --llm_reward 0 to train without "
                                "intrinsic rewards")
    recorded = [reward_dir_skill(d) for d in dirs]
    wrong = [(i, want, got) for i, (want, got) in enumerate(zip(SKILL_NAMES, recorded)) if got and got != want]
    if wrong:
        lines = "; ".join(f"position {i} is for '{want}' but {dirs[i]} was trained for '{got}'" for i, want, got in wrong)
        mapping = "{" + ", ".join(f"'{s}': '<dir>'" for s in SKILL_NAMES) + "}"
        raise UserError(f"--reward_dir is in the wrong order: {lines}",
                        expected=f"one directory per skill in this order: {', '.join(SKILL_NAMES)}",
                        fix=f"reorder the list, or give a mapping: --reward_dir \"{mapping}\"")


def reward_dir_skill(d: str | Path) -> str | None:
    """The skill a reward directory was trained for, as recorded by scripts.train_reward (None: unknown)."""
    from maestromotif.reward.config import RewardConfig

    for name, get in (("checkpoint.json", lambda r: r.get("skill")),
                      ("config.json", lambda r: RewardConfig.from_dict(r.get("config", {})).skill)):
        p = Path(d) / name
        if p.is_file():
            try:
                skill = get(json.loads(p.read_text()))
            except (ValueError, UserError, TypeError, AttributeError):
                continue
            if skill:
                return str(skill)
    return None


def check_rewards_load(cfg: Any) -> None:
    """Load the reward set once in this process (it raises UserError on a bad directory)."""
    from maestromotif.rl.env import SkillEnvConfig, load_skill_rewards

    load_skill_rewards(SkillEnvConfig.from_cfg(cfg))


def check_meta_policy(path: str | Path, timeout: float = PROBE_TIMEOUT_S) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise UserError("policy over skills not found", path=path,
                        expected="a Python file defining class NetHackPlayer (rl_baseline/meta_policies/"
                                 "<task>/seed<N>/execution.py)",
                        fix="generate it with `python -m scripts.generate_code`, or fix --code_seed / "
                            "--meta_policy_task / --meta_policy_dir / --meta_policy")
    from maestromotif.skills.interface import screen_policy_file

    screen_policy_file(path)  # static check here: a refused file never reaches the probe
    try:
        proc = subprocess.run([sys.executable, "-m", "maestromotif.rl.validate", str(path)], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise UserError(f"policy over skills did not answer within {timeout:.0f} s (infinite loop?)", path=path,
                        fix="regenerate or fix the policy file") from None
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise UserError(f"policy over skills is not usable: {tail}", path=path,
                        expected="see maestromotif/skills/interface.py", fix="regenerate or fix the policy file")
    return json.loads(lines[-1])


def _probe(path: str) -> dict[str, Any]:
    """Instantiate the policy and call each method once with typical values (runs in the subprocess)."""
    import numpy as np

    from maestromotif.skills.interface import ATTRIBUTES, COLOR_MAP, UNKNOWN_BRANCH, load_policy_class

    cls = load_policy_class(path)
    player = cls(-1, UNKNOWN_BRANCH)
    for name in getattr(cls, "REQUIRED_ATTRIBUTES", ()):
        spec = ATTRIBUTES[name]
        setattr(player, name, set(spec.default) if spec.type is set else spec.default)
    player.set_initial_values()
    first = getattr(player, "skill", None)
    if first not in SKILL_NAMES:
        raise ValueError(f"set_initial_values() left self.skill = {first!r}, expected one of {SKILL_NAMES}")
    chars = np.full((7, 7), ord("."), dtype=np.uint8)
    colors = np.zeros((7, 7), dtype=np.int8)
    pre = player.skill_precondition(chars, colors, 0, COLOR_MAP)
    if len(tuple(pre)) != 2:
        raise ValueError(f"skill_precondition returned {pre!r}, expected (worshipper, merchant)")
    picks = []
    for skill in SKILL_NAMES:
        player.skill_termination(skill, 1000, 2, 1, [False, False])
        nxt = player.perform_task(skill, 2, 0, False, False)
        if nxt not in SKILL_NAMES:
            raise ValueError(f"perform_task('{skill}', ...) returned {nxt!r}, expected one of {SKILL_NAMES}")
        picks.append(nxt)
    return {"ok": True, "first_skill": first, "next_skills": picks,
            "required_attributes": list(getattr(cls, "REQUIRED_ATTRIBUTES", ()))}


if __name__ == "__main__":
    try:
        print(json.dumps(_probe(sys.argv[1])))
    except Exception as e:  # reported to the parent as the last stderr line
        print(f"{type(e).__name__}: {e}".replace("\n", " "), file=sys.stderr)
        sys.exit(1)
