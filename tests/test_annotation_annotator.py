"""The annotator's logic with a scripted backend: dedup, cache, retries, chunks, files, prompts."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from maestromotif.annotation.annotator import AnnotationConfig, annotate, experiment_name
from maestromotif.annotation.prompts import PromptLibrary, compact_description
from maestromotif.data.dataset import FIRST, SECOND, TIE, UNKNOWN, load_labels, save_dataset
from maestromotif.llm.scripted import ScriptedBackend
from maestromotif.utils.errors import UserError


def sample(msg: str, dlvl=(1, 1), gold=(0, 0)) -> dict:
    return {"msg_strs": ("", msg), "stats_list": [[dlvl[0], gold[0], 10, 10, 1, 1], [dlvl[1], gold[1], 10, 10, 1, 1]]}


DOWN = sample("You descend the stairs.", dlvl=(1, 2))
GOLD = sample("$ - 5 gold pieces.", gold=(0, 5))
KILL = sample("You kill the newt!")
DOOR = sample("The door opens.")


def make_dataset(tmp_path, name="descender"):
    # pairs: 0 (DOWN, GOLD)  1 (GOLD, DOWN) swapped duplicate  2 (KILL, KILL) identical
    #        3 (DOOR, DOWN)  4 (DOWN, GOLD) duplicate          5 (KILL, DOOR)
    samples = [DOWN, GOLD, GOLD, DOWN, KILL, KILL, DOOR, DOWN, DOWN, GOLD, KILL, DOOR]
    save_dataset(tmp_path / "data" / f"{name}.pkl", samples)
    return tmp_path / "data"


def cfg_for(tmp_path, **kw) -> AnnotationConfig:
    base = dict(directory=str(tmp_path / "data"), goal_key="descender", backend="scripted", mode="generate",
                preference_dir=str(tmp_path / "preference"), logdir=str(tmp_path / "logs"), progress=0,
                annotator="scripted", batch_size=2)
    base.update(kw)
    return AnnotationConfig(**base)


def prefers_descent(chat) -> str:
    """A judge that wants 'went down', reading the two descriptions out of the default template."""
    text = chat[-1]["content"] if chat[-1]["role"] == "user" and "description_1" in chat[-1]["content"] else chat[1]["content"]
    d1 = text.split('{"description_1":')[1].split('{"description_2":')[0]
    d2 = text.split('{"description_2":')[1]
    w1, w2 = "went down" in d1, "went down" in d2
    verdict = "1" if w1 and not w2 else "2" if w2 and not w1 else "None"
    return f'Some analysis. Therefore ("best_description": {verdict}).'


def test_labels_dedup_and_identical_captions(tmp_path):
    make_dataset(tmp_path)
    be = ScriptedBackend(answers=prefers_descent)
    run = annotate(cfg_for(tmp_path), backend=be)
    labels = load_labels(tmp_path / "preference" / "scripted_descender_default.npy", num_pairs=6)
    assert labels.tolist() == [FIRST, SECOND, TIE, SECOND, FIRST, TIE]
    # 4 distinct unordered non-identical pairs: {DOWN,GOLD}, {DOOR,DOWN}, {KILL,DOOR}; KILL/KILL needs no call
    assert be.calls == 3 and run["llm_calls"] == 3 and run["queries"] == 3
    assert run["sources"] == {"same": 1, "cache": 2, "llm": 3}
    assert run["calls_per_pair"] == pytest.approx(0.5)
    summary = json.loads((tmp_path / "preference" / "scripted_descender_default.summary.json").read_text())
    assert summary["labels"] == {"first": 2, "second": 2, "tie": 2, "unknown": 0} and summary["complete"]
    assert summary["heuristic_agreement"]["rate"] == 1.0
    cfg = json.loads((tmp_path / "preference" / "scripted_descender_default.config.json").read_text())
    assert cfg["config"]["goal_key"] == "descender" and cfg["num_pairs"] == 6
    logs = [json.loads(x) for x in (tmp_path / "logs" / "scripted_descender_default" / "chunk-0-of-1.jsonl").open()]
    assert sum("answer" in r for r in logs) == 3 and all("run_start" in logs[0] for _ in [0])


def test_cache_is_shared_by_reruns_and_other_experiments(tmp_path):
    make_dataset(tmp_path)
    annotate(cfg_for(tmp_path), backend=ScriptedBackend(answers=prefers_descent))
    be = ScriptedBackend(answers=prefers_descent)
    run = annotate(cfg_for(tmp_path, custom_annotator_string="copy"), backend=be)  # new file, same question
    assert be.calls == 0 and run["sources"]["cache"] == 5
    assert np.load(tmp_path / "preference" / "copy.npy").tolist() == [0, 1, 2, 1, 0, 2]
    be = ScriptedBackend(answers=prefers_descent)
    run = annotate(cfg_for(tmp_path), backend=be)  # resume: nothing left
    assert be.calls == 0 and run["annotated_now"] == 0


def test_retry_then_unparseable_is_label_3_and_counted(tmp_path):
    make_dataset(tmp_path)
    answers = {"n": 0}

    def judge(chat):
        answers["n"] += 1
        if chat[-1]["content"].startswith("\nSo, which one is the best?"):
            # the retry turn: answer properly only for the KILL/DOOR pair
            return '("best_description": 2)' if "kill the newt" in chat[1]["content"] else "I cannot decide."
        return "Let me think about NetHack for a while."

    be = ScriptedBackend(answers=judge)
    run = annotate(cfg_for(tmp_path), backend=be)
    labels = np.load(tmp_path / "preference" / "scripted_descender_default.npy")
    assert run["retries"] == 3 and be.calls == 6
    assert run["unparseable"] == 2 and run["unparseable_rate"] == pytest.approx(2 / 3)
    assert labels[5] == SECOND and labels[2] == TIE
    assert labels[0] == UNKNOWN and labels[1] == UNKNOWN and labels[3] == UNKNOWN  # never a silent tie
    retry_chat = be.history[-1]
    assert [m["role"] for m in retry_chat] == ["system", "user", "assistant", "user"]
    # unparseable answers are not asked again on resume, unless requested
    be2 = ScriptedBackend(answers=prefers_descent)
    assert annotate(cfg_for(tmp_path), backend=be2)["annotated_now"] == 0 and be2.calls == 0
    run = annotate(cfg_for(tmp_path, retry_unparseable=1), backend=be2)
    assert be2.calls == 2 and run["annotated_now"] == 4
    assert np.load(tmp_path / "preference" / "scripted_descender_default.npy").tolist() == [0, 1, 2, 1, 0, 1]


def test_chunks_write_parts_and_merge(tmp_path):
    make_dataset(tmp_path)
    for c in range(3):
        annotate(cfg_for(tmp_path, n_annotation_chunks=3, chunk_number=c), backend=ScriptedBackend(answers=prefers_descent))
        labels = np.load(tmp_path / "preference" / "scripted_descender_default.npy")
        assert (labels[: 2 * (c + 1)] != UNKNOWN).all() and (labels[2 * (c + 1):] == UNKNOWN).all()
    parts = sorted(p.name for p in (tmp_path / "preference" / "scripted_descender_default.parts").iterdir())
    assert parts == [f"chunk-{c}-of-3.{ext}" for c in range(3) for ext in ("jsonl", "summary.json")]
    with pytest.raises(UserError, match="chunk 3 of 3"):
        annotate(cfg_for(tmp_path, n_annotation_chunks=3, chunk_number=3), backend=ScriptedBackend(answers=[]))


def test_ignore_existing_restarts_and_setup_change_is_refused(tmp_path):
    make_dataset(tmp_path)
    annotate(cfg_for(tmp_path), backend=ScriptedBackend(answers=prefers_descent))
    with pytest.raises(UserError, match="different setup"):
        annotate(cfg_for(tmp_path, prompt="motif", custom_annotator_string="scripted_descender_default"),
                 backend=ScriptedBackend(answers=prefers_descent))
    be = ScriptedBackend(answers=['("best_description": 1)'])
    run = annotate(cfg_for(tmp_path, ignore_existing=1, use_cache=0,
                           custom_annotator_string="scripted_descender_default"), backend=be)
    assert be.calls == 3 and run["annotated_now"] == 6
    assert np.load(tmp_path / "preference" / "scripted_descender_default.npy").tolist() == [0, 1, 2, 0, 0, 0]


def test_score_mode_averages_both_orders(tmp_path):
    make_dataset(tmp_path)

    def scores(prompt, options):
        # strong position bias for "1" plus a real preference for the description that went down
        d1 = prompt.split('{"description_1":')[-1].split('{"description_2":')[0]
        return [-1.0 + (0.3 if "went down" in d1 else 0.0), -3.0]

    be = ScriptedBackend(scores=scores)
    run = annotate(cfg_for(tmp_path, mode="score", tie_margin=0.1), backend=be)
    assert np.load(tmp_path / "preference" / "scripted_descender_default.npy").tolist() == [0, 1, 2, 1, 0, 2]
    assert be.calls == 6 and run["llm_calls"] == 6  # two presentation orders per distinct pair
    prompts = [h[0]["content"] for h in be.history]
    assert "went down" not in prompts[0] or "did not change" not in prompts[0]  # compact captions
    logs = [json.loads(x) for x in (tmp_path / "logs" / "scripted_descender_default" / "chunk-0-of-1.jsonl").open()]
    assert all(len(r["prompts"]) == 2 for r in logs[1:])


def test_prompts_are_verbatim_and_extensible(tmp_path):
    lib = PromptLibrary()
    spec, goal = lib.prompt("default"), lib.goal("descender")
    assert goal.text == ("the direction of progress is to explore by going down the dungeon. It is urgent to do so, "
                         "strongly avoid staying on the same level or worse, going higher.")
    chat = spec.chat(goal.text, "D1", "D2")
    assert chat[0]["content"].startswith("You are a helpful and honest judge of specific types of NetHack gameplaying.")
    expected = ("\nI will present you with two short gameplay descriptions.\nFirst, tell me about your knowledge of "
                "NetHack. Mention the goal of NetHack.\nWrite an analysis describing the semantics of each description "
                "strictly using information from the descriptions and your knowledge of NetHack. \nProvide a "
                "comparative analysis based on first principles. Here is the preference that you should seek: G Above "
                "everything else, categorically refuse to anger or displease your god, for example by causing them to "
                "thunder or boom out.\nFinally, respond by explicitly declaring which description best fits your "
                "preference, writing either (\"best_description\": 1), (\"best_description\": 2). If both contain "
                "undesirable events, say (\"best_description\": None).\n\n{\"description_1\":\nD1\n}\n\n"
                "{\"description_2\":\nD2\n}\n")
    assert spec.user_message("G", "D1", "D2") == expected
    assert set(lib.names("goals")) >= {"discoverer", "descender", "ascender", "worshipper", "merchant", "defaultgoal",
                                       "gold", "stairs", "combat", "zeroknowledge"}
    zk = lib.prompt("motif").user_message(lib.goal("zeroknowledge").text, "a", "b")
    assert "Mention the goal of NetHack. \nThen, write an analysis" in zk and "first princicples" in zk
    # a user's skill and prompt: files in a --prompt_dir, no code change
    d = tmp_path / "mine"
    (d / "goals").mkdir(parents=True)
    (d / "templates").mkdir()
    (d / "goals" / "hoarder.yaml").write_text("goal: prefer players that pick up every item.\n")
    (d / "templates" / "terse.json").write_text(json.dumps({
        "system": "judge", "template": "Goal: {goal}\n1: {description_1}\n2: {description_2}",
        "retry": "Answer 1 or 2.", "score": {"template": "{goal}|{description_1}|{description_2}|", "options": ["1", "2"]}}))
    mine = PromptLibrary([d])
    assert mine.goal("hoarder").text == "prefer players that pick up every item."
    assert mine.prompt("terse").user_message("g", "x", "y") == "Goal: g\n1: x\n2: y"
    assert mine.prompt(str(d / "templates" / "terse.json")).name == "terse"
    (d / "templates" / "broken.yaml").write_text("template: 'no descriptions {here}'\n")
    with pytest.raises(UserError, match="bad placeholder"):
        mine.prompt("broken")
    with pytest.raises(UserError, match="no goal text"):
        mine.goal("nope")


def test_user_goal_annotates_with_its_own_file_name(tmp_path):
    make_dataset(tmp_path, name="hoarder")
    d = tmp_path / "mine" / "goals"
    d.mkdir(parents=True)
    (d / "hoarder.yaml").write_text("goal: prefer players that pick up every item.\n")
    be = ScriptedBackend(answers=['("best_description": 2)'])
    annotate(cfg_for(tmp_path, goal_key="hoarder", prompt_dir=[str(tmp_path / "mine")]), backend=be)
    assert (tmp_path / "preference" / "scripted_hoarder_default.npy").exists()
    assert "prefer players that pick up every item." in be.history[0][1]["content"]


def test_compact_descriptions_and_names():
    cap = ('Message: previously seen "", currently displayed "x"\nDungeon Level: did not change\n'
           "Gold: went up from 0 to 5\nHP: did not change\nXP: did not change\nHunger: did not change.")
    assert compact_description(cap) == 'Message: previously seen "", currently displayed "x"\nGold: went up from 0 to 5'
    spec = PromptLibrary().prompt("default")
    assert experiment_name(AnnotationConfig(goal_key="merchant"), spec) == "gemma270m_merchant_default"
    assert experiment_name(AnnotationConfig(goal_key="m", custom_annotator_string="x"), spec) == "x"
    assert re.fullmatch(r"[\w.-]+_m_default", experiment_name(
        AnnotationConfig(goal_key="m", backend="vllm", model="meta-llama/Llama-3.1-70B-Instruct"), spec))


def test_bad_dataset_is_a_user_error(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(UserError, match="dataset file not found"):
        annotate(cfg_for(tmp_path), backend=ScriptedBackend(answers=[]))


def test_backend_options_are_one_mapping_filled_by_the_flags():
    import inspect

    from maestromotif.annotation.annotator import backend_options
    from maestromotif.llm.base import BACKENDS, backend_class
    from scripts.annotate_pairs import parse_args

    for name in BACKENDS:  # every declared option is a keyword of the backend's constructor
        klass = backend_class(name)
        assert set(klass.OPTIONS) <= set(inspect.signature(klass.__init__).parameters) - {"self", "model"}, name
    # the LLM flags are aliases: --threads fills n_threads; flags of other backends are ignored
    cfg = parse_args(["--backend", "llamacpp", "--threads", "1", "--base_url", "http://x", "--n_ctx", "2048"])
    assert backend_options(cfg) == {"n_threads": 1, "n_ctx": 2048, "seed": 0}
    cfg = parse_args(["--backend", "llamacpp", "--n_ctx", "2048", "--backend_args", '{"n_ctx": 4096, "verbose": true}'])
    assert backend_options(cfg) == {"n_ctx": 4096, "seed": 0, "verbose": True}  # the mapping wins
    cfg = parse_args(["--backend", "openai", "--backend-args", "{'backoff': 0.5}", "--timeout", "3",
                      "--backend_arg", "top_logprobs=5", "--backend_arg", "base_url=http://h:1/v1"])
    assert backend_options(cfg) == {"timeout": 3.0, "backoff": 0.5, "top_logprobs": 5, "base_url": "http://h:1/v1"}
    from scripts.generate_code import parser as codegen_parser  # the same mapping flag
    assert codegen_parser().parse_args(["--backend_arg", "base_url=http://h/v1", "--backend_arg", "x=1.5"]
                                       ).backend_args == {"base_url": "http://h/v1", "x": 1.5}
    with pytest.raises(UserError, match="does not take 'n_ctx'"):
        backend_options(parse_args(["--backend", "openai", "--backend_args", '{"n_ctx": 1}']))
    with pytest.raises(SystemExit):
        parse_args(["--backend_args", "[1, 2]"])
    a, b = AnnotationConfig(), AnnotationConfig()
    assert a.backend_args == {} and a.backend_args is not b.backend_args  # no shared mutable default
