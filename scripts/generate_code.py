"""Generate (or validate) policies over skills with an LLM: ``python -m scripts.generate_code --task gnomish``.

Writes ``<out>/<task>/seed<N>/execution.py`` only after the code passed its unit test, the LLM's own
check and the validation; the conversation goes to ``<logdir>/<task>/seed<N>/log.jsonl``.
See README "Code generation".
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from maestromotif.codegen.loop import CodegenConfig, GenerationFailed, generate
from maestromotif.codegen.tasks import TASKS, task_names
from maestromotif.codegen.validate import ValidationConfig, validate_file
from maestromotif.llm import make_backend
from maestromotif.skills.interface import meta_policy_path
from maestromotif.utils.errors import UserError, run_cli


def _backend_arg(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got '{text}'")
    key, value = text.split("=", 1)
    for cast in (int, float):
        try:
            return key, cast(value)
        except ValueError:
            pass
    return key, {"true": True, "false": False}.get(value.lower(), value)


def parser() -> argparse.ArgumentParser:
    d = CodegenConfig()
    p = argparse.ArgumentParser(prog="python -m scripts.generate_code", description=__doc__,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)

    def add(*names: str, **kw: object) -> None:  # accept --a_b and --a-b, as the original's flags
        spellings = list(names) + [n.replace("_", "-") for n in names if "_" in n]
        p.add_argument(*spellings, **kw)

    add("--task", default="exploration",
        help=f"task to generate: one of {', '.join(TASKS)}, a comma-separated list, or 'all' "
             "(exploration first: the nine tasks build on it)")
    add("--seed", "--code_seed", dest="seed", type=int, default=d.seed,
        help="code seed: the output folder seed<N> and the LLM sampling seed")
    add("--backend", default=d.backend,
        help="LLM backend name from maestromotif.llm (e.g. llamacpp, transformers, openai, hf_inference, vllm; "
             "'scripted' replays a JSON list of recorded answers given as --model)")
    add("--model", default=None,
        help="model name/path for the backend; '{task}' in it is replaced by the task name "
             "(e.g. code_generation/{task}/recorded_answers.json for the scripted backend)")
    add("--backend_arg", action="append", type=_backend_arg, default=[], metavar="KEY=VALUE",
        help="extra keyword argument for the backend constructor (repeatable), e.g. base_url=http://127.0.0.1:8000/v1")
    add("--temperature", type=float, default=d.temperature, help="sampling temperature (the original used 0.2)")
    add("--max_tokens", type=int, default=d.max_tokens, help="largest answer, in tokens")
    add("--max_rewrites", type=int, default=d.max_rewrites,
        help="rewrite rounds per stage after the first answer (failed run, 'no' from the checker, or failed "
             "validation each cost one); when exhausted nothing is written")
    add("--out", default=d.out, help="root of the policies: <out>/<task>/seed<N>/execution.py")
    add("--prompt_dir", default=d.prompt_dir, help="folder with the prompt templates and unit tests per task")
    add("--logdir", default=d.logdir, help="conversation logs (JSONL) and saved stages for resuming")
    add("--run_timeout", type=float, default=d.run_timeout, help="seconds one unit-test run may take")
    add("--validate_timeout", type=float, default=d.validate_timeout,
        help="seconds the random-call validation of a combined file may take")
    add("--restart", action="store_true", help="ignore stage results saved by an earlier (interrupted) run")
    add("--note", default="", help="extra line(s) for the header of the written file (e.g. who wrote recorded answers)")
    add("--validate_only", action="store_true",
        help="do not generate: validate the existing <out>/<task>/seed<N>/execution.py file(s) and exit 1 if any fails")
    add("--workers", type=int, default=min(4, os.cpu_count() or 1),
        help="validations run in parallel with --validate_only (each in its own sandboxed process)")
    return p


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    names = task_names(a.task)
    if a.validate_only:
        paths = [meta_policy_path(a.out, name, a.seed) for name in names]
        with ThreadPoolExecutor(max(1, a.workers)) as pool:
            reports = list(pool.map(lambda p: validate_file(p, ValidationConfig(timeout_s=a.validate_timeout)), paths))
        bad = 0
        for path, report in zip(paths, reports):
            print(f"{path}: {report.summary()}")
            bad += not report.ok
        print(f"{len(names) - bad}/{len(names)} valid")
        return 1 if bad else 0
    failed = []
    for name in names:
        model = a.model.replace("{task}", name) if a.model else None
        cfg = CodegenConfig(task=name, seed=a.seed, backend=a.backend, model=model, backend_args=dict(a.backend_arg),
                            temperature=a.temperature, max_tokens=a.max_tokens, max_rewrites=a.max_rewrites,
                            out=a.out, prompt_dir=a.prompt_dir, logdir=a.logdir, run_timeout=a.run_timeout,
                            validate_timeout=a.validate_timeout, restart=a.restart, note=a.note)
        llm = make_backend(cfg.backend, cfg.model, **cfg.backend_args)
        try:
            result = generate(cfg, llm)
        except GenerationFailed as e:
            print(f"FAILED {name}: {e}", file=sys.stderr)
            failed.append(name)
            continue
        except UserError:
            raise
        finally:
            llm.close()
        print(f"wrote {result.path} (rounds {result.rounds}, {result.llm_calls} LLM calls, {result.seconds:.0f} s; "
              f"log {result.log})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
