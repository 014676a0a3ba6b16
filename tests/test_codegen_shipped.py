"""The shipped policies over skills: valid, honest about how they were made, reproducible, sensible."""

import json
from pathlib import Path

import pytest

from maestromotif.codegen import assemble
from maestromotif.codegen.loop import CodegenConfig, generate
from maestromotif.codegen.tasks import TASKS
from maestromotif.codegen.validate import unit_test_success
from maestromotif.llm.scripted import ScriptedBackend
from maestromotif.skills.interface import ATTRIBUTES, load_policy_class, meta_policy_path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "rl_baseline/meta_policies"


def test_validate_only_command_accepts_every_shipped_file(capsys):
    from scripts.generate_code import main

    assert main(["--validate_only", "--task", "all", "--out", str(SHIPPED)]) == 0
    out = capsys.readouterr().out
    assert out.count(": valid: ") == len(TASKS) and f"{len(TASKS)}/{len(TASKS)} valid" in out


@pytest.mark.parametrize("task", list(TASKS))
def test_shipped_file_header_and_interface(task):
    path = meta_policy_path(SHIPPED, task, 42)
    head = path.read_text().split("\n\n", 1)[0]
    assert "written by hand" in head and "backend 'scripted'" in head  # says how it was made
    cls = load_policy_class(path)  # validated code: safe to import here
    assert set(cls.REQUIRED_ATTRIBUTES) <= set(ATTRIBUTES)
    player = cls(5, 3)
    player.set_initial_values()
    assert player.skill == "discoverer"


@pytest.mark.parametrize("task", [t for t in TASKS if TASKS[t].success_message])
def test_shipped_policy_completes_its_unit_test_world(task):
    done, runs = unit_test_success(meta_policy_path(SHIPPED, task, 42), ROOT / "code_generation" / task / "unit_test.py",
                                   TASKS[task].success_message, runs=100)
    assert done >= 85, f"{task}: {done}/{runs}"


def _code(path: Path) -> str:
    return assemble.strip_header(path.read_text())


@pytest.mark.slow
def test_replaying_the_recorded_answers_reproduces_the_shipped_files(tmp_path):
    for task in sorted(TASKS, key=lambda n: n != "exploration"):
        answers = json.loads((ROOT / "code_generation" / task / "recorded_answers.json").read_text())
        cfg = CodegenConfig(task=task, backend="scripted", out=str(tmp_path / "out"), logdir=str(tmp_path / "logs"))
        r = generate(cfg, ScriptedBackend(answers=answers))
        assert all(v == 0 for v in r.rounds.values())
        assert _code(r.path) == _code(meta_policy_path(SHIPPED, task, 42)), task


@pytest.mark.parametrize("task", [t for t in TASKS if t != "goldenexit"])
def test_shipped_policies_never_climb_out_of_the_dungeon(task):
    """Ascending on level 1 quits the game: only goldenexit may do it, also while the fork is unknown (-1)."""
    import random

    from maestromotif.codegen._fuzz import World

    cls = load_policy_class(meta_policy_path(SHIPPED, task, 42))
    rng = random.Random(0)
    random.seed(0)
    for _ in range(200):
        world = World(rng, tuple(cls.REQUIRED_ATTRIBUTES))
        player = cls(world.max_depth, world.branch_depth)
        world.update_attributes(player)
        player.set_initial_values()
        skill = player.skill
        for _ in range(40):
            world.update_attributes(player)
            skill = player.perform_task(skill, world.depth, world.branch, rng.random() < 0.1, rng.random() < 0.1)
            assert not (skill == "ascender" and world.depth == 1 and world.branch == 0), (task, vars(player))
            world.move(skill)
