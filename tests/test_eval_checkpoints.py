"""Several skill policies side by side in one evaluation (``--extra_checkpoints``): agents ``maestromotif``
and ``maestromotif[<name>]`` on the same games and seeds, in the report, the CSV and the README status table."""

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("maestromotif.rl.actor")
pytest.importorskip("maestromotif.skills.options")

from maestromotif.eval import agents, evaluator  # noqa: E402
from maestromotif.eval.status_table import load_report, render  # noqa: E402
from maestromotif.utils.errors import UserError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
META = ROOT / "rl_baseline" / "meta_policies"
if not (META / "gnomish" / "seed42" / "execution.py").is_file():
    pytest.skip("the generated policies over skills are not in this checkout", allow_module_level=True)


def _cfg(out, **kw):
    base = dict(tasks=["gnomish"], agents=["maestromotif", "random_actions"], episodes=1, max_episode_steps=25,
                checkpoint=evaluator.FRESH, meta_policies=str(META), out=str(out))
    base.update(kw)
    return evaluator.EvalConfig(**base)


def test_two_named_skill_policies_in_one_run_and_resuming_an_older_report(tmp_path):
    # an older report, made with the single-checkpoint form
    old = evaluator.evaluate(_cfg(tmp_path), show_progress=False)
    first = evaluator.EpisodeStore(tmp_path / evaluator.EPISODES_FILE).load()
    assert [r["agent"] for r in old["rows"]] == ["maestromotif", "random_actions"]
    # the same --out with one more skill policy: only the new agent's episode runs
    cfg = _cfg(tmp_path, extra_checkpoints={"rules": evaluator.FRESH}, ceiling=True)
    report = evaluator.evaluate(cfg, show_progress=False)
    recs = evaluator.EpisodeStore(tmp_path / evaluator.EPISODES_FILE).load()
    assert recs[:len(first)] == first
    assert sorted(r["agent"] for r in recs[len(first):]) == ["maestromotif[rules]", "scripted_skills"]
    rows = {r["agent"]: r for r in report["rows"]}
    assert list(rows) == ["maestromotif", "maestromotif[rules]", "scripted_skills", "random_actions"]
    assert all(r["n"] == 1 for r in rows.values())
    assert rows["maestromotif[rules]"]["label"] == "learned skills, rule labels (oracle)"
    assert rows["maestromotif"]["label"] == "learned skills (LLM labels)"
    assert (rows["maestromotif"]["skill_policy"], rows["maestromotif[rules]"]["skill_policy"],
            rows["random_actions"]["skill_policy"]) == (evaluator.FRESH, evaluator.FRESH, None)
    new = next(r for r in recs if r["agent"] == "maestromotif[rules]")
    assert new["seed"] == first[0]["seed"] and new["agent_stats"]["policy_errors"] == 0  # same game, skills ran
    assert new["run_key"] != first[0]["run_key"]
    # report.md / .csv / .png and the status table show the row with its label
    md = (tmp_path / "report.md").read_text()
    assert "| Gnomish Mines | maestromotif[rules] | 1 |" in md
    assert "`maestromotif[rules]` = learned skills, rule labels (oracle)" in md
    with open(tmp_path / "report.csv") as f:
        csv_rows = {r["agent"]: r for r in csv.DictReader(f)}
    assert csv_rows["maestromotif[rules]"]["label"] == "learned skills, rule labels (oracle)"
    assert (tmp_path / "report.png").stat().st_size > 0
    table = render(load_report(tmp_path / "report.json"))
    assert "`maestromotif[rules]`" in table.splitlines()[0]
    assert any(x.startswith("| `maestromotif[rules]`: learned skills, rule labels (oracle) | 1 |")
               for x in table.splitlines())
    saved = json.loads((tmp_path / "eval_config.json").read_text())
    assert "rules" in json.dumps(saved)


def test_cli_form_and_bad_names(tmp_path):
    from scripts.evaluate import parser

    text = parser().format_help()
    assert "--extra_checkpoints" in text and "maestromotif[rules]" in text
    assert evaluator.parse_checkpoints("rules=a/b, other=fresh") == {"rules": "a/b", "other": "fresh"}
    for bad in ("rules", "=x", "rules=", "a=x,a=y"):
        with pytest.raises(UserError, match="extra_checkpoints"):
            evaluator.parse_checkpoints(bad)
    with pytest.raises(UserError, match="name"):
        _cfg(tmp_path, extra_checkpoints={"a b": "x"}).validate()
    # an agent naming a skill policy that is not given; a suffix on an agent without a skill policy
    with pytest.raises(UserError, match="does not give"):
        _cfg(tmp_path, agents=["maestromotif[rules]"]).validate()
    with pytest.raises(UserError, match="unknown agent"):
        _cfg(tmp_path, agents=["random_actions[rules]"], extra_checkpoints={"rules": "x"}).validate()
    # listed explicitly, the variant keeps its place; random_skills can run another skill policy too
    cfg = _cfg(tmp_path, agents=["random_actions", "random_skills[rules]", "maestromotif[rules]", "maestromotif"],
               extra_checkpoints={"rules": "fresh"}).validate()
    assert cfg.agents == ["random_actions", "random_skills[rules]", "maestromotif[rules]", "maestromotif"]
    assert cfg.checkpoint_of("random_skills[rules]") == "fresh"
    assert agents.agent_spec("random_skills[rules]").label == "random policy over skills, skill policy 'rules'"
    with pytest.raises(UserError, match="skill policy not found"):
        evaluator.run_keys(_cfg(tmp_path, extra_checkpoints={"rules": str(tmp_path / "none")}).validate())


def test_reports_name_skill_policies_in_workspace_terms(tmp_path):
    from types import SimpleNamespace

    from maestromotif.eval.report import skill_policy
    from maestromotif.workspace import default_root

    inside = str(default_root() / "train_dir/skill_policy/default")   # how the default reaches the config
    cfg = SimpleNamespace(checkpoint=inside, extra_checkpoints={"rules": str(tmp_path / "elsewhere")})
    assert skill_policy(cfg, "maestromotif") == "train_dir/skill_policy/default"
    assert skill_policy(cfg, "maestromotif[rules]") == str(tmp_path / "elsewhere")   # outside: as given
    assert skill_policy(SimpleNamespace(checkpoint=evaluator.FRESH), "maestromotif") == evaluator.FRESH
    assert skill_policy(cfg, "random_actions") is None
