"""Verdict parsing: property tests over formatting noise (maestromotif.annotation.parsing)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from maestromotif.annotation.parsing import parse_answer
from maestromotif.data.dataset import FIRST, SECOND, TIE

VERDICTS = {"1": FIRST, "2": SECOND, "None": TIE, "none": TIE, "NONE": TIE, "null": TIE, "one": FIRST, "two": SECOND}

# chain-of-thought text that never declares a verdict by itself
prose = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Zs"), max_codepoint=127), max_size=80).filter(
    lambda t: not re.search(r"best|^\s*(1|2|none|null|tie)\s*$", t, re.IGNORECASE))


@st.composite
def declaration(draw):
    """A verdict written the way LLMs write it: ("best_description": 1) and its many variants."""
    word1 = draw(st.sampled_from(["best", "Best", "BEST", "**best"]))
    sep = draw(st.sampled_from(["_", "\\_", " ", "", "-", "  ", "__"]))
    word2 = draw(st.sampled_from(["description", "Description", "DESCRIPTION"]))
    q = draw(st.sampled_from(['"', "'", "", "`", "**"]))
    colon = draw(st.sampled_from([": ", ":", " : ", " = ", " is ", ": **", ' -> ', " would be ", ":\n"]))
    vq = draw(st.sampled_from(['"', "", "'"]))
    verdict = draw(st.sampled_from(sorted(VERDICTS)))
    open_, close = draw(st.sampled_from([("(", ")"), ("{", "}"), ("", ""), ("[", "]"), ("", ".")]))
    text = f'{open_}{q}{word1}{sep}{word2}{q}{colon}{vq}{verdict}{vq}{close}'
    return text, VERDICTS[verdict]


@settings(max_examples=300, deadline=None)
@given(before=prose, decl=declaration(), after=prose)
def test_declaration_in_prose_is_read(before, decl, after):
    text, want = decl
    assert parse_answer(f"{before}\n{text}\n{after}") == want


@settings(max_examples=200, deadline=None)
@given(first=declaration(), last=declaration(), middle=prose)
def test_last_declaration_wins(first, last, middle):
    assert parse_answer(f"{first[0]} {middle} Therefore, {last[0]}") == last[1]


@settings(max_examples=200, deadline=None)
@given(text=prose)
def test_no_declaration_is_unparseable_never_a_tie(text):
    assert parse_answer(text) is None


@given(verdict=st.sampled_from(["1", "2", "None", "none"]), pad=st.sampled_from(["", " ", "\n", "  "]),
       punct=st.sampled_from(["", ".", ")", '"']))
def test_bare_verdict(verdict, pad, punct):
    assert parse_answer(f"{pad}{verdict}{punct}{pad}") == VERDICTS[verdict]


@given(n=st.integers(min_value=3, max_value=10_000))
def test_longer_numbers_are_not_verdicts(n):
    assert parse_answer(f'("best_description": {n})') is None
    assert parse_answer(f'("best_description": 1{n})') is None


def test_examples_from_llm_outputs():
    assert parse_answer('Based on the information provided, Description 1 is more likely to lead to progress '
                        'towards the goal of the game. Therefore, ("best_description": 1).') == FIRST
    assert parse_answer('I will answer ("best_description": 1), ("best_description": 2) or None.\n'
                        'Final: ("best_description": None)') == TIE
    assert parse_answer("best message is 2", key="best_message") == SECOND
    assert parse_answer('("best_description": 2)', key="best_message") is None
    assert parse_answer("") is None and parse_answer(None) is None
    assert parse_answer("The second description is better.") is None
