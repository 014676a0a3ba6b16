"""The generate -> run -> check -> rewrite loop, with no human in it.

Per stage of a task (see :mod:`.tasks`):

1. the prompt (``initial.txt``, filled with the previous code) goes to the LLM;
2. the code is extracted from the answer, the task's unit test appended when the answer has none,
   the program screened (:mod:`.screen`) and run in the sandbox (:mod:`.sandbox`);
3. when it ran, the LLM is shown what it printed (``code_check.txt``) and asked whether that is
   right; "no" leads to the rewrite prompt (``simulate_rewrite.txt``); when it did not run (no code,
   syntax error, refused by the screen, exception, timeout) the LLM gets the error and the rewrite
   prompt directly. At most ``max_rewrites`` rewrites per stage;
4. after the last stage the pieces are combined into ``execution.py`` and validated
   (:mod:`.validate`); a validation failure is sent back as one more rewrite when rounds remain.

Only validated code is written, atomically, to ``<out>/<task>/seed<N>/execution.py`` with a header
saying how it was made, and ``generation.json`` (config, rounds, validation) beside it. Every message
and event is appended to ``<logdir>/<task>/seed<N>/log.jsonl``; each accepted stage is saved under
``stages/`` so a rerun after a crash resumes from the last accepted stage.

Log schema (one JSON object per line): ``run_id``, ``time``, ``task``, ``stage``, ``round``,
``event`` (``message`` | ``evaluation`` | ``verdict`` | ``validation`` | ``stage_accepted`` |
``stage_reused`` | ``written`` | ``failed``) and the event's fields (``role``/``content`` for
messages; ``status``/``detail``/``stdout``/``stderr``/``seconds``/``extracted_by`` for evaluations;
``verdict``/``answer`` for verdicts).
"""

from __future__ import annotations

import ast
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestromotif.codegen import assemble
from maestromotif.codegen.extract import defines, extract_code
from maestromotif.codegen.prompts import DEFAULT_PROMPT_DIR, PromptFiles, attribute_table, fill
from maestromotif.codegen.sandbox import Limits, RunResult, run_python
from maestromotif.codegen.screen import screen_code
from maestromotif.codegen.tasks import CodegenTask, Stage, get_task
from maestromotif.codegen.validate import ValidationConfig, validate_source
from maestromotif.llm.base import Chat, GenerationConfig, LLMBackend
from maestromotif.skills.interface import CLASS_NAME, meta_policy_path
from maestromotif.utils.config import config_hash, save_config
from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_write_text
from maestromotif.workspace import in_workspace


@dataclass
class CodegenConfig:
    task: str = "exploration"
    seed: int = 42
    backend: str = "llamacpp"
    model: str | None = None
    backend_args: dict[str, Any] = field(default_factory=dict)
    temperature: float = 0.2  # the original's
    max_tokens: int = 4096
    max_rewrites: int = 3  # the original stopped after 3 rewrite rounds
    out: str = field(default_factory=lambda: in_workspace("meta_policies"))
    prompt_dir: str = str(DEFAULT_PROMPT_DIR)
    logdir: str = field(default_factory=lambda: in_workspace("codegen_logs"))
    run_timeout: float = 10.0  # seconds for one unit-test run
    validate_timeout: float = 60.0
    restart: bool = False  # ignore stage results saved by an earlier run
    note: str = ""  # extra header line (e.g. who wrote recorded answers)

    def generation(self) -> GenerationConfig:
        return GenerationConfig(max_tokens=self.max_tokens, temperature=self.temperature, seed=self.seed)


class GenerationFailed(Exception):
    """The LLM did not produce acceptable code within the allowed rounds (nothing was written)."""


@dataclass
class Outcome:
    status: str  # ok | no_code | syntax | missing_method | refused | error | timeout
    detail: str = ""
    code: str = ""
    stdout: str = ""
    run: RunResult | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class Result:
    path: Path
    rounds: dict[str, int]
    llm_calls: int
    seconds: float
    log: Path
    validation: dict[str, Any]


_VERDICT = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


def parse_verdict(answer: str) -> bool | None:
    """The checker's first "yes"/"no" (True/False); ``None`` when it says neither (treated as no)."""
    m = _VERDICT.search(answer.replace("*", ""))
    return None if m is None else m.group(1).lower() == "yes"


class _Session:
    """One task's generation: the LLM, the log, the saved stages."""

    def __init__(self, cfg: CodegenConfig, task: CodegenTask, llm: LLMBackend):
        self.cfg, self.task, self.llm = cfg, task, llm
        self.dir = Path(cfg.logdir) / task.name / f"seed{cfg.seed}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / "log.jsonl"
        self.run_id = uuid.uuid4().hex[:8]
        self.calls = 0
        self.codes: dict[str, str] = {}  # accepted code per stage
        self.rounds: dict[str, int] = {}
        self.final: tuple[str, Any] | None = None  # (combined code, validation report)

    # ---- logging
    def log(self, event: str, stage: str = "", rnd: int = 0, **fields: Any) -> None:
        rec = {"run_id": self.run_id, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "task": self.task.name,
               "stage": stage, "round": rnd, "event": event, **fields}
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, default=str) + "\n")

    def ask(self, chat: Chat, stage: str, rnd: int) -> str:
        self.log("message", stage, rnd, role=chat[-1]["role"], content=chat[-1]["content"])
        t0 = time.perf_counter()
        answer = self.llm.chat([chat], self.cfg.generation())[0]
        self.calls += 1
        chat.append({"role": "assistant", "content": answer})
        self.log("message", stage, rnd, role="assistant", content=answer, seconds=time.perf_counter() - t0)
        return answer

    # ---- inputs of a stage
    def exploration_code(self) -> str:
        path = meta_policy_path(self.cfg.out, "exploration", self.cfg.seed)
        if not path.is_file():
            raise UserError("the task builds on the exploration policy over skills, which is missing", path=path,
                            fix=f"generate it first: python -m scripts.generate_code --task exploration "
                                f"--seed {self.cfg.seed} --out {self.cfg.out}")
        return path.read_text(encoding="utf-8")

    def previous_code(self, stage: Stage) -> str:
        if stage.previous is None:
            return ""
        if stage.previous == "exploration":
            return assemble.code_before_method(self.exploration_code(), "perform_task")
        name = stage.previous.removeprefix("stage:")
        prog = assemble.parse_program(self.codes[name])
        return assemble.render(assemble.Program(prog.imports, prog.definitions, prog.class_line, prog.members)).strip()

    def stage_key(self, stage: Stage, files: PromptFiles) -> str:
        keep = {k: v for k, v in vars(self.cfg).items() if k not in ("out", "logdir", "restart", "note", "task")}
        prev = self.previous_code(stage)
        return config_hash({**keep, "task": self.task.name, "stage": stage.name, "prompts": files.fingerprint(),
                            "previous": prev})

    # ---- one attempt
    def evaluate(self, answer: str, stage: Stage, files: PromptFiles) -> Outcome:
        ext = extract_code(answer, CLASS_NAME, stage.method)
        if ext is None:
            return Outcome("no_code", "The answer contains no Python code (expected a ```python block).")
        try:
            tree = ast.parse(ext.code)
        except SyntaxError as e:
            return Outcome("syntax", f"SyntaxError at line {e.lineno}: {e.msg}\n{(e.text or '').rstrip()}", ext.code)
        if not defines(tree, CLASS_NAME, stage.method):
            return Outcome("missing_method", f"The code does not define the method {stage.method} of the class "
                                              f"{CLASS_NAME}.", ext.code)
        program = ext.code
        if not assemble.has_test_code(program) and files.find("unit_test.py") is not None:
            program += "\n\n" + files.text("unit_test.py")
        refused = screen_code(program)
        if refused:
            return Outcome("refused", "The code was refused by the safety screen before running:\n"
                           + "\n".join(f"- {r}" for r in refused), ext.code)
        run = run_python("execution.py", files={"execution.py": program}, limits=Limits(timeout_s=self.cfg.run_timeout))
        if not run.ok:
            detail = run.reason()
            if run.stdout.strip():
                detail = f"It printed:\n{run.stdout.strip()[-3000:]}\n\nThen {detail}"
            return Outcome(run.status, detail, ext.code, run.stdout, run)
        return Outcome("ok", "", ext.code, run.stdout, run)

    def run_stage(self, stage: Stage, last: bool) -> None:
        files = PromptFiles(self.cfg.prompt_dir, self.task, stage)
        key = self.stage_key(stage, files)
        saved = self.dir / "stages" / f"{stage.name}.json"
        if saved.is_file() and not self.cfg.restart:
            rec = json.loads(saved.read_text())
            if rec.get("key") == key and (not last or self.accept(rec["code"], stage) is None):
                self.codes[stage.name], self.rounds[stage.name] = rec["code"], rec["rounds"]
                self.log("stage_reused", stage.name, rec["rounds"], path=str(saved))
                return
        prompt = fill(files.text("initial.txt"), previous_code=self.previous_code(stage),
                      attributes=fill(files.text("attributes.txt"), attribute_table=attribute_table())
                      if self.task.attributes else "")
        chat: Chat = [{"role": "system", "content": files.text("system.txt")}, {"role": "user", "content": prompt}]
        rnd = 0
        answer = self.ask(chat, stage.name, rnd)
        while True:
            out = self.evaluate(answer, stage, files)
            run = out.run
            self.log("evaluation", stage.name, rnd, status=out.status, detail=out.detail, stdout=out.stdout,
                     stderr=run.stderr if run else "", seconds=run.seconds if run else 0.0,
                     isolation=run.isolation if run else "")
            if out.ok:
                check = fill(files.text("code_check.txt"), output=out.stdout.rstrip() or "(the code printed nothing)")
                chat.append({"role": "user", "content": check})
                verdict_text = self.ask(chat, stage.name, rnd)
                verdict = parse_verdict(verdict_text)
                self.log("verdict", stage.name, rnd, verdict=verdict)
                problem = (self.accept(out.code, stage) if last else None) if verdict else None
                if verdict and problem is None:
                    break
                feedback = fill(files.text("validation_failed.txt"), reason=problem) if verdict else ""
                last_problem = problem or f"the checker did not approve the output: {verdict_text.strip()[:300]}"
            else:
                feedback = fill(files.text("run_failed.txt"), reason=out.detail)
                last_problem = out.detail
            if rnd >= self.cfg.max_rewrites:
                self.log("failed", stage.name, rnd, reason=last_problem)
                raise GenerationFailed(
                    f"task '{self.task.name}', stage '{stage.name}': no acceptable code after {rnd} rewrite(s) "
                    f"(--max_rewrites {self.cfg.max_rewrites}); last problem: {last_problem.strip()[:1500]}\n"
                    f"full conversation: {self.log_path}")
            rnd += 1
            chat.append({"role": "user", "content": feedback + files.text("simulate_rewrite.txt")})
            answer = self.ask(chat, stage.name, rnd)
        self.codes[stage.name], self.rounds[stage.name] = out.code, rnd
        saved.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(saved, json.dumps({"key": key, "code": out.code, "rounds": rnd}))
        self.log("stage_accepted", stage.name, rnd, code=out.code)

    # ---- combining and validating
    def piece(self, source: str, files: PromptFiles) -> assemble.Program:
        if source == "exploration":
            return assemble.parse_program(assemble.strip_header(self.exploration_code()))
        if source.startswith("stage:"):
            return assemble.parse_program(self.codes[source.removeprefix("stage:")])
        return assemble.parse_methods(files.text(source.removeprefix("file:")))

    def combined(self) -> str:
        files = PromptFiles(self.cfg.prompt_dir, self.task)
        pieces = [(self.piece(p.source, files), p.members) for p in self.task.combine]
        base, overlays = pieces[0][0], pieces[1:]
        return assemble.render(assemble.combine(base, overlays))

    def accept(self, code: str, stage: Stage) -> str | None:
        """Combine with the other pieces and validate; the problem, or ``None`` when valid."""
        self.codes[stage.name] = code
        try:
            combined = self.combined()
        except (SyntaxError, ValueError) as e:
            return f"the pieces could not be combined into one class: {e}"
        report = validate_source(combined, ValidationConfig(seed=self.cfg.seed, timeout_s=self.cfg.validate_timeout))
        self.log("validation", stage.name, 0, ok=report.ok, problems=report.problems, stats=report.stats)
        if not report.ok:
            return "\n".join(report.problems)
        self.final = (combined, report)
        return None


def generate(cfg: CodegenConfig, llm: LLMBackend) -> Result:
    """Run the loop for ``cfg.task``; write and return the validated file, or raise GenerationFailed."""
    task = get_task(cfg.task)
    t0 = time.perf_counter()
    s = _Session(cfg, task, llm)
    s.log("start", config=vars(cfg))
    for i, stage in enumerate(task.stages):
        s.run_stage(stage, last=i == len(task.stages) - 1)
    if s.final is None:  # every stage was reused from disk and validated in run_stage
        raise GenerationFailed(f"task '{task.name}': internal error, no validated combination")
    code, report = s.final
    seconds = time.perf_counter() - t0
    model = cfg.model or "(backend default)"
    lines = [f"Made by `python -m scripts.generate_code --task {task.name} --seed {cfg.seed}` with backend "
             f"'{cfg.backend}', model {model}, temperature {cfg.temperature};",
             "rewrite rounds per stage: " + ", ".join(f"{k} {v}" for k, v in s.rounds.items())
             + f"; {s.calls} LLM calls this run, {seconds:.0f} s."]
    if cfg.note:
        lines += [ln for ln in cfg.note.splitlines()]
    header = assemble.make_header(task.name, cfg.seed, lines)
    path = meta_policy_path(cfg.out, task.name, cfg.seed)
    atomic_write_text(path, header + "\n" + code)
    save_config(path.with_name("generation.json"), cfg, rounds=s.rounds, llm_calls=s.calls, seconds=seconds,
                validation=report.to_dict(), log=str(s.log_path))
    s.log("written", path=str(path), rounds=s.rounds, seconds=seconds)
    return Result(path, dict(s.rounds), s.calls, seconds, s.log_path, report.to_dict())
