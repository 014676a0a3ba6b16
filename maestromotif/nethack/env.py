"""The NetHack environment of the paper, on the released ``nle`` package.

:class:`MaestroNLE` subclasses ``nle.env.base.NLE`` the way NLE's own tasks do (``nle/env/tasks.py``)
and replaces only the step logic that the paper changes:

- the 28-action set of :mod:`maestromotif.nethack.actions` and its macro-actions (drop drops an item
  collected this episode, wait rests 25 turns, cast casts the first spell - the healing spell at the
  agent itself -, enhance after "You feel more confident");
- the prompt policy: ``--More--`` is dismissed and y/n questions are declined automatically, except
  the questions a skill must answer (:data:`KEPT_QUESTIONS`: eat, attack, direction, pray, drop,
  drink, sell), which the agent's next action answers. The eat/drink item prompt is one of them
  (``item_prompt="agent"``, the original's rule): ``y`` (``move_nw``) picks the first offered item,
  any other action cancels; ``item_prompt="auto"`` picks the first item at once (our former rule);
- messages cleared by a ``--More--``: ``info["messages"]`` lists every message shown during the
  step. The observation's ``message`` (what the reward model reads) follows ``keep_messages``:
  ``"original"`` (default) keeps only :data:`KEEP_ACROSS_MORE` ("You descend the stairs.", "You
  climb up the stairs", "You are frozen") as the original does; ``"last"`` keeps the last message
  shown whenever the final screen is blank.

See docs/fidelity.md for where this follows the original MaestroMotif and where it differs.

Task logic (rewards, success) stays out of this class: evaluation detectors and skill rewards read
observations and ``info`` from the outside.

Works with gymnasium 0.29 (nle 1.0) and gymnasium 1.x (nle >= 1.1): both use the 5-tuple step API.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from nle import nethack as nh
from nle.env import base as nle_base

from maestromotif.nethack.actions import ACTION_KEYS, ACTION_NAMES
from maestromotif.nethack.game_options import CHARACTER, nle_options
from maestromotif.nethack.obs import OCLASS, message_text

ESC, SPACE, ENTER = 27, ord(" "), ord("\r")
KEY_Y, KEY_N = ord("y"), ord("n")

# y/n (or item/direction) questions left to the agent; every other question is declined.
KEPT_QUESTIONS: tuple[bytes, ...] = (b"eat", b"attack", b"direction?", b"pray", b"drop", b"drink", b"Sell", b"sell")
# Item prompts the agent answers: y picks the first offered letter (the original's rule: the letters
# right after '['), anything else cancels.
_ITEM_PROMPT = re.compile(rb"What do you want to (eat|drink)\? \[([^\]]*)\]")
_FIRST_ITEM = re.compile(rb"\[([a-zA-Z]+)")
# Messages the observation keeps across a --More-- with keep_messages="original" (the original's list).
KEEP_ACROSS_MORE: tuple[bytes, ...] = (b"You descend the stairs.", b"You climb up the stairs", b"You are frozen")
ITEM_PROMPT_MODES = ("agent", "auto")
KEEP_MESSAGE_MODES = ("original", "last")
_DROP_PROMPT = re.compile(rb"What do you want to drop\? \[")
_CONFIDENT = "You feel more confident in your"

DEFAULT_OBS_KEYS = (
    "glyphs", "chars", "colors", "blstats", "message", "inv_glyphs", "inv_strs", "inv_letters",
    "inv_oclasses", "tty_chars", "tty_colors", "tty_cursor",
)
# Item classes never dropped by the drop macro-action (food is eaten, coins are not "items").
_NOT_DROPPED = (OCLASS["food"], OCLASS["coin"])
_MAX_PROMPT_KEYS = 64  # safety net against a prompt loop


class MaestroNLE(nle_base.NLE):
    """NLE with the paper's character, options, actions, macro-actions and prompt policy."""

    def __init__(
        self,
        max_episode_steps: int = 100_000,
        observation_keys: tuple[str, ...] = DEFAULT_OBS_KEYS,
        savedir: str | None = None,
        save_ttyrec_every: int = 0,
        wizard: bool = False,
        spawn_monsters: bool = True,
        wait_turns: int = 25,
        auto_enhance: bool = True,
        item_prompt: str = "agent",
        keep_messages: str = "original",
        **kwargs: Any,
    ):
        if item_prompt not in ITEM_PROMPT_MODES:
            raise ValueError(f"item_prompt must be one of {ITEM_PROMPT_MODES}, got {item_prompt!r}")
        if keep_messages not in KEEP_MESSAGE_MODES:
            raise ValueError(f"keep_messages must be one of {KEEP_MESSAGE_MODES}, got {keep_messages!r}")
        self.item_prompt, self.keep_messages = item_prompt, keep_messages
        keys = tuple(observation_keys)
        # We need these internally (inventory for the drop macro and the spell, misc for prompt state).
        for k in ("inv_letters", "inv_oclasses", "inv_strs", "misc"):
            if k not in keys:
                keys = keys + (k,)
        self._user_keys = tuple(observation_keys)
        self.wait_turns = wait_turns
        self.auto_enhance = auto_enhance
        super().__init__(
            save_ttyrec_every=save_ttyrec_every,
            savedir=savedir,
            character=CHARACTER,
            max_episode_steps=max_episode_steps,
            observation_keys=keys,
            actions=ACTION_KEYS,
            options=nle_options(CHARACTER, wizard=wizard),
            wizard=wizard,
            allow_all_yn_questions=False,
            allow_all_modes=True,  # we handle every prompt ourselves (see step)
            spawn_monsters=spawn_monsters,
            **kwargs,
        )
        if keys != self._user_keys:
            import gymnasium as gym

            self.observation_space = gym.spaces.Dict(
                {k: v for k, v in self.observation_space.spaces.items() if k in self._user_keys})
        self._idx = {k: self._observation_keys.index(k) for k in ("inv_letters", "inv_oclasses", "inv_strs", "misc")}
        self._heal_self = False  # the first spell is healing: cast it at the agent itself
        self._just_eaten = False
        self._starting_kit: dict[str, int] = {}
        self._pending_message: np.ndarray | None = None
        self._reset_depth = 0
        self.action_names = ACTION_NAMES

    # ------------------------------------------------------------------ gym API
    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:  # NetHack's own RNGs (gymnasium's seed alone does not reach them)
            # NLE retries a start that never reaches the game loop (e.g. a scroll picked up on turn 0
            # asks for a name) by calling reset again: move on to the next seed instead of looping.
            seed = int(seed) + self._reset_depth
            self.seed(core=seed, disp=seed, reseed=False)
        self._reset_depth += 1
        try:
            obs, info = super().reset(seed=seed, options=options)
        finally:
            self._reset_depth -= 1
        self._starting_kit = {chr(int(letter)): int(oc) for letter, oc in
                              zip(self.last_observation[self._idx["inv_letters"]],
                                  self.last_observation[self._idx["inv_oclasses"]]) if letter}
        # The Monk knows the spell of its starting spellbook (healing, protection or sleep).
        self._heal_self = any(int(oc) == OCLASS["spbook"] and b"healing" in bytes(row)
                              for oc, row in zip(self.last_observation[self._idx["inv_oclasses"]],
                                                 self.last_observation[self._idx["inv_strs"]]))
        info["messages"] = [m for m in (message_text(obs["message"]),) if m] if "message" in obs else []
        return self._user_obs(obs), info

    def step(self, action: int):
        # Only the score is needed from the previous observation: copy that, not every array.
        old_score = int(self.last_observation[self._blstats_index][nh.NLE_BL_SCORE])
        messages: list[str] = []
        self._just_eaten = False
        observation, done = self._act(int(action), messages)
        self._steps += 1
        self.last_observation = observation
        truncated = self._check_abort(observation)
        end_status = self._get_end_status(observation, done)
        reward = 0.0
        if self.nethack.in_normal_game():
            reward = float(observation[self._blstats_index][nh.NLE_BL_SCORE] - old_score)
        if end_status and not done:
            self._quit_game(observation, done)
            done = True
        obs = self._get_observation(observation)
        if self._pending_message is not None:
            obs["message"] = self._pending_message
            self._pending_message = None
        info = self._get_information(end_status)
        info["messages"] = messages
        info["just_eaten"] = self._just_eaten  # this action confirmed the eat prompt (the original's flag)
        return self._user_obs(obs), reward, bool(done), bool(truncated), info

    # ------------------------------------------------------------------ internals
    def _user_obs(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if len(obs) == len(self._user_keys):
            return obs
        return {k: obs[k] for k in self._user_keys}

    def _key(self, key: int, messages: list[str]):
        observation, done = self.nethack.step(key)
        buf = observation[self._message_index]
        if buf[0]:  # decode only non-empty messages: most steps show none
            msg = message_text(buf)
            if not messages or messages[-1] != msg:
                messages.append(msg)
        return observation, done

    def _act(self, action: int, messages: list[str]):
        """Send the agent's action (expanding macro-actions), then resolve prompts."""
        name = ACTION_NAMES[action]
        key = ACTION_KEYS[action]
        obs = self.last_observation
        misc = obs[self._idx["misc"]]
        if misc[0] and self._item_prompt_open(obs):  # eat/drink: y picks the first item, else cancel
            first = _FIRST_ITEM.search(bytes(obs[self._message_index]))
            if key == KEY_Y and first:
                self._just_eaten = b"eat" in bytes(obs[self._message_index])
                observation, done = self._key(first.group(1)[0], messages)
            else:
                observation, done = self._key(ESC, messages)  # "Never mind."
        elif misc[0]:  # a kept question is open: this action answers it
            observation, done = self._key(key, messages)
            if not done and observation[self._idx["misc"]][0] and key not in (KEY_Y, KEY_N, ENTER, ESC):
                observation, done = self._key(ESC, messages)  # not an answer: decline, never stall
        elif name == "wait":
            for digit in str(self.wait_turns):
                self.nethack.step(ord(digit))
            observation, done = self._key(key, messages)
        elif name == "cast":
            # 'Z' opens the spell menu (PICK_ONE): 'a' picks the first spell before the prompt policy
            # would dismiss the menu. Healing goes to the agent itself ('.', as the original); another
            # spell's direction, if asked, is the agent's next action.
            observation, done = self._key(key, messages)
            if not done and b"know any spells" not in bytes(observation[self._message_index]):
                observation, done = self._key(ord("a"), messages)
                if (not done and self._heal_self and observation[self._idx["misc"]][0]
                        and b"direction?" in bytes(observation[self._message_index])):
                    observation, done = self._key(ord("."), messages)
        else:
            observation, done = self._key(key, messages)
        observation, done = self._resolve_prompts(observation, done, messages)
        if self.auto_enhance and not done and any(_CONFIDENT in m for m in messages):
            observation, done = self._key(int(nh.Command.ENHANCE), messages)
            if not done:
                observation, done = self._key(ord("a"), messages)
            observation, done = self._resolve_prompts(observation, done, messages)
        return observation, done

    def _resolve_prompts(self, observation, done: bool, messages: list[str]):
        """Dismiss --More--, answer item prompts, decline questions not in KEPT_QUESTIONS."""
        last_shown: np.ndarray | None = None
        kept: np.ndarray | None = None  # keep_messages="original": the last KEEP_ACROSS_MORE message
        for _ in range(_MAX_PROMPT_KEYS):
            if done:
                break
            misc = observation[self._idx["misc"]]
            in_yn, in_getlin, waiting_space = misc[0], misc[1], misc[2]
            if not (in_yn or in_getlin or waiting_space):
                break  # the usual case: the game waits for a command
            if waiting_space:
                if observation[self._message_index][0] not in (0, 32):
                    last_shown = observation[self._message_index].copy()
                    if any(k in bytes(last_shown) for k in KEEP_ACROSS_MORE):
                        kept = last_shown
                observation, done = self._key(SPACE, messages)
                continue
            if in_getlin:  # a line of text is asked for: we never type one
                observation, done = self._key(ESC, messages)
                continue
            raw = bytes(observation[self._message_index])
            if in_yn:
                m = _ITEM_PROMPT.search(raw) if self.item_prompt == "auto" else None
                if m:  # item_prompt="auto": first offered item
                    letters = re.sub(rb"[^a-zA-Z]", b"", m.group(2).split(b" or ")[0])
                    observation, done = self._key(letters[0] if letters else ESC, messages)
                    continue
                if _DROP_PROMPT.search(raw):
                    letter = self._collected_item(observation)
                    observation, done = self._key(ord(letter) if letter else ESC, messages)
                    continue
                if any(q in raw for q in KEPT_QUESTIONS):
                    break  # the agent answers with its next action
                observation, done = self._key(ESC, messages)
        if done:
            return observation, done
        if self.keep_messages == "original":
            # The original replaces the message with the kept one whatever the final screen shows; a
            # question left open for the agent stays visible instead (the agent must see it).
            if kept is not None and not observation[self._idx["misc"]][0]:
                self._pending_message = kept
        elif last_shown is not None and observation[self._message_index][0] == 0:
            # keep_messages="last": the final screen is blank, keep the last message shown this step.
            self._pending_message = last_shown
        return observation, done

    def _item_prompt_open(self, observation) -> bool:
        return self.item_prompt == "agent" and bool(_ITEM_PROMPT.search(bytes(observation[self._message_index])))

    def _collected_item(self, observation) -> str | None:
        """Letter of the first inventory item picked up this episode (not starting kit, food, coins)."""
        for letter, oclass in zip(observation[self._idx["inv_letters"]], observation[self._idx["inv_oclasses"]]):
            if letter == 0:
                break
            ch, oc = chr(int(letter)), int(oclass)
            if oc in _NOT_DROPPED or self._starting_kit.get(ch) == oc:
                continue
            return ch
        return None

    # ------------------------------------------------------------------ raw access (tests, detectors)
    def send_keys(self, keys: str | bytes | list[int]) -> dict[str, np.ndarray]:
        """Type raw keys (no prompt policy, no step counting): wizard-mode setups, ``#overview``.

        Returns the observation after the last key. Not an agent action: it does not advance
        ``max_episode_steps`` and gives no reward.
        """
        seq = keys.encode() if isinstance(keys, str) else bytes(keys)
        observation = self.last_observation
        for k in seq:
            observation, done = self.nethack.step(k)
            if done:
                break
        self.last_observation = observation
        return self._user_obs(self._get_observation(observation))

    def waiting_for(self) -> str | None:
        """What NetHack waits for besides a command: ``"yn"`` (a question), ``"line"`` (typed text),
        ``"more"`` (a ``--More--`` or a text window), or None (ready for a command)."""
        if not self.last_observation:
            return None
        misc = self.last_observation[self._idx["misc"]]
        return "yn" if misc[0] else "line" if misc[1] else "more" if misc[2] else None

    def confirm_item_prompt(self) -> bool:
        """True when an eat/drink item prompt is open (the next ``move_nw`` picks the first item)."""
        return bool(self.last_observation) and bool(self.last_observation[self._idx["misc"]][0]) \
            and self._item_prompt_open(self.last_observation)

    def pending_question(self) -> str | None:
        """The kept question the agent's next action answers, or None."""
        if self.last_observation and self.last_observation[self._idx["misc"]][0]:
            return message_text(self.last_observation[self._message_index])
        return None

    def current_obs(self) -> dict[str, np.ndarray]:
        return self._user_obs(self._get_observation(self.last_observation))


def make_env(**kwargs: Any) -> MaestroNLE:
    """The paper's environment (see :class:`MaestroNLE` for the keyword arguments)."""
    return MaestroNLE(**kwargs)
