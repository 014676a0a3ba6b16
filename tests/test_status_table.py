"""The README's status table is rendered from the shipped evaluation report, never typed."""

from __future__ import annotations

import copy
import json

import pytest

from maestromotif.eval.status_table import (
    BEGIN,
    END,
    current_table,
    load_report,
    render,
    replace_between_markers,
    update_readme,
)
from maestromotif.utils.errors import UserError


def test_readme_table_is_the_rendered_shipped_report(repo_root):
    report = load_report(repo_root / "docs/status/report.json")
    readme = (repo_root / "README.md").read_text()
    assert current_table(readme) == render(report), \
        "README's status table differs from docs/status/report.json: run `python -m scripts.status_table`"


def _report(rows, **extra):
    return {"config": {"checkpoint": "ck", "seed": 3, "episodes": 2, "max_episode_steps": 50},
            "created": "2026-01-02T03:04:05", "rows": rows, **extra}


def _row(task, agent, exact, proxy, metric="success", **kw):
    return {"task": task, "title": task.title(), "agent": agent, "metric": metric, "n": 2,
            "exact_mean": exact, "proxy_mean": proxy, **kw}


def test_new_agents_and_fields_become_columns_without_code_changes():
    rows = [_row("gnomish", "maestromotif", 0.5, 1.0, paper=0.46, died=0.5, steps_mean=10.0),
            _row("gnomish", "scripted_skills", 1.0, 1.0, died=0.0, steps_mean=30.0, new_field=[1, 2],
                 causes_of_death={"starved": 1}),
            _row("buc", "maestromotif", 1.5, float("nan"), metric="count", paper=1.6, died=1.0, steps_mean=20.0,
                 causes_of_death={"prayed": 0.5, "choked": 0.5})]
    table = render(_report(rows))
    lines = table.splitlines()
    assert lines[0] == "| Task | Paper (MaestroMotif) | `maestromotif` | `scripted_skills` |"
    assert "| Gnomish | 46.0% | 50.0% (100.0%) | 100.0% (100.0%) |" in lines
    assert "| Buc | 1.60 | 1.50 (-) |  |" in lines           # NaN shows as '-', a missing cell stays empty
    mm = next(x for x in lines if x.startswith("| `maestromotif` |"))
    assert mm.startswith("| `maestromotif` | 4 | 75% | 15 |") and "prayed 50%" in mm and "choked 50%" in mm
    assert "starved 100%" in next(x for x in lines if x.startswith("| `scripted_skills` |"))
    assert "game seeds 3..4" in table and "run 2026-01-02" in table


def test_own_job_per_skill_is_a_third_table_for_skill_agents():
    job = {"discoverer": {"activations": 2, "steps": 500, "cells_explored_per_1000": 100.0, "kills_per_1000": 4.0},
           "descender": {"activations": 4, "steps": 100, "own_job": 1, "own_job_rate": 0.25}}
    rows = [_row("gnomish", "maestromotif", 0, 0, own_job=job),
            _row("buc", "maestromotif", 0, 0, metric="count",
                 own_job={"descender": {"activations": 4, "steps": 100, "own_job": 3, "own_job_rate": 0.75}}),
            _row("gnomish", "random_actions", 0, 0)]
    lines = render(_report(rows)).splitlines()
    head = next(i for i, x in enumerate(lines) if x.startswith("| Agent | discoverer cells /1k"))
    assert lines[head + 2] == "| `maestromotif` | 100 | 4.00 | 4/8 (50%) | - | - | - |"   # summed over tasks
    assert not any(x.startswith("| `random_actions` | 100") for x in lines[head:])
    assert "| Agent | discoverer" not in render(_report([_row("gnomish", "random_actions", 0, 0)]))


def test_causes_fall_back_to_the_episode_file(tmp_path):
    (tmp_path / "report.json").write_text(json.dumps(_report([_row("gnomish", "random_actions", 0, 0, died=1.0)])))
    eps = [{"task": "gnomish", "agent": "random_actions", "end": e} for e in ("choking", "died", "died", "success")]
    (tmp_path / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in eps) + '{"torn')
    line = next(x for x in render(load_report(tmp_path / "report.json")).splitlines() if x.startswith("| `random"))
    assert line.endswith("| died 67%, choking 33% |")


def test_update_rewrites_only_between_the_markers(tmp_path):
    (tmp_path / "report.json").write_text(json.dumps(_report([_row("gnomish", "maestromotif", 0, 0)])))
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n{BEGIN}\nold table\n{END}\nafter\n")
    assert update_readme(tmp_path / "report.json", readme)
    text = readme.read_text()
    assert text.startswith("# title\n\nbefore\n") and text.endswith(f"{END}\nafter\n") and "old table" not in text
    assert not update_readme(tmp_path / "report.json", readme)   # idempotent
    assert readme.read_text() == text


@pytest.mark.parametrize("content, what", [
    (None, "not found"), ("{", "not valid JSON"), ('{"rows": []}', "no rows"),
    ('{"rows": [{"task": "gnomish"}]}', "row 0 lacks"),
])
def test_bad_reports_are_user_errors_naming_the_file(tmp_path, content, what):
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError, match=what) as e:
        load_report(path)
    assert str(path) in str(e.value)


def test_missing_markers_are_a_user_error():
    with pytest.raises(UserError, match="markers"):
        replace_between_markers("no markers here", "| t |\n")
    with pytest.raises(UserError, match="markers"):
        replace_between_markers(f"{END}\n{BEGIN}\n", "| t |\n")


def test_render_does_not_change_the_report():
    report = _report([_row("gnomish", "maestromotif", 0.5, 1.0, paper=0.46)])
    before = copy.deepcopy(report)
    render(report)
    assert report == before
