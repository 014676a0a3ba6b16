"""NetHack's dungeon overview (``#overview``, Ctrl-O) read without disturbing the game.

The original evaluation typed ``#overview`` after each stairs descent and searched the window for
"Gnomish Mines", "Level 7", "The Gnomish Mines: levels 3 to 5", ... (the paper's proxy detectors).
:func:`read_overview` does the same through :meth:`MaestroNLE.send_keys`: it opens the overview,
reads every page, and closes it. The overview takes no game time (NetHack's ``dooverview`` returns 0)
and draws no random number, so the game the agent plays is unchanged - the test
``test_overview_does_not_disturb_the_game`` replays a seeded episode with and without it.
"""

from __future__ import annotations

from nle import nethack as nh

from maestromotif.nethack.env import MaestroNLE
from maestromotif.nethack.obs import screen_text

OVERVIEW_KEY = int(nh.Command.OVERVIEW)  # Ctrl-O: #overview outside wizard mode
_SPACE, _ESC = ord(" "), 27
_MAX_PAGES = 20


def read_overview(env: MaestroNLE) -> str | None:
    """The text of the ``#overview`` window (all pages), or None when NetHack is waiting for an answer
    (a question is open for the agent) or the game is over - then try again after the next step."""
    if env.waiting_for() is not None or not env.nethack.in_normal_game():
        return None
    obs = env.send_keys(bytes([OVERVIEW_KEY]))
    pages = [screen_text(obs["tty_chars"])]
    for _ in range(_MAX_PAGES):
        if env.waiting_for() != "more":
            break
        obs = env.send_keys(bytes([_SPACE]))
        if env.waiting_for() == "more":
            pages.append(screen_text(obs["tty_chars"]))
    if env.waiting_for() is not None:  # never leave a window or prompt open for the agent
        env.send_keys(bytes([_ESC]))
    return "\n".join(pages)
