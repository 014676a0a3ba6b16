"""One task table (maestromotif/tasks.py) feeds evaluation, code generation and the pipeline."""

from __future__ import annotations

from maestromotif import tasks as registry
from maestromotif.codegen import tasks as codegen_tasks
from maestromotif.eval import detectors
from maestromotif.eval import tasks as eval_tasks
from maestromotif.pipeline import config as pipeline_config


def test_every_reader_sees_the_same_tasks():
    names = list(registry.TASKS)
    assert len(names) == 9
    assert list(eval_tasks.TASKS) == names
    assert list(codegen_tasks.TASKS) == [registry.TRAINING_POLICY, *names]
    assert list(pipeline_config.TASKS) == names
    assert list(pipeline_config.PipelineConfig().eval_tasks) == names


def test_each_entry_resolves_to_a_detector_prompt_files_and_a_shipped_policy(repo_root):
    for name, spec in registry.TASKS.items():
        task = eval_tasks.TASKS[name]
        assert task.detector is getattr(detectors, spec.detector)
        assert (task.title, task.prompt, task.paper) == (spec.title, spec.prompt, spec.paper)
        assert codegen_tasks.TASKS[name].success_message == spec.success_message
        assert (repo_root / "code_generation" / name / "initial.txt").is_file(), name
        assert (repo_root / "rl_baseline/meta_policies" / task.policy_dir / "seed42/execution.py").is_file(), name
        assert spec.kind in ("navigation", "interaction", "composite") and spec.paper > 0


def test_the_registry_imports_no_phase():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(registry))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m and m.startswith("maestromotif")]
