"""The paper's action set (28 actions) as a table.

Index -> (name, key sent to NetHack). Several entries are macro-actions implemented by
:class:`maestromotif.nethack.env.MaestroNLE`:

- ``wait``    rests 25 turns (count prefix ``25`` + ``.``),
- ``eat`` / ``quaff``  open NetHack's "What do you want to eat/drink?" prompt; the agent's next action
  answers it: ``move_nw`` (the ``y`` key, :data:`CONFIRM_ITEM`) picks the first offered item, any other
  action cancels (the original MaestroMotif's macro, ``rl_baseline/monk_tasks_nle.py``). So eating
  takes two actions, :data:`EAT_AND_CONFIRM` / :data:`QUAFF_AND_CONFIRM`, and a policy that presses
  ``eat`` while satiated does not eat (nor choke) unless it confirms,
- ``drop``    drops an item collected this episode (never the starting kit; nothing if none),
- ``cast``    casts the first known spell; the Monk's healing spell at the agent itself (as the original);
  another spell's direction, when asked, is the agent's next action,
- ``enhance`` enhances the first skill offered.

Kept questions (y/n and direction prompts a skill must answer, e.g. "Sell it? [ynaq]") are answered
by the agent's next action: ``y`` is the NW key and ``n`` the SE key (vi-keys), ``more`` takes the
default answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from nle import nethack as nh


@dataclass(frozen=True)
class Action:
    name: str
    key: int


_DIRS = ("n", "e", "s", "w", "ne", "se", "sw", "nw")

ACTIONS: tuple[Action, ...] = (
    (Action("more", int(nh.MiscAction.MORE)),)
    + tuple(Action(f"move_{d}", int(k)) for d, k in zip(_DIRS, nh.CompassDirection))
    + tuple(Action(f"run_{d}", int(k)) for d, k in zip(_DIRS, nh.CompassDirectionLonger))
    + (
        Action("up", int(nh.MiscDirection.UP)),
        Action("down", int(nh.MiscDirection.DOWN)),
        Action("wait", int(nh.MiscDirection.WAIT)),
        Action("kick", int(nh.Command.KICK)),
        Action("eat", int(nh.Command.EAT)),
        Action("search", int(nh.Command.SEARCH)),
        Action("cast", int(nh.Command.CAST)),
        Action("enhance", int(nh.Command.ENHANCE)),
        Action("pray", int(nh.Command.PRAY)),
        Action("quaff", int(nh.Command.QUAFF)),
        Action("drop", int(nh.Command.DROP)),
    )
)
ACTION_NAMES: tuple[str, ...] = tuple(a.name for a in ACTIONS)
ACTION_KEYS: tuple[int, ...] = tuple(a.key for a in ACTIONS)
ACTION_INDEX: dict[str, int] = {a.name: i for i, a in enumerate(ACTIONS)}
NUM_ACTIONS = len(ACTIONS)

CONFIRM_ITEM = "move_nw"  # its key is 'y': answers an open eat/drink item prompt with the first item
EAT_AND_CONFIRM: tuple[int, int] = (ACTION_INDEX["eat"], ACTION_INDEX[CONFIRM_ITEM])
"""Actions to send one after the other to eat the first offered food item (a scripted controller's
"eat now"). If the first action opened a y/n question instead (e.g. "There is a lichen corpse here;
eat it?"), the second one answers ``y`` as well."""
QUAFF_AND_CONFIRM: tuple[int, int] = (ACTION_INDEX["quaff"], ACTION_INDEX[CONFIRM_ITEM])
