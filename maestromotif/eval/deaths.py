"""How an episode ended: a cause of death (or survival) from NetHack's end type and the last messages.

NLE ends a game with an end type (``nethack.how_done()``: died, choking, poisoning, starving, drowning,
...) but not the killer's name, and the tombstone is gone once the end-of-game questions are answered
(the final screen only says "Goodbye"). The messages of the last steps do name it: "The jackal bites!
You die...", "Suddenly, a bolt of lightning strikes you!  You fry to a crisp!", "You die from your
illness.". :func:`classify` reads them with two tables:

- :data:`END_CAUSES`: end types that are a cause by themselves (choking, starvation, drowning, ...);
- :data:`MESSAGE_RULES`: (cause, pattern) rules tried on the messages, newest step first, for the end
  types that need a reason (``died``, ``poisoning``). In the newest step that any rule matches, the
  match latest in the step wins (the last blow), ties going to the earlier rule; a monster's name is
  read from its attack message.

Causes (:data:`CAUSES`): ``alive`` (the task was done), ``timeout`` (the step limit), and the deaths.
``tests/test_eval_deaths.py`` checks the rules on real game ends made in wizard mode and on recorded
message lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Every cause, in the order reports list them, with what it means.
CAUSES: dict[str, str] = {
    "alive": "the task was done (the episode ended on success)",
    "timeout": "the step limit cut the episode (alive)",
    "monster": "killed by a monster (detail: which)",
    "prayer": "killed by an angry god: lightning, disintegration or a summoned minion after a bad prayer",
    "vault_guard": "killed by a vault guard (trapped in a closed vault with gold)",
    "food_poisoning": "died of eating a tainted (rotten) corpse",
    "illness": "died of an illness that was not food poisoning",
    "poison": "a deadly poison (a sting, a potion)",
    "choking": "choked on food while satiated",
    "starvation": "starved",
    "drowning": "drowned",
    "burning": "burned (lava, fire)",
    "petrification": "turned to stone",
    "trap": "killed by a trap",
    "self_harm": "hurt itself to death (kicking a wall, ...)",
    "other_death": "another end of the game (crushed, dissolved, slimed, genocided)",
    "left_dungeon": "climbed out of the dungeon (escaped) or quit",
    "unknown": "the game ended and no rule matched the last messages",
}

# End types (the evaluator's ``end``) that are a cause by themselves.
END_CAUSES: dict[str, str] = {
    "success": "alive", "max_steps": "timeout", "choking": "choking", "starving": "starvation",
    "drowning": "drowning", "burning": "burning", "stoning": "petrification", "dissolved": "other_death",
    "crushing": "other_death", "turned_slime": "other_death", "genocided": "other_death",
    "escaped": "left_dungeon", "quit": "left_dungeon", "ascended": "alive",
}

# Attack verbs of monster messages ("The jackal bites!", "The goblin thrusts his crude dagger.").
_VERBS = ("hits|bites|stings|butts|kicks|claws|scratches|touches|thrusts|swings|smites|crushes|engulfs|"
          "digests|explodes|breathes|spits|casts|shoots|throws|zaps|gazes|squeezes|whips|lashes|slashes|"
          "stabs|grabs|tickles|burns|misses|just misses|drowns you|hugs|headbutts|pummels|strikes|fires|"
          "blasts|attacks|punches|bashes|gores")
MONSTER_ATTACK = re.compile(rf"(?:^|[.!]\s+)(?P<mon>The [^.!?]+?|It)(?:'s [a-z]+)? (?:{_VERBS})\b")
# A god's minion is named after its god: "the fire elemental of Chih Sung-tzu".
MINION = re.compile(r"^(?:[Tt]he )?(?P<kind>.+?) of (?P<god>[A-Z][\w' -]+)$")
FOOD_POISONING_SIGN = re.compile(r"was tainted|You feel deathly sick")

# (cause, pattern) tried on each step's messages, newest step first; in a step the latest match wins.
MESSAGE_RULES: tuple[tuple[str, re.Pattern], ...] = (
    ("prayer", re.compile(r"bolt of lightning|fry to a crisp|wide-angle disintegration beam|Thou hast angered me"
                          r"|Thou durst (?:call|suffer)|Thou hast strayed|You feel that \S.* is displeased")),
    ("food_poisoning", re.compile(r"You die from your illness")),  # refined by FOOD_POISONING_SIGN
    ("poison", re.compile(r"The poison was deadly")),
    ("starvation", re.compile(r"You die from starvation|You faint from lack of food")),
    ("choking", re.compile(r"You choke over")),
    ("trap", re.compile(r"shoots out at you|A trap door|falling rock|KABOOM|land mine|bear trap|rolling boulder"
                        r"|tower of flame|gush of water|You fall into (?:a|the) (?:spiked )?pit|sleeping gas"
                        r"|magical explosion|You are caught in a web")),
    ("self_harm", re.compile(r"Ouch!  That hurts|Dumb move!|WHAMM|You hurt your")),
    ("monster", MONSTER_ATTACK),
)


@dataclass(frozen=True)
class Death:
    cause: str       # a key of CAUSES
    detail: str = ""  # the monster, the god's punishment, the end type, ...

    def label(self) -> str:
        return f"{self.cause} ({self.detail})" if self.detail else self.cause


def _monster(text: str) -> str | None:
    m = MONSTER_ATTACK.search(text)
    if not m:
        return None
    name = m.group("mon")
    return "unseen monster" if name == "It" else name[4:]


def _rule_detail(cause: str, text: str, earlier: Sequence[str]) -> Death:
    if cause == "monster":
        name = _monster(text) or "unknown"
        minion = MINION.match(name)
        if minion and "Yendor" not in name:  # "the fire elemental of Chih Sung-tzu": a god's minion
            return Death("prayer", f"minion: {minion.group('kind')}")
        if name in ("guard", "vault guard"):
            return Death("vault_guard", name)
        return Death("monster", name)
    if cause == "food_poisoning":
        return Death("food_poisoning" if any(FOOD_POISONING_SIGN.search(m) for m in earlier) else "illness")
    if cause == "prayer":
        for detail, pat in (("lightning", "lightning|fry to a crisp"), ("disintegration", "disintegration"),
                            ("displeased god", "displeased")):
            if re.search(pat, text):
                return Death("prayer", detail)
        return Death("prayer", "angry god")
    return Death(cause)


def classify(end: str | None, steps: Iterable[Sequence[str]], earlier: Sequence[str] = ()) -> Death:
    """The cause of an episode's end.

    ``end`` is the evaluator's ``end`` (``success``, ``max_steps`` or NetHack's end type in lower case);
    ``steps`` the messages of the last steps, oldest first (one list of messages per step); ``earlier``
    older messages that still matter (the sign of a tainted meal, see :class:`DeathWatch`).
    """
    end = (end or "").lower()
    steps = [list(s) for s in steps]
    flat = list(earlier) + [m for s in steps for m in s]
    if end in END_CAUSES:
        cause = END_CAUSES[end]
        if cause == "drowning":  # "The giant eel drowns you..."
            who = next((n for n in (_monster(m) for m in reversed(flat)) if n), "")
            return Death(cause, who)
        return Death(cause, end if cause == "other_death" else "")
    if end not in ("died", "poisoning"):
        return Death("unknown", end)
    for step in reversed(steps):
        text = "  ".join(step)
        # the rule matching latest in the step wins ("Ouch!  That hurts!  The newt bites!": the newt);
        # on a tie the earlier rule of the table
        best: tuple[int, int, str, re.Match] | None = None
        for order, (cause, pattern) in enumerate(MESSAGE_RULES):
            last = next(iter(reversed(list(pattern.finditer(text)))), None)
            if last is not None and (best is None or (last.start(), -order) > (best[0], best[1])):
                best = (last.start(), -order, cause, last)
        if best is not None:
            cause, match = best[2], best[3]
            if cause == "monster":  # the attacker of that message
                return _rule_detail(cause, text[match.start():], flat)
            return _rule_detail(cause, text, flat)
    return Death("poison" if end == "poisoning" else "unknown", "")


class DeathWatch:
    """Keeps what :func:`classify` needs from a running episode: the messages of the last ``keep`` steps
    that showed any, and the sign of food poisoning until it is cured (the illness kills 10-20 turns
    after the meal, possibly many steps later)."""

    CURED = re.compile(r"You feel (?:much )?better|What a relief")

    def __init__(self, keep: int = 12):
        from collections import deque

        self.recent: deque[list[str]] = deque(maxlen=keep)
        self.signs: list[str] = []

    def update(self, messages: Sequence[str]) -> None:
        if not messages:
            return
        self.recent.append(list(messages))
        for m in messages:
            if FOOD_POISONING_SIGN.search(m):
                self.signs = [m]
            elif self.signs and self.CURED.search(m):
                self.signs = []

    def classify(self, end: str | None) -> Death:
        return classify(end, self.recent, self.signs)

    def last_messages(self, n: int = 8) -> list[str]:
        return [m for step in self.recent for m in step][-n:]


def tally(deaths: Iterable[dict | Death]) -> dict[str, int]:
    """``{cause: count}`` in :data:`CAUSES` order (records hold ``{"cause": ..., "detail": ...}``)."""
    counts: dict[str, int] = {}
    for d in deaths:
        cause = d.cause if isinstance(d, Death) else (d or {}).get("cause", "unknown")
        counts[cause] = counts.get(cause, 0) + 1
    order = list(CAUSES)
    return dict(sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


def killers(deaths: Iterable[dict | Death], top: int = 5) -> dict[str, int]:
    """The monsters (and god's minions) that killed most often, most frequent first."""
    counts: dict[str, int] = {}
    for d in deaths:
        cause, detail = (d.cause, d.detail) if isinstance(d, Death) else ((d or {}).get("cause"), (d or {}).get("detail"))
        if cause in ("monster", "vault_guard") and detail:
            counts[detail] = counts.get(detail, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top])


def summary(counts: dict[str, int]) -> str:
    """``monster 5, prayer 3, timeout 2`` (most frequent first)."""
    return ", ".join(f"{c} {n}" for c, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "-"
