"""Prompt files: where a stage's files are looked up, and how templates are filled.

Templates are plain text with named placeholders (``{previous_code}``, ``{output}``, ``{reason}``,
``{attributes}``); they are filled by exact replacement, not ``str.format``, so the literal braces
of the paper's prompts (``{"discoverer", ...}``, f-strings in unit tests) stay as they are.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from maestromotif.codegen.tasks import CodegenTask, Stage
from maestromotif.skills.interface import ATTRIBUTES
from maestromotif.utils.errors import UserError
from maestromotif.workspace import SHIPPED

DEFAULT_PROMPT_DIR = SHIPPED.code_generation  # prompts are part of the code: read from the checkout


def fill(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def attribute_table() -> str:
    """The attributes a policy may declare, one line each (the single source is ``ATTRIBUTES``)."""
    return "\n".join(f"- {name} ({spec.type.__name__}, starts at {spec.default!r}): {spec.doc}"
                     for name, spec in ATTRIBUTES.items())


class PromptFiles:
    """Files of one stage: ``<root>/<task>/<stage dir>/``, then ``<root>/<task>/``, then ``<root>/common/``."""

    def __init__(self, root: str | Path, task: CodegenTask, stage: Stage | None = None):
        self.root = Path(root)
        base = self.root / task.name
        self.dirs = ([base / stage.dir] if stage is not None and stage.dir else []) + [base, self.root / "common"]
        if not base.is_dir():
            raise UserError(f"no prompt directory for task '{task.name}'", path=base,
                            expected="initial.txt, code_check.txt, unit_test.py, initial_values.txt",
                            fix="pass --prompt_dir pointing at the repository's code_generation/ folder")

    def find(self, name: str) -> Path | None:
        return next((d / name for d in self.dirs if (d / name).is_file()), None)

    def text(self, name: str) -> str:
        path = self.find(name)
        if path is None:
            raise UserError(f"prompt file '{name}' not found", path=self.dirs[0],
                            expected=f"{name} in one of: {', '.join(str(d) for d in self.dirs)}",
                            fix="restore it from the repository (code_generation/ is data the loop needs)")
        return path.read_text(encoding="utf-8")

    def fingerprint(self) -> str:
        """Hash of every file this stage may read (a changed prompt invalidates saved stage results)."""
        h = hashlib.sha256()
        for d in self.dirs:
            for p in sorted(d.glob("*")) if d.is_dir() else []:
                if p.is_file():
                    h.update(p.name.encode() + b"\0" + p.read_bytes())
        return h.hexdigest()[:16]
