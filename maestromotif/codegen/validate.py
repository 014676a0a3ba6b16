"""Validate a policy over skills before it may be written to ``rl_baseline/meta_policies/``.

A candidate passes when (1) the AST screen accepts it, (2) it imports in a sandboxed subprocess,
(3) ``interface_problems()`` finds nothing (methods, signatures, ``REQUIRED_ATTRIBUTES`` known), and
(4) it survives thousands of random calls of the unit-test simulation (``_fuzz.py``) within the
time limit, returning only valid skill names, booleans and precondition pairs, and (5) standing next
to a shopkeeper and/or an altar it does not stop the running skill more than ``_fuzz.SWITCH_LIMIT``
times per 100 steps.

``python -m scripts.generate_code --validate_only --task all`` runs this on every shipped file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from maestromotif.codegen.sandbox import Limits, run_python
from maestromotif.codegen.screen import screen_code
from maestromotif.workspace import CHECKOUT

REPO_ROOT = CHECKOUT  # the sandbox imports maestromotif from here
_HARNESS = Path(__file__).with_name("_fuzz.py")
_PRELOAD = ("signal", "maestromotif.skills.interface", "maestromotif.skills.table")


@dataclass
class ValidationConfig:
    episodes: int = 150  # turn-level episodes (paper unit-test style)
    turns: int = 30
    step_episodes: int = 30  # step-level episodes (options-framework style)
    steps: int = 300
    scenario_steps: int = 300  # real steps next to a shop / an altar (switching check)
    seed: int = 0
    timeout_s: float = 60.0


@dataclass
class ValidationReport:
    ok: bool
    problems: list[str]
    stats: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    isolation: str = ""

    def summary(self) -> str:
        if not self.ok:
            return "INVALID: " + "; ".join(self.problems)
        calls = self.stats.get("calls", {})
        return (f"valid: {sum(calls.values())} calls "
                f"({', '.join(f'{k} {v}' for k, v in sorted(calls.items()))}) in {self.seconds:.1f} s, "
                f"slowest call {self.stats.get('max_call_ms', 0):.2f} ms")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_source(code: str, cfg: ValidationConfig | None = None) -> ValidationReport:
    cfg = cfg or ValidationConfig()
    refused = screen_code(code)
    if refused:
        return ValidationReport(False, [f"refused by the screen: {r}" for r in refused])
    opts = {k: getattr(cfg, k) for k in ("episodes", "turns", "step_episodes", "steps", "scenario_steps", "seed")}
    args = ["execution.py", "report.json", json.dumps(opts)]
    run = run_python("harness.py", files={"harness.py": _HARNESS.read_text(), "execution.py": code}, args=args,
                     limits=Limits(timeout_s=cfg.timeout_s), sys_path=[REPO_ROOT], preload=_PRELOAD,
                     collect=["report.json"])
    if "report.json" not in run.files:
        why = run.reason() or "the validation harness wrote no report"
        if run.status == "timeout":
            why = f"the random-call simulation did not finish within {cfg.timeout_s:.0f} s (too slow or an endless loop)"
        return ValidationReport(False, [why], seconds=run.seconds, isolation=run.isolation)
    report = json.loads(run.files["report.json"])
    problems = [] if report["ok"] else [report["problem"]]
    stats = {k: report[k] for k in ("calls", "chosen", "preconditions", "max_call_ms") if k in report}
    return ValidationReport(bool(report["ok"]), problems, stats, float(report.get("seconds", run.seconds)),
                            run.isolation)


def validate_file(path: str | Path, cfg: ValidationConfig | None = None) -> ValidationReport:
    path = Path(path)
    if not path.is_file():
        return ValidationReport(False, [f"{path} does not exist"])
    return validate_source(path.read_text(encoding="utf-8"), cfg)


_SUCCESS_DRIVER = """
import contextlib, io, json, random, sys
source = open("execution.py").read() + "\\n\\n" + open("unit_test.py").read()
code = compile(source, "execution.py", "exec")
message, runs = sys.argv[1], int(sys.argv[2])
done = 0
for seed in range(runs):
    random.seed(seed)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {"__name__": "__main__"})
    done += message in out.getvalue()
json.dump({"done": done, "runs": runs}, open("result.json", "w"))
"""


def unit_test_success(policy: str | Path, unit_test: str | Path, message: str, runs: int = 100,
                      timeout_s: float = 60.0) -> tuple[int, int]:
    """How many of ``runs`` seeded runs of a task's unit test (``code_generation/<task>/unit_test.py``)
    with the policy file print ``message`` (the task done). Runs in the sandbox (the policy is code)."""
    code = Path(policy).read_text(encoding="utf-8")
    refused = screen_code(code)
    if refused:
        raise ValueError(f"{policy}: refused by the screen: {'; '.join(refused)}")
    run = run_python("driver.py", files={"driver.py": _SUCCESS_DRIVER, "execution.py": code,
                                         "unit_test.py": Path(unit_test).read_text(encoding="utf-8")},
                     args=[message, str(runs)], limits=Limits(timeout_s=timeout_s), collect=["result.json"])
    if "result.json" not in run.files:
        raise RuntimeError(f"{policy}: the unit test did not run: {run.reason()}")
    r = json.loads(run.files["result.json"])
    return int(r["done"]), int(r["runs"])
