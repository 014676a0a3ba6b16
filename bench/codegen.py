"""Code-generation figures, measured in one run: ``python -m bench.codegen [--runs 200]``.

1. The loop's own cost (LLM time excluded: the scripted backend replays the recorded answers):
   seconds per task, sandbox start-up, one validation.
2. How often each shipped task policy completes its task's unit-test world (seeded runs), next to
   the training-time ``exploration`` policy on the same worlds: what the task-specific code adds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from maestromotif.codegen.loop import CodegenConfig, generate
from maestromotif.codegen.sandbox import isolation, run_python
from maestromotif.codegen.tasks import TASKS
from maestromotif.codegen.validate import unit_test_success, validate_file
from maestromotif.llm.scripted import ScriptedBackend
from maestromotif.skills.interface import meta_policy_path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "rl_baseline/meta_policies"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200, help="seeded unit-test runs per task and policy")
    ap.add_argument("--repeats", type=int, default=5, help="repeats of the timing measurements (medians)")
    a = ap.parse_args(argv)
    print(f"isolation: {isolation()}")
    start = [run_python("e.py", files={"e.py": "pass"}).seconds for _ in range(a.repeats)]
    print(f"sandbox start-up (empty program): median {statistics.median(start):.2f} s")
    val = [validate_file(meta_policy_path(SHIPPED, "levelupsell", 42)) for _ in range(a.repeats)]
    print(f"validation of one policy: median {statistics.median(v.seconds for v in val):.2f} s for "
          f"{sum(val[0].stats['calls'].values())} calls")
    with tempfile.TemporaryDirectory() as tmp:
        for task in sorted(TASKS, key=lambda n: n != "exploration"):
            answers = json.loads((ROOT / "code_generation" / task / "recorded_answers.json").read_text())
            cfg = CodegenConfig(task=task, backend="scripted", out=f"{tmp}/out", logdir=f"{tmp}/logs", restart=True)
            t0 = time.perf_counter()
            r = generate(cfg, ScriptedBackend(answers=answers))
            print(f"loop without LLM time, {task}: {time.perf_counter() - t0:.1f} s "
                  f"({len(r.rounds)} stage(s), {r.llm_calls} LLM calls)")
    print(f"\nunit-test worlds completed ({a.runs} seeded runs each):")
    print("| task | shipped task policy | exploration policy | ratio |")
    print("|---|---|---|---|")
    for task, spec in TASKS.items():
        if not spec.success_message:
            continue
        test = ROOT / "code_generation" / task / "unit_test.py"
        own, _ = unit_test_success(meta_policy_path(SHIPPED, task, 42), test, spec.success_message, a.runs)
        base, _ = unit_test_success(meta_policy_path(SHIPPED, "exploration", 42), test, spec.success_message, a.runs)
        ratio = f"{own / base:.2f}" if base else "inf"
        print(f"| {task} | {own / a.runs:.0%} | {base / a.runs:.0%} | {ratio} |")


if __name__ == "__main__":
    main()
