"""Every path of the generate -> run -> check -> rewrite loop, with recorded answers (scripted backend).

The good answer is the recorded one shipped for `gnomish`; the bad ones are edits of it.
"""

import json
import shutil
from pathlib import Path

import pytest

from maestromotif.codegen.loop import CodegenConfig, GenerationFailed, generate, parse_verdict
from maestromotif.llm.scripted import ScriptedBackend

ROOT = Path(__file__).resolve().parents[1]
RECORDED = json.loads((ROOT / "code_generation/gnomish/recorded_answers.json").read_text())
GOOD, YES = RECORDED
MARK = "        # Find the Gnomish Mines: shops and altars are not part of the task.\n"
assert MARK in GOOD


def edit(before: str = "", top: str = "") -> str:
    """The good answer with code inserted at the start of perform_task and/or at the top of the block."""
    return GOOD.replace(MARK, before + MARK).replace("```python\n", "```python\n" + top, 1)


SYNTAX = GOOD.replace("def perform_task(self,", "def perform_task(self")
RAISES = edit(before="        raise RuntimeError('boom in perform_task')\n")
LOOPS = edit(before="        while True:\n            pass\n")
NO = "No. The player never reaches the Gnomish Mines in this output."


@pytest.fixture
def cfg(tmp_path):
    out = tmp_path / "meta_policies"
    shutil.copytree(ROOT / "rl_baseline/meta_policies/exploration", out / "exploration")
    return CodegenConfig(task="gnomish", backend="scripted", out=str(out), logdir=str(tmp_path / "logs"),
                         run_timeout=3.0, max_rewrites=3)


def events(result_or_cfg):
    log = Path(result_or_cfg.logdir) / "gnomish/seed42/log.jsonl" if isinstance(result_or_cfg, CodegenConfig) \
        else result_or_cfg.log
    return [json.loads(line) for line in log.read_text().splitlines()]


def target(cfg):
    return Path(cfg.out) / "gnomish/seed42/execution.py"


def test_good_code_is_accepted_validated_and_written_with_a_header(cfg):
    llm = ScriptedBackend(answers=[GOOD, YES])
    r = generate(cfg, llm)
    assert r.path == target(cfg) and r.rounds == {"perform_task": 0} and llm.calls == 2
    text = r.path.read_text()
    assert text.startswith("# Policy over skills for the task 'gnomish'")
    assert "backend 'scripted'" in text and "rewrite rounds per stage: perform_task 0" in text
    assert r.validation["ok"] and sum(r.validation["stats"]["calls"].values()) > 2000
    gen = json.loads(r.path.with_name("generation.json").read_text())
    assert gen["config"]["task"] == "gnomish" and gen["rounds"] == {"perform_task": 0}
    ev = events(r)
    roles = [e["role"] for e in ev if e["event"] == "message"]
    assert roles == ["user", "assistant", "user", "assistant"]  # prompt, code, check, verdict
    prompt = next(e["content"] for e in ev if e["event"] == "message")
    assert "You are now faced with the task of finding the Gnomish Mines." in prompt
    assert "def reach_gnomish_mines" in prompt and "def skill_termination" not in prompt  # previous code
    check = [e["content"] for e in ev if e["event"] == "message" and e["role"] == "user"][1]
    assert "Reached the Gnomish Mines!" in check or "Turn 1: Skill = discoverer" in check
    # the shipped termination/precondition functions are combined in, the unit test is not
    assert "def skill_precondition" in text and "for turn in range" not in text


@pytest.mark.parametrize("bad, status, says", [
    (SYNTAX, "syntax", "SyntaxError"),
    (RAISES, "error", "RuntimeError: boom in perform_task"),
    (LOOPS, "timeout", "did not finish within 3.0 s"),
    ("Sorry, I can only describe the strategy in words.", "no_code", "contains no Python code"),
])
def test_broken_code_is_sent_back_with_the_error_and_the_rewrite_is_accepted(cfg, bad, status, says):
    llm = ScriptedBackend(answers=[bad, GOOD, YES])
    r = generate(cfg, llm)
    assert r.rounds == {"perform_task": 1} and llm.calls == 3
    ev = events(r)
    first = next(e for e in ev if e["event"] == "evaluation")
    assert first["status"] == status
    if status == "timeout":
        assert first["seconds"] < 8
    rewrite_prompt = [e["content"] for e in ev if e["event"] == "message" and e["role"] == "user"][1]
    assert says in rewrite_prompt and "Go through your code, line by line" in rewrite_prompt


@pytest.mark.parametrize("attack, reason", [
    ("import os\nos.remove({sentinel!r})\n", "imports 'os'"),
    ("import shutil\nshutil.rmtree({parent!r})\n", "imports 'shutil'"),
    ("import socket\nsocket.create_connection(('127.0.0.1', 80)).sendall(open({sentinel!r}).read().encode())\n",
     "imports 'socket'"),
])
def test_code_that_deletes_files_or_opens_sockets_is_refused_before_running(cfg, tmp_path, attack, reason):
    sentinel = tmp_path / "precious" / "keep.txt"
    sentinel.parent.mkdir()
    sentinel.write_text("do not touch")
    before = sorted(p.name for p in tmp_path.iterdir())
    bad = edit(top=attack.format(sentinel=str(sentinel), parent=str(sentinel.parent)))
    llm = ScriptedBackend(answers=[bad, GOOD, YES])
    r = generate(cfg, llm)
    first = next(e for e in events(r) if e["event"] == "evaluation")
    assert first["status"] == "refused" and reason in first["detail"] and first["seconds"] == 0.0  # never ran
    assert sentinel.read_text() == "do not touch"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({*before, "logs"})  # only the loop's own log
    assert [p.name for p in sentinel.parent.iterdir()] == ["keep.txt"]
    rewrite_prompt = [e["content"] for e in events(r) if e["event"] == "message" and e["role"] == "user"][1]
    assert "refused by the safety screen" in rewrite_prompt and reason in rewrite_prompt


def test_a_no_from_the_checker_leads_to_a_rewrite(cfg):
    llm = ScriptedBackend(answers=[GOOD, NO, GOOD, YES])
    r = generate(cfg, llm)
    assert r.rounds == {"perform_task": 1} and llm.calls == 4
    verdicts = [e["verdict"] for e in events(r) if e["event"] == "verdict"]
    assert verdicts == [False, True]
    users = [e["content"] for e in events(r) if e["event"] == "message" and e["role"] == "user"]
    assert users[2].startswith("Go through your code, line by line")  # the paper's simulate-and-rewrite prompt


def test_code_that_passes_its_unit_test_but_fails_validation_is_sent_back(cfg):
    # the unit test only visits branches 0 and 2; the validation also visits Sokoban (branch 4)
    bad = edit(before="        if branch_number == 4:\n            return None\n")
    llm = ScriptedBackend(answers=[bad, YES, GOOD, YES])
    r = generate(cfg, llm)
    assert r.rounds == {"perform_task": 1}
    val = [e for e in events(r) if e["event"] == "validation"]
    assert not val[0]["ok"] and "returned None" in val[0]["problems"][0] and val[1]["ok"]
    users = [e["content"] for e in events(r) if e["event"] == "message" and e["role"] == "user"]
    assert "failed when it was called on random game situations" in users[2] and "returned None" in users[2]


def test_max_rewrites_exhaustion_writes_nothing_and_keeps_an_existing_file(cfg):
    existing = target(cfg)
    existing.parent.mkdir(parents=True)
    existing.write_text("# the previous policy\n")
    cfg.max_rewrites = 2
    llm = ScriptedBackend(answers=[SYNTAX])
    with pytest.raises(GenerationFailed, match="after 2 rewrite"):
        generate(cfg, llm)
    assert llm.calls == 3  # first answer + 2 rewrites
    assert existing.read_text() == "# the previous policy\n"
    assert not existing.with_name("generation.json").exists()
    assert events(cfg)[-1]["event"] == "failed"


def test_a_missing_exploration_policy_is_a_clear_error(cfg):
    shutil.rmtree(Path(cfg.out) / "exploration")
    from maestromotif.utils.errors import UserError
    with pytest.raises(UserError, match="--task exploration"):
        generate(cfg, ScriptedBackend(answers=[GOOD, YES]))


def test_an_interrupted_run_resumes_from_the_last_accepted_stage(tmp_path):
    answers = json.loads((ROOT / "code_generation/exploration/recorded_answers.json").read_text())
    cfg = CodegenConfig(task="exploration", backend="scripted", out=str(tmp_path / "out"),
                        logdir=str(tmp_path / "logs"))
    served = []

    def crash_after_two_stages(chat):
        if len(served) == 4:
            raise KeyboardInterrupt  # the process dies mid-run (termination and precondition accepted)
        served.append(answers[len(served)])
        return served[-1]

    with pytest.raises(KeyboardInterrupt):
        generate(cfg, ScriptedBackend(answers=crash_after_two_stages))
    assert not (tmp_path / "out/exploration/seed42/execution.py").exists()
    saved = sorted(p.name for p in (tmp_path / "logs/exploration/seed42/stages").iterdir())
    assert saved == ["precondition.json", "termination.json"]
    rest = ScriptedBackend(answers=answers[4:])
    r = generate(cfg, rest)
    assert rest.calls == 6 and r.path.exists()
    assert "select_skill" in rest.history[0][1]["content"]  # the rerun started at the third stage


def test_parse_verdict():
    assert parse_verdict("Yes, the output is correct.") is True
    assert parse_verdict("**No**. It never descends.") is False
    assert parse_verdict("The output seems right: yes.") is True
    assert parse_verdict("I think it is fine.") is None
