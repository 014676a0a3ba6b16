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
from dataclasses import dataclass
from typing import Any

from maestromotif.codegen.loop import CodegenConfig, GenerationFailed, generate
from maestromotif.codegen.tasks import TASKS, task_names
from maestromotif.codegen.validate import ValidationConfig, validate_file
from maestromotif.llm import make_backend
from maestromotif.skills.interface import meta_policy_path
from maestromotif.utils.cli import arg, from_namespace, make_parser, ws_arg
from maestromotif.utils.errors import UserError, run_cli

_D = CodegenConfig()


@dataclass
class GenerateArgs:
    task: str = arg("exploration", f"task to generate: one of {', '.join(TASKS)}, a comma-separated list, or 'all' "
                                   "(exploration first: the nine tasks build on it)")
    seed: int = arg(_D.seed, "code seed: the output folder seed<N> and the LLM sampling seed", aliases=("code_seed",))
    backend: str = arg(_D.backend, "LLM backend name from maestromotif.llm (e.g. llamacpp, transformers, openai, "
                                   "hf_inference, vllm; 'scripted' replays a JSON list of recorded answers given "
                                   "as --model)")
    model: str | None = arg(None, "model name/path for the backend; '{task}' in it is replaced by the task name "
                                  "(e.g. code_generation/{task}/recorded_answers.json for the scripted backend)")
    backend_args: dict[str, Any] = arg({}, "the backend's options as one mapping (its class's OPTIONS, maestromotif/llm/): "
                                           "KEY=VALUE (repeatable) or a JSON mapping, e.g. base_url=http://127.0.0.1:8000/v1",
                                       aliases=("backend_arg",), metavar="KEY=VALUE")
    temperature: float = arg(_D.temperature, "sampling temperature (the original used 0.2)")
    max_tokens: int = arg(_D.max_tokens, "largest answer, in tokens")
    max_rewrites: int = arg(_D.max_rewrites, "rewrite rounds per stage after the first answer (failed run, 'no' "
                                             "from the checker, or failed validation each cost one); when "
                                             "exhausted nothing is written")
    out: str = ws_arg("meta_policies", "root of the policies: <out>/<task>/seed<N>/execution.py")
    prompt_dir: str = arg(_D.prompt_dir, "folder with the prompt templates and unit tests per task")
    logdir: str = ws_arg("codegen_logs", "conversation logs (JSONL) and saved stages for resuming")
    run_timeout: float = arg(_D.run_timeout, "seconds one unit-test run may take")
    validate_timeout: float = arg(_D.validate_timeout, "seconds the random-call validation of a combined file may take")
    restart: bool = arg(False, "ignore stage results saved by an earlier (interrupted) run")
    note: str = arg("", "extra line(s) for the header of the written file (e.g. who wrote recorded answers)")
    validate_only: bool = arg(False, "do not generate: validate the existing <out>/<task>/seed<N>/execution.py "
                                     "file(s) and exit 1 if any fails")
    workers: int = arg(min(4, os.cpu_count() or 1), "validations run in parallel with --validate_only (each in "
                                                    "its own sandboxed process)")


def parser() -> argparse.ArgumentParser:
    return make_parser(GenerateArgs, prog="python -m scripts.generate_code", description=__doc__)


def main(argv: list[str] | None = None) -> int:
    a = from_namespace(GenerateArgs, parser().parse_args(argv))
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
        cfg = CodegenConfig(task=name, seed=a.seed, backend=a.backend, model=model, backend_args=dict(a.backend_args),
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
