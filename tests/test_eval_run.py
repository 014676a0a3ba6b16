"""The evaluator end to end on the real game: records, reports, parallel workers, resuming, recordings."""

import argparse
import bz2
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maestromotif.eval import evaluator
from maestromotif.eval.agents import ALWAYS_AVAILABLE, RandomActionAgent, random_skill_policy
from maestromotif.eval.deaths import CAUSES
from maestromotif.eval.main_eval import eval_config_from_main_cfg
from maestromotif.eval.report import markdown
from maestromotif.nethack.env import make_env
from maestromotif.utils.errors import UserError

ROOT = Path(__file__).resolve().parents[1]


def _cfg(out, **kw):
    base = dict(tasks=["gnomish", "transactions"], agents=["random_actions"], episodes=3, max_episode_steps=150,
                out=str(out))
    base.update(kw)
    return evaluator.EvalConfig(**base)


def _outcomes(out):
    recs = evaluator.EpisodeStore(Path(out) / evaluator.EPISODES_FILE).load()
    return sorted((r["task"], r["agent"], r["episode"], r["proxy"], r["exact"], r["steps"], r["end"]) for r in recs)


def test_episode_records_and_report(tmp_path):
    report = evaluator.evaluate(_cfg(tmp_path), show_progress=False)
    recs = evaluator.EpisodeStore(tmp_path / evaluator.EPISODES_FILE).load()
    assert len(recs) == 6
    for r in recs:
        assert set(evaluator.EPISODE_FIELDS) - {"ttyrec", "html"} <= set(r)
        assert r["steps"] <= 150 and r["end"] in ("max_steps", "success") or r["end"].isalpha()
        assert 0 < r["progression"] < 1 and r["turns"] > 0
    rows = {(r["task"], r["agent"]): r for r in report["rows"]}
    assert rows[("gnomish", "random_actions")]["n"] == 3 and rows[("gnomish", "random_actions")]["metric"] == "success"
    assert rows[("transactions", "random_actions")]["metric"] == "count"
    for name in ("report.json", "report.csv", "report.md", "report.png", "eval_config.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert "| Gnomish Mines | random_actions | 3 |" in (tmp_path / "report.md").read_text()
    md = (tmp_path / "report.md").read_text()
    assert "Causes of the ends per agent" in md and "Ends (causes)" in md
    for r in recs:
        assert r["death"]["cause"] in CAUSES and (r["death"]["messages"] or r["death"]["cause"] in ("alive", "timeout"))
    assert sum(rows[("gnomish", "random_actions")]["deaths"].values()) == 3
    assert "deaths" in (tmp_path / "report.csv").read_text().splitlines()[0]
    assert json.loads((tmp_path / "report.json").read_text())["rows"][0]["task"] == "gnomish"


def test_same_seed_same_episode_and_parallel_workers_agree(tmp_path):
    evaluator.evaluate(_cfg(tmp_path / "one"), show_progress=False)
    evaluator.evaluate(_cfg(tmp_path / "two", num_workers=2), show_progress=False)
    assert _outcomes(tmp_path / "one") == _outcomes(tmp_path / "two")


def test_results_of_other_settings_are_not_mixed(tmp_path):
    evaluator.evaluate(_cfg(tmp_path, episodes=1), show_progress=False)
    with pytest.raises(UserError, match="other settings"):
        evaluator.evaluate(_cfg(tmp_path, episodes=1, max_episode_steps=99), show_progress=False)
    # more episodes with the same settings: only the new ones run
    evaluator.evaluate(_cfg(tmp_path, episodes=2), show_progress=False)
    assert len(evaluator.EpisodeStore(tmp_path / evaluator.EPISODES_FILE).load()) == 4


@pytest.mark.slow
def test_resume_after_kill_9(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "scripts.evaluate", "--task", "gnomish", "--agents", "random_actions",
           "--episodes", "60", "--max_episode_steps", "400", "--out", str(out), "--progress", "False"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    episodes = out / evaluator.EPISODES_FILE
    deadline = time.time() + 60
    while time.time() < deadline and (not episodes.exists() or episodes.read_bytes().count(b"\n") < 5):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(evaluator.EpisodeStore(episodes).load())
    assert 5 <= done_before < 60
    with open(episodes, "ab") as f:
        f.write(b'{"task": "gnomish", "agent": "rand')  # a torn line, as a kill mid-write would leave
    cfg = evaluator.EvalConfig(tasks=["gnomish"], agents=["random_actions"], episodes=60, max_episode_steps=400, out=str(out))
    evaluator.evaluate(cfg, show_progress=False)
    recs = evaluator.EpisodeStore(episodes).load()
    assert sorted(r["episode"] for r in recs) == list(range(60))


def test_record_keeps_ttyrecs_and_renders_html(tmp_path):
    rec = tmp_path / "rec"
    evaluator.evaluate(_cfg(tmp_path / "out", tasks=["gnomish"], episodes=2, record=str(rec)), show_progress=False)
    recs = evaluator.EpisodeStore(tmp_path / "out" / evaluator.EPISODES_FILE).load()
    ttyrecs = sorted(Path(r["ttyrec"]) for r in recs)
    assert [p.name for p in ttyrecs] == ["ep00000.ttyrec3.bz2", "ep00001.ttyrec3.bz2"]
    assert len(bz2.decompress(ttyrecs[0].read_bytes())) > 1000  # terminal output of the game
    pages = list(rec.glob("*.html"))
    assert [p.name for p in pages] == ["gnomish_random_actions_ep00000.html"]  # --render_episodes 1
    page = pages[0].read_text()
    frames = json.loads(page.split("const FRAMES = ", 1)[1].split(";\n", 1)[0])
    assert len(frames) == recs[0]["steps"] + 1 and frames[0]["c"].startswith("step 0")
    assert "Agent the Candidate" in "".join(row[0] for row in frames[0]["r"].values())
    assert not [p for p in rec.iterdir() if p.name.startswith(".ttyrec-")]  # temporary folders removed


def test_random_skill_policy_only_picks_skills_whose_initiation_holds():
    class Player:
        def __init__(self, max_depth, branch_depth):
            pass

        def set_initial_values(self):
            self.skill = "merchant"

        def perform_task(self, *a):
            return "merchant"

    rng = random.Random(0)
    cls = random_skill_policy(Player, rng)
    p = cls(-1, -1)
    p.set_initial_values()
    assert p.skill in ALWAYS_AVAILABLE
    picks = {p.perform_task("discoverer", 1, 0, False, False) for _ in range(200)}
    assert picks == set(ALWAYS_AVAILABLE)
    picks = {p.perform_task("discoverer", 1, 0, True, True) for _ in range(400)}
    assert picks == set(ALWAYS_AVAILABLE) | {"merchant", "worshipper"}


class Searcher:
    """Searches in place every step (survives a short episode)."""

    name = "searcher"
    skill = None

    def reset(self, obs, info):
        pass

    def act(self, obs, info):
        from maestromotif.nethack.actions import ACTION_INDEX

        return ACTION_INDEX["search"]

    def stats(self):
        return {}


def test_episode_end_reasons():
    env = make_env(max_episode_steps=40)
    rec = evaluator.play(env, Searcher(), "transactions", game_seed=1)
    assert (rec["steps"], rec["end"]) == (40, "max_steps") and rec["turns"] > 20  # a Monk is fast
    rec = evaluator.play(env, RandomActionAgent(random.Random(0)), "gnomish", game_seed=2)  # dies within 40 steps
    assert rec["end"] == "died" and rec["steps"] < 40
    env.close()


def test_random_action_agent_plays_a_real_game():
    env = make_env(max_episode_steps=50)
    agent = RandomActionAgent(random.Random(0))
    rec = evaluator.play(env, agent, "gnomish", game_seed=3)
    assert rec["steps"] <= 50 and rec["proxy"] is False and rec["exact"] is False
    env.close()


def test_original_command_form_maps_to_the_evaluation(tmp_path):
    cfg = argparse.Namespace(train_dir=str(tmp_path / "train_dir/skill_policy"), experiment="default", code_seed=-1,
                             seed=2, eval_target="goldenexit", num_workers=24, evaluation=True)
    e = eval_config_from_main_cfg(cfg)
    assert e.tasks == ["goldenexit"] and e.agents == ["maestromotif"] and e.code_seed == 2 and e.seed == 2
    assert e.checkpoint == str(tmp_path / "train_dir/skill_policy/default")
    assert e.out == str(tmp_path / "train_dir/skill_policy/default/eval/goldenexit")
    assert 1 <= e.num_workers <= (os.cpu_count() or 1)
    with pytest.raises(UserError, match="eval_target"):
        eval_config_from_main_cfg(argparse.Namespace(eval_target="none"))


def test_cli_help_explains_every_flag():
    from scripts.evaluate import parser

    p = parser()
    for action in p._actions:
        if action.option_strings and action.dest != "help":
            assert action.help, action.option_strings
    text = p.format_help()
    for flag in ("--task", "--episodes", "--num_workers", "--num-workers", "--checkpoint", "--record", "--agents",
                 "--max_episode_steps", "--out", "--seed"):
        assert flag in text


def test_bad_input_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="unknown task"):
        evaluator.evaluate(_cfg(tmp_path, tasks=["oracle"]), show_progress=False)
    with pytest.raises(UserError, match="unknown agent"):
        evaluator.evaluate(_cfg(tmp_path, agents=["llm"]), show_progress=False)
    with pytest.raises(UserError, match="policy over skills not found"):
        evaluator.evaluate(_cfg(tmp_path, agents=["random_skills"], meta_policies=str(tmp_path / "none"),
                        checkpoint=evaluator.FRESH), show_progress=False)


def test_markdown_shows_the_paper_next_to_maestromotif():
    report = {"config": {"max_episode_steps": 10, "seed": 0, "episodes": 2, "checkpoint": "x"}, "paper_source": "T1",
              "rows": [{"task": "gnomish", "title": "Gnomish Mines", "kind": "navigation", "metric": "success",
                        "agent": "maestromotif", "n": 2, "proxy_mean": 0.5, "proxy_se": 0.5, "exact_mean": 0.5,
                        "exact_se": 0.5, "progression_mean": 0.02, "progression_se": 0.0, "steps_mean": 10.0,
                        "died": 0.0, "paper": 0.46, "paper_pm": 0.017}]}
    assert "| Gnomish Mines | maestromotif | 2 | 46.0% ± 1.7% | 50.0% ± 50.0% | 50.0% ± 50.0% |" in markdown(report)


NODE_HARNESS = r"""
const fs = require("fs");
const page = fs.readFileSync(process.argv[2], "utf8");
const script = page.split("<script>")[1].split("</script>")[0];
const els = {};
const document = { getElementById: (id) => (els[id] = els[id] || { textContent: "", innerHTML: "", value: 0 }),
                   addEventListener: () => {} };
const setTimeout = () => 0;
eval(script.replace("show(0); tick();", ""));
const out = [];
for (const i of JSON.parse(process.argv[3])) {
  show(i);
  out.push(els.screen.innerHTML.replace(/<[^>]+>/g, "").replace(/&lt;/g, "<").replace(/&amp;/g, "&"));
}
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(not shutil.which("node"), reason="needs node to run the page's JavaScript")
def test_html_player_shows_the_recorded_screens(tmp_path):
    from maestromotif.eval.recording import FrameRecorder, write_html

    env = make_env(max_episode_steps=60)
    rec, screens = FrameRecorder(), []
    obs, _ = env.reset(seed=4)
    rng = random.Random(0)
    for step in range(60):
        rec.add(obs, f"step {step}")
        screens.append(["".join(c if 32 <= ord(c) < 127 else " " for c in bytes(r).decode("latin-1"))
                        for r in obs["tty_chars"]])
        obs, _, done, trunc, _ = env.step(rng.randrange(28))
        if done or trunc:
            break
    env.close()
    page = write_html(tmp_path / "ep.html", rec, "test")
    (tmp_path / "h.js").write_text(NODE_HARNESS)
    picks = [0, len(screens) // 2, len(screens) - 1, 1]  # forwards, then backwards
    out = subprocess.run(["node", str(tmp_path / "h.js"), str(page), json.dumps(picks)], capture_output=True,
                         text=True, check=True).stdout
    for i, shown in zip(picks, json.loads(out)):
        assert shown.split("\n") == screens[i]


def test_ceiling_flag_adds_the_scripted_agent_or_says_it_is_missing(monkeypatch, tmp_path):
    from maestromotif.eval import agents

    cfg = _cfg(tmp_path, agents=["maestromotif", "random_skills", "random_actions"], ceiling=True)
    if agents.CEILING_AGENT not in agents.AGENTS:
        with pytest.raises(UserError, match="scripted_skills.*not registered"):
            cfg.validate()
        spec = agents.AgentSpec(agents.CEILING_AGENT, "test stand-in", True, lambda ctx: None)
        monkeypatch.setitem(agents.AGENTS, agents.CEILING_AGENT, spec)
    assert cfg.validate().agents == ["maestromotif", "scripted_skills", "random_skills", "random_actions"]
    assert agents.with_ceiling(["random_actions"]) == ["scripted_skills", "random_actions"]
    from scripts.evaluate import parser

    assert parser().parse_args(["--task", "all", "--ceiling"]).ceiling is True
    assert parser().parse_args(["--task", "all"]).ceiling is False
