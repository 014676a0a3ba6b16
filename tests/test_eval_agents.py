"""The skill agents (MaestroMotif, random policy over skills) on the real game with a real skill policy network
(freshly initialised: the pipeline does not depend on training) and the generated policies over skills."""

from pathlib import Path

import pytest

pytest.importorskip("maestromotif.rl.actor")
pytest.importorskip("maestromotif.skills.options")

from maestromotif.eval import evaluator  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
META = ROOT / "rl_baseline" / "meta_policies"
if not (META / "gnomish" / "seed42" / "execution.py").is_file():
    pytest.skip("the generated policies over skills are not in this checkout", allow_module_level=True)


def _cfg(tmp_path, **kw):
    base = dict(tasks=["gnomish"], agents=["maestromotif", "random_skills"], episodes=2, max_episode_steps=120,
                checkpoint=evaluator.FRESH, meta_policies=str(META), out=str(tmp_path))
    base.update(kw)
    return evaluator.EvalConfig(**base)


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    cfg = _cfg(tmp_path_factory.mktemp("r"))
    r = evaluator.EpisodeRunner(cfg, evaluator.run_keys(cfg), slots=3)
    yield r
    r.close()


def test_skill_agents_play_the_task_with_its_policy_over_skills(runner):
    for agent in ("maestromotif", "random_skills"):
        rec = runner.run("gnomish", agent, 0)
        stats = rec["agent_stats"]
        assert rec["agent"] == agent and rec["steps"] > 0
        assert sum(stats[f"{s}_steps"] for s in ("discoverer", "descender", "ascender", "worshipper", "merchant")) \
            == rec["steps"] - 1  # the controller is told about every step after the first action
        assert stats["policy_errors"] == 0


def test_an_episode_does_not_depend_on_what_is_batched_with_it(runner):
    alone = runner.run("gnomish", "maestromotif", 1)
    for job in (("gnomish", "random_skills", 5), ("gnomish", "maestromotif", 1), ("gnomish", "maestromotif", 7)):
        runner.start(job)
    together = []
    while runner.running:
        together += runner.step()
    mine = next(r for r in together if r["agent"] == "maestromotif" and r["episode"] == 1)
    keys = ("proxy", "exact", "steps", "end", "turns", "score", "agent_stats")
    assert {k: mine[k] for k in keys} == {k: alone[k] for k in keys}


def test_evaluate_runs_all_agents_in_worker_processes(tmp_path):
    report = evaluator.evaluate(_cfg(tmp_path, agents=["maestromotif", "random_skills", "random_actions"], num_workers=2,
                             envs_per_worker=2), show_progress=False)
    assert [(r["agent"], r["n"]) for r in report["rows"]] == [("maestromotif", 2), ("random_skills", 2),
                                                              ("random_actions", 2)]
    assert report["rows"][0]["paper"] == 0.46
