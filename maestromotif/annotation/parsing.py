"""Reading the LLM's verdict ``("best_description": 1|2|None)`` out of free text.

Rules (what the property tests in tests/test_annotation_parsing.py check):

- the key is matched case-insensitively, with any of ``_``/``-``/spaces/nothing between its words,
  and with markdown escapes (``best\\_description``), quotes, bold/backticks and brackets around it;
- between the key and the verdict: ``:``, ``=``, ``->``, quotes, spaces, ``*``, and at most one
  short word (``is``, ``would be``) - so ``best description is 2`` and ``"best_description": "1"``
  both read;
- the verdict is ``1``/``2`` (not a prefix of a longer number), ``one``/``two``, or one of
  ``None``/``null``/``tie``/``neither``/``both`` (a tie);
- when the text declares several verdicts, the LAST one counts (chains of thought often restate
  the instruction's options before answering);
- an answer that is nothing but the verdict (``2``, ``None.``) reads too;
- anything else is unparseable: :func:`parse_answer` returns ``None`` (never a silent tie).
"""

from __future__ import annotations

import re
from functools import lru_cache

from maestromotif.data.dataset import FIRST, SECOND, TIE

_VERDICTS = {"1": FIRST, "one": FIRST, "2": SECOND, "two": SECOND,
             "none": TIE, "null": TIE, "tie": TIE, "neither": TIE, "both": TIE}
_VERDICT_RE = r"(1|2|one|two|none|null|tie|neither|both)(?![\w])"
_FILLER = r"[\s\"'`*_:=\-\>\)\]\}\(\[\{]*"


@lru_cache(maxsize=32)
def _pattern(key: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in re.split(r"[\s_\-]+", key.strip()) if w]
    sep = r"[\s_\-]*"
    key_re = sep.join(words)
    # filler, then at most two short connecting words ("is", "would be"), then filler, then verdict
    return re.compile(rf"{key_re}{_FILLER}(?:(?:is|would\s+be|be|will\s+be|=)\s*{_FILLER})?{_VERDICT_RE}",
                      re.IGNORECASE)


def parse_answer(text: str | None, key: str = "best_description") -> int | None:
    """FIRST (0), SECOND (1) or TIE (2) from an LLM answer; ``None`` when no verdict can be read."""
    if not text:
        return None
    clean = text.replace("\\", "")  # markdown escapes: best\_description
    matches = list(_pattern(key).finditer(clean))
    if matches:
        return _VERDICTS[matches[-1].group(1).lower()]
    bare = re.fullmatch(r"[\s\"'`*(\[{]*(1|2|none|null|tie)[\s\"'`*.)\]}]*", clean, re.IGNORECASE)
    if bare:
        return _VERDICTS[bare.group(1).lower()]
    return None
