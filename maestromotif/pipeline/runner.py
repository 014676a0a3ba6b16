"""Run the stages in order, skipping what is done and resuming what is not.

State lives in ``<workdir>/pipeline_state.json`` (atomic writes)::

    {"pipeline_version": 1, "maestromotif_version": "...", "config": {...},
     "stages": {"<stage>": {"key": "<hash>", "seconds": 12.3,
                            "units": {"<unit>": {"key": "<hash>", "done": true, "seconds": 4.5,
                                                 "note": "...", "log": "logs/<unit>.log"}}}}}

A unit's key hashes its command and the keys of the stages it depends on. A unit whose key is
recorded as done and whose outputs exist is skipped. A unit whose key changed (its settings or an
upstream result changed) has its outputs removed and runs again from scratch. A unit that was
interrupted (``kill -9``) runs again with the same command, and the command itself resumes from its
own files (collection shards, annotation parts, reward checkpoints, APPO checkpoints, evaluation
episodes). ``--force STAGE`` redoes one stage (and therefore everything downstream of it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from maestromotif import __version__
from maestromotif.pipeline.config import PipelineConfig
from maestromotif.pipeline.stages import REPO_ROOT, STAGE_NAMES, STAGES, Stage, Unit
from maestromotif.utils.errors import UserError
from maestromotif.utils.io import atomic_save_json

PIPELINE_VERSION = 1
STATE_FILE = "pipeline_state.json"


def _hash(parts: list[str]) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def _fmt(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv).replace(shlex.quote(os.sys.executable), "python")


class Pipeline:
    def __init__(self, cfg: PipelineConfig, workdir: str | Path, log=print):
        self.cfg, self.w, self.log = cfg, Path(workdir).resolve(), log
        self.state_path = self.w / STATE_FILE
        self.state = self._load_state()

    # ------------------------------------------------------------------ state
    def _load_state(self) -> dict[str, Any]:
        if not self.state_path.exists():
            return {"pipeline_version": PIPELINE_VERSION, "maestromotif_version": __version__, "stages": {}}
        try:
            state = json.loads(self.state_path.read_text())
        except json.JSONDecodeError as e:
            raise UserError(f"unreadable pipeline state ({e})", path=self.state_path,
                            fix="delete it to start the workdir over") from None
        if state.get("pipeline_version") != PIPELINE_VERSION:
            raise UserError(f"this workdir was made by pipeline version {state.get('pipeline_version')} "
                            f"(maestromotif {state.get('maestromotif_version')}); this is version {PIPELINE_VERSION}",
                            path=self.state_path, fix="use a new --workdir, or delete the old one")
        return state

    def _save(self) -> None:
        self.state["config"] = self.cfg.to_dict()
        self.state["maestromotif_version"] = __version__
        atomic_save_json(self.state_path, self.state)

    # ------------------------------------------------------------------ planning
    def stage_keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for st in STAGES:
            material = [keys[d] for d in st.deps]
            for u in st.units(self.cfg, self.w):
                material += u.key_material(self.w)
            keys[st.name] = _hash(material)
        return keys

    def unit_key(self, st: Stage, u: Unit, keys: dict[str, str]) -> str:
        return _hash([keys[d] for d in st.deps] + u.key_material(self.w))

    def status(self) -> list[tuple[str, str]]:
        keys = self.stage_keys()
        rows = []
        for st in STAGES:
            units = st.units(self.cfg, self.w)
            done = sum(self._unit_done(st, u, keys) for u in units)
            rows.append((st.name, f"{done}/{len(units)} units done"))
        return rows

    def _unit_done(self, st: Stage, u: Unit, keys: dict[str, str]) -> bool:
        rec = self.state["stages"].get(st.name, {}).get("units", {}).get(u.name)
        return bool(rec and rec.get("done") and rec.get("key") == self.unit_key(st, u, keys)
                    and all(p.exists() for p in u.outputs))

    # ------------------------------------------------------------------ running
    def run(self, stages: list[str] | None = None, force: list[str] | None = None, dry_run: bool = False) -> None:
        stages = list(stages or STAGE_NAMES)
        force = list(force or [])
        for name in stages + [f for f in force if f != "all"]:
            if name not in STAGE_NAMES:
                raise UserError(f"unknown stage '{name}'", expected=f"one of {', '.join(STAGE_NAMES)}",
                                fix="check --stages / --force")
        if "all" in force:
            force = list(STAGE_NAMES)
        if dry_run:
            self._dry_run(stages)
            return
        self.w.mkdir(parents=True, exist_ok=True)
        for st in STAGES:
            if st.name in force:  # forget the stage: its units run again from scratch
                self.state["stages"].pop(st.name, None)
        keys = self.stage_keys()
        self._save()
        for st in STAGES:
            if st.name not in stages:
                continue
            self._check_inputs(st, keys)
            self._run_stage(st, keys)
        self.log(f"pipeline done: {self.w}")

    def _check_inputs(self, st: Stage, keys: dict[str, str]) -> None:
        for dep in st.deps:
            dep_stage = next(s for s in STAGES if s.name == dep)
            missing = [u for u in dep_stage.units(self.cfg, self.w) if not self._unit_done(dep_stage, u, keys)]
            if missing:
                raise UserError(f"stage '{st.name}' needs stage '{dep}' finished with the current settings; "
                                f"not done: {', '.join(u.name for u in missing)}",
                                path=self.state_path, fix=f"run with --stages {dep} {st.name} (or all stages)")

    def _run_stage(self, st: Stage, keys: dict[str, str]) -> None:
        rec = self.state["stages"].setdefault(st.name, {"units": {}})
        rec["key"] = keys[st.name]
        units = st.units(self.cfg, self.w)
        todo = [u for u in units if not self._unit_done(st, u, keys)]
        if not todo:
            self.log(f"[{st.name}] up to date ({len(units)} units), skipped")
            return
        self.log(f"[{st.name}] {st.doc}: {len(todo)}/{len(units)} units to run")
        t_stage = time.time()
        for u in todo:
            key = self.unit_key(st, u, keys)
            urec = rec["units"].get(u.name)
            if urec and urec.get("key") != key:
                self._clean(u)  # settings or inputs changed: stale outputs must not be resumed from
            urec = rec["units"][u.name] = {"key": key, "done": False, "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
            self._save()
            t0 = time.time()
            note = self._run_unit(u)
            urec.update(done=True, seconds=round(time.time() - t0, 1), note=note)
            rec["seconds"] = round(rec.get("seconds", 0.0) + time.time() - t0, 1)
            self._save()
        self.log(f"[{st.name}] done in {time.time() - t_stage:.0f} s")

    def _run_unit(self, u: Unit) -> str:
        if u.fn is not None:
            self.log(f"  - {u.name}: {u.describe}")
            u.fn()
            return ""
        log_path = self.w / "logs" / f"{u.name.replace('/', '_')}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log(f"  - {u.name}: {_fmt(u.argv)}  (log: {log_path.relative_to(self.w)})")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
        with open(log_path, "ab") as logf:
            logf.write(f"\n$ {_fmt(u.argv)}\n".encode())
            logf.flush()
            proc = subprocess.run(u.argv, cwd=REPO_ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            if u.fallback is not None:
                note = u.fallback()
                self.log(f"    {u.name}: {note}")
                return note
            tail = log_path.read_text(errors="replace")[-3000:]
            raise UserError(f"unit '{u.name}' failed (exit code {proc.returncode}); last lines of its log:\n{tail}",
                            path=log_path, fix="fix the cause and rerun the same pipeline command: finished work is kept")
        return ""

    def _clean(self, u: Unit) -> None:
        for p in u.outputs:
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()

    def _dry_run(self, stages: list[str]) -> None:
        self.log(f"# maestromotif pipeline, workdir {self.w}")
        for st in STAGES:
            if st.name not in stages:
                continue
            self.log(f"\n# [{st.name}] {st.doc}")
            if st.slurm is not None and self.cfg.annotation_chunks > 1:
                self.log(st.slurm(self.cfg, self.w))
                continue
            for u in st.units(self.cfg, self.w):
                self.log(_fmt(u.argv) if u.argv else f"# (in-process) {u.describe}")
