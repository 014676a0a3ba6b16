"""Pointwise (one score per caption, all skills) and rules modes, with a scripted scoring backend."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maestromotif.annotation.annotator import AnnotationConfig, annotate
from maestromotif.annotation.pointwise import pair_label
from maestromotif.annotation.prompts import PromptLibrary
from maestromotif.data.dataset import FIRST, SECOND, TIE, load_labels, save_dataset
from maestromotif.llm.scripted import ScriptedBackend
from maestromotif.utils.errors import UserError


def sample(msg: str, dlvl=(1, 1), gold=(0, 0), hp=10) -> dict:
    return {"msg_strs": ("", msg), "stats_list": [[dlvl[0], gold[0], 10, 10, 1, 1], [dlvl[1], gold[1], hp, 10, 1, 1]]}


DOWN = sample("", dlvl=(1, 2))
UP = sample("", dlvl=(2, 1))
GOLD = sample("$ - 5 gold pieces.", gold=(0, 5))
DOOR = sample("The door opens.")
DOOR_HURT = sample("The door opens.", hp=9)  # differs only in a line the pointwise prompt hides


def query_caption(prompt: str) -> str:
    return prompt.rsplit("Event:\n", 1)[1]


def judge(prompt: str, options) -> list[float]:
    """Log-probs of the label words: reads only the caption being asked about (after the examples)."""
    cap = query_caption(prompt)
    want = " gold" if "gold pieces" in cap else " down" if "Level: went down" in cap else \
        " up" if "Level: went up" in cap else " nothing"
    return [0.0 if o == want else -4.0 for o in options]


def make(tmp_path, skill="descender"):
    # pairs: 0 (DOWN, DOOR)  1 (DOOR, UP)  2 (DOOR, DOOR_HURT) same to the model  3 (GOLD, DOWN)  4 (UP, DOWN)
    save_dataset(tmp_path / "data" / f"{skill}.pkl", [DOWN, DOOR, DOOR, UP, DOOR, DOOR_HURT, GOLD, DOWN, UP, DOWN])


def cfg(tmp_path, **kw) -> AnnotationConfig:
    base = dict(directory=str(tmp_path / "data"), goal_key="descender", backend="scripted", mode="pointwise",
                prompt="classify", preference_dir=str(tmp_path / "pref"), logdir=str(tmp_path / "logs"), progress=0,
                annotator="t", batch_size=2)
    base.update(kw)
    return AnnotationConfig(**base)


def test_pointwise_labels_calls_and_shared_cache(tmp_path):
    make(tmp_path)
    make(tmp_path, "ascender")
    spec = PromptLibrary().prompt("classify").pointwise
    be = ScriptedBackend(scores=judge)
    run = annotate(cfg(tmp_path), backend=be)
    labels = load_labels(tmp_path / "pref" / "t_descender_classify.npy", num_pairs=5)
    assert labels.tolist() == [FIRST, TIE, TIE, SECOND, SECOND]  # UP vs DOOR: neither is a descent
    # distinct rendered captions: DOWN, DOOR, UP, GOLD (DOOR_HURT renders as DOOR) -> 4 x orderings calls
    assert run["llm_calls"] == 4 * spec.orderings == be.calls
    assert run["distinct_captions_scored"] == 4
    assert run["sources"]["same"] == 1
    # the ascender reuses every caption score: no LLM call at all
    be2 = ScriptedBackend(scores=judge)
    run2 = annotate(cfg(tmp_path, goal_key="ascender"), backend=be2)
    assert be2.calls == 0 and run2["llm_calls"] == 0
    up = load_labels(tmp_path / "pref" / "t_ascender_classify.npy", num_pairs=5)
    assert up.tolist() == [TIE, SECOND, TIE, TIE, FIRST]
    side = json.loads((tmp_path / "pref" / "t_descender_classify.config.json").read_text())
    assert side["fingerprint"]["mode"] == "pointwise" and side["fingerprint"]["prompt"]["name"] == "classify"
    assert side["fingerprint"]["skill_labels"] == ["down"]


def test_pointwise_resume_after_partial_run(tmp_path):
    make(tmp_path)
    annotate(cfg(tmp_path, n_annotation_chunks=2, chunk_number=0), backend=ScriptedBackend(scores=judge))
    be = ScriptedBackend(scores=judge)
    run = annotate(cfg(tmp_path), backend=be)  # whole file: chunk 0's pairs are done, their captions cached
    assert run["already_done"] == 2
    labels = load_labels(tmp_path / "pref" / "t_descender_classify.npy", num_pairs=5)
    assert labels.tolist() == [FIRST, TIE, TIE, SECOND, SECOND]
    assert be.calls == 1 * PromptLibrary().prompt("classify").pointwise.orderings  # only GOLD was new


def test_pointwise_needs_logprobs(tmp_path):
    make(tmp_path)
    with pytest.raises(UserError, match="cannot read log-probabilities") as e:
        annotate(cfg(tmp_path, backend="hf_inference"), backend=_NoScore())
    assert "--mode generate" in str(e.value.expected) and "--mode rules" in str(e.value.expected)
    nan = ScriptedBackend(scores=lambda p, o: [float("nan")] * len(o))  # a server that sends no logprobs
    with pytest.raises(UserError, match="no log-probabilities"):
        annotate(cfg(tmp_path), backend=nan)


def test_pointwise_prompt_errors(tmp_path):
    make(tmp_path)
    with pytest.raises(UserError, match="no 'pointwise' section"):
        annotate(cfg(tmp_path, prompt="default"), backend=ScriptedBackend(scores=judge))
    save_dataset(tmp_path / "data" / "gold.pkl", [DOWN, DOOR])
    with pytest.raises(UserError, match="no label for goal 'gold'"):
        annotate(cfg(tmp_path, goal_key="gold"), backend=ScriptedBackend(scores=judge))


def test_rules_mode_is_an_oracle_without_llm(tmp_path):
    make(tmp_path)
    run = annotate(cfg(tmp_path, mode="rules", annotator=None, prompt="default"))
    labels = load_labels(tmp_path / "pref" / "rules_descender_captionrules.npy", num_pairs=5)
    assert labels.tolist() == [FIRST, TIE, TIE, SECOND, SECOND]
    assert run["llm_calls"] == 0 and run["backend"] is None
    assert run["heuristic_agreement"]["rate"] == 1.0


def test_pair_label_margin():
    assert pair_label(0.2, 0.1) == FIRST and pair_label(-0.2, 0.1) == SECOND and pair_label(0.05, 0.1) == TIE
    assert np.isclose(0.1, 0.1)


class _NoScore(ScriptedBackend):
    name = "hf_inference"
    supports_score = False


def test_classify_prompt_covers_the_skills():
    from maestromotif.skills.table import SKILL_NAMES

    spec = PromptLibrary().prompt("classify").pointwise
    for skill in SKILL_NAMES:
        assert spec.skill_labels(skill)
    assert len(spec.prefixes()) == spec.orderings and len(set(spec.prefixes())) == spec.orderings
    assert all("did not change" not in e.caption and "previously" not in e.caption for e in spec.examples)
    cap = "\n".join(['Message: previously seen "a", currently displayed "You kill it!"', "Dungeon Level: did not change",
                     "Gold: did not change", "HP: went down from 9/10 to 8/10", "XP: went up from 1 to 2",
                     "Hunger: did not change."])
    assert spec.render(cap) == 'Message: "You kill it!"\nXP: went up from 1 to 2'


def test_bad_pointwise_file_names_the_file(tmp_path):
    bad = tmp_path / "templates" / "mine.yaml"
    bad.parent.mkdir()
    bad.write_text("pointwise:\n  header: x\n  example: '{caption} {label}'\n  query: '{caption}'\n"
                   "  labels: {a: ' a', b: ' b'}\n  skills: {descender: [c]}\n  examples: []\n")
    with pytest.raises(UserError, match="skills does not map") as e:
        PromptLibrary([tmp_path]).prompt("mine")
    assert str(bad) in str(e.value)
