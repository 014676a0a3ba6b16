"""Success detectors for the nine evaluation tasks, each with the paper's proxy and an exact rule.

A detector sees every step of an episode (:class:`~maestromotif.eval.facts.StepView`) and keeps two
verdicts, ``proxy`` (what the original MaestroMotif code measured) and ``exact`` (what the task says,
established from what NetHack showed). Navigation and composite tasks give booleans; interaction tasks
give counts. :class:`Monitor` feeds a detector from the environment and types ``#overview`` only when a
proxy asks for it (after a level change), at most once per step.

Facts of the original evaluation (``rl_baseline/monk_tasks_nle.py`` and ``utils/wrappers.py`` of the
original repository) that the proxies reproduce:

- navigation: after a stairs descent, ``#overview`` is typed and searched for "Gnomish Mines",
  "Level 7" (Delphi) or "The Gnomish Mines: levels 2 to 4 / 3 to 5 / 4 to 6" (Minetown). We search
  after every level change (a trap door or level teleport counts too); the verdict at the end of an
  episode is the same unless the episode ends between the change and the next descent;
- interaction: per step, the final message counts a sale if it contains "sold", a price
  identification if the previous step's "Sell ...?" offer passed ``price_id.py``'s rule, a BUC
  identification if the action was *drop* and the message mentions "altar" but neither "cursed"
  nor "blessed";
- composite: a prerequisite flag (goldenexit: >= 25 steps whose message contains "kill"/"destroy",
  >= 20 gold, max depth >= 3; levelupsell: a sale; discoveryhunger: an eat prompt answered in the
  Mines), then success on the climb-out question (goldenexit), 300 more steps (levelupsell), or
  "Level 7" in ``#overview`` after a level change (discoveryhunger).

Exact rules are documented on each class. The paper stopped an episode at success; the evaluator
stops when every verdict is decided, so neither rule is cut short by the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from maestromotif.eval import facts
from maestromotif.eval.facts import StepView
from maestromotif.eval.overview import read_overview
from maestromotif.eval.price import identified_price_group, paper_price_identified
from maestromotif.nethack.obs import DUNGEONS_OF_DOOM, GNOMISH_MINES

HUNGRY = 2
ORACLE_DEPTHS = range(5, 10)       # dungeon.def: the Oracle is on Dungeons-of-Doom level 5..9
MINETOWN_MINES_LEVELS = (3, 4)     # dungeon.def: Minetown is the 3rd or 4th level of the Mines


class Detector:
    """Base class: ``reset`` on the first observation, ``update`` after every step."""

    metric = "success"  # or "count"
    proxy: Any = False
    exact: Any = False

    def reset(self, step: StepView) -> None:
        self.proxy = 0 if self.metric == "count" else False
        self.exact = 0 if self.metric == "count" else False
        self.proxy_step: int | None = None
        self.exact_step: int | None = None
        self.evidence: list[str] = []

    def update(self, step: StepView) -> None:
        raise NotImplementedError

    @property
    def finished(self) -> bool:
        """Both verdicts are final (success tasks only: counts run to the end of the episode)."""
        return self.metric == "success" and bool(self.proxy) and bool(self.exact)

    def details(self) -> dict[str, Any]:
        return {"proxy_step": self.proxy_step, "exact_step": self.exact_step, "evidence": self.evidence}

    # helpers
    def _hit_proxy(self, step: StepView) -> None:
        if not self.proxy:
            self.proxy, self.proxy_step = True, step.index

    def _hit_exact(self, step: StepView, why: str) -> None:
        if not self.exact:
            self.exact, self.exact_step = True, step.index
            self.evidence.append(why)


# --------------------------------------------------------------------------------- building blocks
class OverviewSearch:
    """The paper's proxy: after a level change, is one of ``strings`` in ``#overview``?"""

    def __init__(self, strings: Iterable[str]):
        self.strings = tuple(strings)
        self.pending = False

    def check(self, step: StepView) -> bool:
        if step.level_changed:
            self.pending = True
        if not self.pending or not self.strings:
            return False
        text = step.overview()
        if text is None:  # a question is open: look again after the next step
            return False
        self.pending = False
        return any(s in text for s in self.strings)


class OracleEvidence:
    """The hero has been on the Oracle's level, established from what NetHack showed there.

    On a Dungeons-of-Doom level of depth 5..9 (where dungeon.def puts the Oracle): the Oracle on the map,
    two or more centaur statues (the eight statues around Delphi), or "welcome to Delphi" - or the hero
    has stood on every one of the levels 5..9, one of which must be the Oracle's. Glyphs are not
    trusted while hallucinating.
    """

    def __init__(self) -> None:
        self.found: str | None = None
        self.visited: set[int] = set()

    def update(self, step: StepView) -> str | None:
        if self.found or step.dnum != DUNGEONS_OF_DOOM or step.depth not in ORACLE_DEPTHS:
            return self.found
        self.visited.add(step.depth)
        if any(facts.DELPHI.search(m) for m in step.messages):
            self.found = f"'welcome to Delphi' on level {step.depth}"
        elif not step.hallucinating and step.shows(facts.ORACLE_GLYPHS):
            self.found = f"the Oracle seen on level {step.depth}"
        elif not step.hallucinating and step.shows(facts.CENTAUR_STATUE_GLYPHS) >= 2:
            self.found = f"centaur statues of Delphi seen on level {step.depth}"
        elif self.visited >= set(ORACLE_DEPTHS):
            self.found = "stood on every level 5..9 of the Dungeons of Doom"
        return self.found


class MinetownEvidence:
    """The hero has been in Minetown: a Mines level (3rd or 4th of the branch, where dungeon.def puts
    Minetown) showing a temple or shop ("you enter a sacred place", a shopkeeper's welcome, an altar,
    a door - filler Mines levels have none -, a shopkeeper, priest or watchman), or the hero has stood
    on both the 3rd and the 4th Mines level."""

    def __init__(self) -> None:
        self.found: str | None = None
        self.visited: set[int] = set()

    def update(self, step: StepView) -> str | None:
        if self.found or step.dnum != GNOMISH_MINES or step.dlevel not in MINETOWN_MINES_LEVELS:
            return self.found
        self.visited.add(step.dlevel)
        where = f"Mines level {step.dlevel} (depth {step.depth})"
        if any(facts.TEMPLE.search(m) for m in step.messages):
            self.found = f"entered a temple on {where}"
        elif any(facts.SHOP.search(m) for m in step.messages):
            self.found = f"entered a shop on {where}"
        elif step.shows(facts.ALTAR_GLYPHS):
            self.found = f"an altar seen on {where}"
        elif step.shows(facts.DOOR_GLYPHS):
            self.found = f"doors seen on {where}"
        elif not step.hallucinating and step.shows(facts.TOWN_PEOPLE_GLYPHS):
            self.found = f"a shopkeeper, priest or watchman seen on {where}"
        elif self.visited >= set(MINETOWN_MINES_LEVELS):
            self.found = "stood on the 3rd and the 4th Mines level"
        return self.found


def ate_food(step: StepView, prev_hunger: int) -> bool:
    """Food was eaten this step: an eating message, or the eat action made the hunger status better."""
    if any(facts.ATE.search(m) for m in step.messages):
        return True
    return (step.action == "eat" or bool(step.just_eaten)) and step.hunger < prev_hunger


def eat_prompt_answered(step: StepView) -> bool:
    """The paper's ``just_eaten``: the eat action's item prompt offered something, and it was taken.

    The environment reports it (``info["just_eaten"]``: the agent confirmed the prompt with ``y``, the
    original's rule); without that report, an eat action whose prompt offered an item counts."""
    if step.just_eaten is not None:
        return step.just_eaten
    if step.action != "eat":
        return False
    for m in step.messages:
        p = facts.EAT_PROMPT.search(m)
        if p and any(ch.isalpha() for ch in p.group("letters").split(" or ")[0]):
            return True
    return False


# --------------------------------------------------------------------------------- navigation
class Gnomish(Detector):
    """Proxy: "Gnomish Mines" in ``#overview`` after a level change (NetHack lists the Mines once the
    hero has been there). Exact: the hero stands in the Mines (``blstats`` dungeon number 2). They
    differ only in timing: the proxy needs a level change to look."""

    def reset(self, step):
        super().reset(step)
        self.search = OverviewSearch(["Gnomish Mines"])

    def update(self, step):
        if not self.proxy and self.search.check(step):
            self._hit_proxy(step)
        if step.dnum == GNOMISH_MINES:
            self._hit_exact(step, f"in the Gnomish Mines at depth {step.depth}")


class Delphi(Detector):
    """Proxy: "Level 7" in ``#overview`` (any branch). Exact: :class:`OracleEvidence`."""

    def reset(self, step):
        super().reset(step)
        self.search = OverviewSearch(["Level 7"])
        self.oracle = OracleEvidence()

    def update(self, step):
        if not self.proxy and self.search.check(step):
            self._hit_proxy(step)
        found = self.oracle.update(step)
        if found:
            self._hit_exact(step, found)


MINETOWN_PROXY_STRINGS = ("The Gnomish Mines: levels 2 to 4", "The Gnomish Mines: levels 3 to 5",
                          "The Gnomish Mines: levels 4 to 6")


class Minetown(Detector):
    """Proxy: ``#overview`` shows the Mines as "levels 2 to 4 / 3 to 5 / 4 to 6", i.e. the deepest
    Mines level reached is the 3rd (Minetown is the 3rd or the 4th; Mines starting at depth 5 are
    never matched). Exact: :class:`MinetownEvidence`."""

    def reset(self, step):
        super().reset(step)
        self.search = OverviewSearch(MINETOWN_PROXY_STRINGS)
        self.town = MinetownEvidence()

    def update(self, step):
        if not self.proxy and self.search.check(step):
            self._hit_proxy(step)
        found = self.town.update(step)
        if found:
            self._hit_exact(step, found)


# --------------------------------------------------------------------------------- interaction
class Transactions(Detector):
    """Items sold. Proxy: steps whose final message contains "sold". Exact: every
    "You sold <item> for N gold pieces." message of the step."""

    metric = "count"

    def update(self, step):
        self.proxy += "sold" in step.message
        self.exact += sum(bool(facts.SOLD.search(m)) for m in step.messages)


class Price(Detector):
    """Items whose price was identified while selling. Proxy: a sale right after an offer that passes
    the original ``price_id.py`` rule. Exact: offers that pin the item's base price to one price
    group (:func:`~maestromotif.eval.price.identified_price_group`), once per appearance, sold or not."""

    metric = "count"

    def reset(self, step):
        super().reset(step)
        self.offer_identified = False
        self.appearances: set[str] = set()

    def update(self, step):
        if "sold" in step.message and self.offer_identified:
            self.proxy += 1
        self.offer_identified = "Sell" in step.message and paper_price_identified(step.message)
        qty = 1
        for m in step.messages:
            d = facts.DROPPED.search(m)
            if d:
                qty = int(d.group("qty")) if d.group("qty").isdigit() else 1
            o = facts.OFFER.search(m)
            if not o or o.group("only") or o.group("whose") not in ("your ",):
                continue
            item = o.group("item")
            quantity = qty if o.group("pron") == "them" else 1
            if o.group("pron") == "them" and quantity == 1:
                continue  # several items but no count shown: ambiguous
            price = identified_price_group(item, int(o.group("price")), quantity)
            key = _singular_item(item)
            if price is not None and key not in self.appearances:
                self.appearances.add(key)
                self.exact += 1
                self.evidence.append(f"{item}: base price {price}")


def _singular_item(item: str) -> str:
    return re.sub(r"^\d+ ", "", item).rstrip("s")


class Buc(Detector):
    """Items whose curse status was identified at an altar. Proxy: a *drop* step whose final message
    mentions "altar" without "cursed"/"blessed". Exact: every "<item> lands on the altar." / "There is
    a <colour> flash as <item> hits the altar." whose item name did not already show its status
    (a flash seen while hallucinating teaches nothing; coins have no status)."""

    metric = "count"

    def update(self, step):
        msg = step.message
        if step.action == "drop" and "altar" in msg and "cursed" not in msg and "blessed" not in msg:
            self.proxy += 1
        for m in step.messages:
            flash, land = facts.ALTAR_FLASH.search(m), facts.ALTAR_LAND.search(m)
            hit = flash or land
            if not hit or (flash and step.hallucinating):
                continue
            item = hit.group("item")
            if facts.BUC_WORD.search(item) or "gold piece" in item:
                continue
            self.exact += 1
            self.evidence.append(item)


# --------------------------------------------------------------------------------- composite
class GoldenExit(Detector):
    """"Alternate between the first three levels of the Dungeons of Doom (at least once) until you collect
    a minimum of 20 gold pieces and defeat 25 monsters; finally try to quit NetHack".

    Proxy (original): prerequisite = >= ``min_kills`` steps whose final message contains "kill" or
    "destroy", >= ``min_gold`` gold, max depth >= 3 (any branch); success = the climb-out question
    ("Beware, there will be no return!  Still climb?") on a later step. Exact: prerequisite =
    >= ``min_kills`` monsters killed by the hero (every "You kill/destroy ..." message), Dungeons-of-Doom
    levels 2 and 3 visited, >= ``min_gold`` gold carried when asking to climb out.
    """

    def __init__(self, min_kills: int = 25, min_gold: int = 20, levels: int = 3):
        self.min_kills, self.min_gold, self.levels = min_kills, min_gold, levels

    def reset(self, step):
        super().reset(step)
        self.kills_proxy = self.kills = 0
        self.max_depth = step.depth
        self.dod_visited = {step.depth} if step.dnum == DUNGEONS_OF_DOOM else set()
        self.prereq_proxy = False

    def update(self, step):
        climb = any(facts.CLIMB_OUT.search(m) for m in step.messages)
        if climb and self.prereq_proxy:
            self._hit_proxy(step)
        if (climb and self.kills >= self.min_kills and step.gold >= self.min_gold
                and set(range(2, self.levels + 1)) <= self.dod_visited):
            self._hit_exact(step, f"asked to climb out with {self.kills} kills and {step.gold} gold")
        # prerequisites as of the end of this step (used from the next step on, as the original did)
        self.kills_proxy += "kill" in step.message or "destroy" in step.message
        self.kills += sum(bool(facts.PLAYER_KILL.search(m)) for m in step.messages)
        self.max_depth = max(self.max_depth, step.depth)
        if step.dnum == DUNGEONS_OF_DOOM:
            self.dod_visited.add(step.depth)
        if self.kills_proxy >= self.min_kills and step.gold >= self.min_gold and self.max_depth >= self.levels:
            self.prereq_proxy = True

    def details(self):
        return {**super().details(), "kills": self.kills, "kills_proxy": self.kills_proxy}


class LevelUpSell(Detector):
    """"Do not leave the first dungeon level until you achieve XP level 4, then find a shopkeeper and sell
    an item that you have collected; finally survive for another 300 steps."

    Proxy (original): any step whose final message contains "sold" starts a counter of the following
    steps; success when it passes ``survive`` (the original's ``> 300``). Exact: a "You sold ..." after
    reaching XP level ``min_xp`` without having left Dungeons-of-Doom level 1 before that, then
    ``survive`` more steps with the game still running.
    """

    def __init__(self, min_xp: int = 4, survive: int = 300):
        self.min_xp, self.survive = min_xp, survive

    def reset(self, step):
        super().reset(step)
        self.left_early = False
        self.proxy_count: int | None = None
        self.exact_count: int | None = None

    def update(self, step):
        if self.proxy_count is not None and not step.done:
            self.proxy_count += 1
            if self.proxy_count > self.survive:
                self._hit_proxy(step)
        if self.exact_count is not None and not step.done:
            self.exact_count += 1
            if self.exact_count >= self.survive:
                self._hit_exact(step, f"survived {self.survive} steps after selling at XP level >= {self.min_xp}")
        if self.proxy_count is None and "sold" in step.message:
            self.proxy_count = 0
        if step.xp < self.min_xp and (step.dnum, step.depth) != (DUNGEONS_OF_DOOM, 1):
            self.left_early = True
        if (self.exact_count is None and not self.left_early and step.xp >= self.min_xp
                and any(facts.SOLD.search(m) for m in step.messages)):
            self.exact_count = 0
            self.evidence.append(f"sold at step {step.index}, XP level {step.xp}, depth {step.depth}")

    def details(self):
        return {**super().details(), "left_level_1_early": self.left_early}


class DiscoveryHunger(Detector):
    """"Reach the oracle level (the Delphi) in the Dungeons of Doom, but not before discovering the Gnomish
    Mines and eating some food there after getting hungry."

    Proxy (original): an eat prompt answered in the Mines, then "Level 7" in ``#overview`` after a later
    level change. Exact: hunger status Hungry or worse at some point, then food eaten in the Mines
    (:func:`ate_food`), then :class:`OracleEvidence` gathered after that meal.
    """

    def reset(self, step):
        super().reset(step)
        self.prereq_proxy = self.prereq_exact = False
        self.has_been_hungry = step.hunger >= HUNGRY
        self.prev_hunger = step.hunger
        self.search = OverviewSearch(["Level 7"])
        self.oracle = OracleEvidence()

    def update(self, step):
        if self.prereq_proxy and not self.proxy and self.search.check(step):
            self._hit_proxy(step)
        if self.prereq_exact:
            found = self.oracle.update(step)
            if found:
                self._hit_exact(step, found)
        if not self.prereq_proxy and step.dnum == GNOMISH_MINES and eat_prompt_answered(step):
            self.prereq_proxy = True
        if (not self.prereq_exact and self.has_been_hungry and step.dnum == GNOMISH_MINES
                and ate_food(step, self.prev_hunger)):
            self.prereq_exact = True
            self.evidence.append(f"ate in the Mines at step {step.index} after being hungry")
        self.has_been_hungry |= step.hunger >= HUNGRY
        self.prev_hunger = step.hunger


# --------------------------------------------------------------------------------- monitor
class Monitor:
    """Feeds one detector from a running :class:`~maestromotif.nethack.env.MaestroNLE` episode."""

    def __init__(self, env, detector: Detector):
        self.env = env
        self.detector = detector
        self.prev: StepView | None = None
        self.overview_calls = 0
        self._overview_cache: tuple[int, str | None] | None = None

    def _overview_for(self, index: int, obs: dict) -> Callable[[], str | None]:
        def get() -> str | None:
            if self._overview_cache is None or self._overview_cache[0] != index:
                # NLE hands out its own arrays, which the overview's keys overwrite: the agent must still
                # see this step's observation, so the dict it holds gets copies first.
                for key, value in obs.items():
                    obs[key] = value.copy()
                text = read_overview(self.env)
                self.overview_calls += text is not None
                self._overview_cache = (index, text)
            return self._overview_cache[1]
        return get

    def reset(self, obs: dict, info: dict) -> StepView:
        step = facts.view_from(obs, info, 0, None, None, False, self._overview_for(0, obs))
        self.detector.reset(step)
        self.prev = step
        return step

    def update(self, obs: dict, info: dict, action: int, done: bool) -> StepView:
        index = self.prev.index + 1
        step = facts.view_from(obs, info, index, action, self.prev, done, self._overview_for(index, obs))
        if done and not self.env.nethack.in_normal_game():
            # The game is over and the bottom line is blank: the hero is where it was.
            for name in ("depth", "dnum", "dlevel", "xp", "gold", "hunger", "hallucinating"):
                setattr(step, name, getattr(self.prev, name))
            step.level_changed = False
        self.detector.update(step)
        self.prev = step
        return step
