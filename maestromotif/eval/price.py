"""Price identification: what a shopkeeper's offer reveals about an unidentified item.

Two rules, both reported:

- **paper proxy** (:func:`paper_price_identified`), the rule of the original ``rl_baseline/price_id.py``:
  the offer doubled must be one of the listed base prices of the item's class, where the class is the
  word before "Sell" (the word after "your" for scrolls). Only these classes and prices are listed
  (their numbers, not their code, carried over): potion, scroll, ring, cloak, boots, wand, helmet.
- **exact** (:func:`identified_price_group`): NetHack 3.6 offers ``base * quantity / 2`` rounded, or
  ``3/8`` of it when the shopkeeper is a cheapskate for unidentified items (``shk.c: set_cost``;
  the Monk is neither a Tourist nor wears a dunce cap). The item's appearance (``murky potion``,
  ``scroll labeled FOO``, ``jungle boots``) gives the set of objects it can be; the offer is an
  identification when every candidate consistent with it has the same base price and that excludes
  some of the set. Base prices come from NetHack's own object table (``nle.nethack.objclass``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from nle import nethack as nh

# ---------------------------------------------------------------------------------- paper proxy
# Base prices listed per class in the original price_id.py (keys of its table).
PAPER_PRICE_TABLE: dict[str, frozenset[int]] = {
    "potion": frozenset({50, 100, 150, 200, 250, 300}),
    "scroll": frozenset({20, 50, 60, 80, 100, 200, 300}),
    "ring": frozenset({100, 150, 200, 300}),
    "cloak": frozenset({50, 60}),
    "boots": frozenset({8, 30, 50}),
    "wand": frozenset({100, 150, 175, 200, 500}),
    "helmet": frozenset({10, 50}),
}


def paper_price_identified(message: str) -> bool:
    """The original rule on a "... offers N gold pieces for your X.  Sell it?" message."""
    words = message.split()
    if "gold" not in words:
        return False
    i = words.index("gold")
    try:
        price = int(words[i - 1])
    except ValueError:
        return False
    if "scroll" in message:
        if "your" not in words or words.index("your") + 1 >= len(words):
            return False
        item_type = words[words.index("your") + 1]
    else:
        if "Sell" not in words:
            return False
        item_type = words[words.index("Sell") - 1].replace(".", "")
    return price * 2 in PAPER_PRICE_TABLE.get(item_type, ())


# ---------------------------------------------------------------------------------- exact rule
@dataclass(frozen=True)
class Candidate:
    name: str
    appearance: str
    price: int


# Shuffled-appearance groups (NetHack's o_init.c): an unidentified item can be any member.
_CLASS_GROUPS = {  # class -> (object class id, names excluded from the shuffle)
    "potion": (nh.POTION_CLASS, {"water"}),
    "scroll": (nh.SCROLL_CLASS, {"mail", "blank paper"}),
    "ring": (nh.RING_CLASS, set()),
    "wand": (nh.WAND_CLASS, set()),
    "spellbook": (nh.SPBOOK_CLASS, {"blank paper", "novel", "Book of the Dead"}),
    "amulet": (nh.AMULET_CLASS, {"Amulet of Yendor", "cheap plastic imitation of the Amulet of Yendor"}),
}
_ARMOR_GROUPS = {
    "cloak": ("cloak of protection", "cloak of invisibility", "cloak of magic resistance", "cloak of displacement"),
    "helmet": ("helmet", "helm of brilliance", "helm of opposite alignment", "helm of telepathy"),
    "gloves": ("leather gloves", "gauntlets of fumbling", "gauntlets of power", "gauntlets of dexterity"),
    "boots": ("speed boots", "water walking boots", "jumping boots", "elven boots", "kicking boots",
              "fumble boots", "levitation boots"),
}
# Multiplier/divisor pairs of set_cost for a Monk: the usual half, a cheapskate's 3/8.
_SELL_RATES = ((1, 2), (3, 8))
_MAX_ARMOR_ENCHANT = 3  # sold armour is worth 10 more per point of (unknown) enchantment


@cache
def _groups() -> dict[str, tuple[Candidate, ...]]:
    objs = [nh.objclass(i) for i in range(nh.NUM_OBJECTS)]
    out: dict[str, tuple[Candidate, ...]] = {}
    for group, (oclass, excluded) in _CLASS_GROUPS.items():
        out[group] = tuple(Candidate(nh.OBJ_NAME(o), nh.OBJ_DESCR(o), int(o.oc_cost)) for o in objs
                           if ord(o.oc_class) == oclass and nh.OBJ_NAME(o) and nh.OBJ_DESCR(o)
                           and nh.OBJ_NAME(o) not in excluded)
    by_name = {nh.OBJ_NAME(o): o for o in objs if nh.OBJ_NAME(o) and ord(o.oc_class) == nh.ARMOR_CLASS}
    for group, names in _ARMOR_GROUPS.items():
        out[group] = tuple(Candidate(n, nh.OBJ_DESCR(by_name[n]), int(by_name[n].oc_cost)) for n in names)
    return out


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def appearance_group(item: str) -> tuple[str, str] | None:
    """``(group, appearance)`` of an unidentified item name as NetHack writes it in an offer
    (``"murky potion"``, ``"2 brown potions"`` -> ``("potion", "brown")``), or None when the item is
    identified, named by the player, or not from a shuffled group."""
    text = re.sub(r"^(?:\d+|an?|the) ", "", item.strip())
    if " called " in text or " named " in text:
        return None
    words = text.split()
    if not words:
        return None
    for group, members in _groups().items():
        for c in members:
            d = c.appearance
            if group == "scroll":
                if re.fullmatch(rf"scrolls? labeled {re.escape(d)}", text):
                    return group, d
            elif group in _CLASS_GROUPS:
                if re.fullmatch(rf"{re.escape(d)} {group}s?", text):
                    return group, d
            elif re.fullmatch(rf"(?:pairs? of )?{re.escape(d)}", text) or _singular(text) == d:
                return group, d
    return None


def sell_offer(base: int, quantity: int, mult: int, div: int) -> int:
    """NetHack 3.6 ``set_cost`` for selling (integer arithmetic as in shk.c)."""
    tmp = base * quantity * mult
    tmp = (tmp * 10 // div + 5) // 10
    return max(tmp, 1) if base * quantity >= 1 else tmp


def identified_price_group(item: str, offer: int, quantity: int = 1) -> int | None:
    """The base price an offer pins down for ``item``, or None if the offer identifies nothing."""
    found = appearance_group(item)
    if found is None or quantity < 1:
        return None
    group, _ = found
    members = _groups()[group]
    enchant = range(_MAX_ARMOR_ENCHANT + 1) if group in _ARMOR_GROUPS else range(1)
    prices = {c.price for c in members
              if any(sell_offer(c.price + 10 * k, quantity, m, d) == offer for k in enchant for m, d in _SELL_RATES)}
    if len(prices) != 1:
        return None
    price = next(iter(prices))
    if all(c.price == price for c in members):
        return None  # every member costs the same (e.g. amulets): nothing learned
    return price
