"""The agents an evaluation compares, behind one small protocol.

An :class:`Agent` is told about every observation the environment returns and answers with an action::

    agent.reset(obs, info)            # a new episode (obs, info from env.reset)
    action = agent.act(obs, info)     # obs, info: what the last env.reset / env.step returned
    agent.skill                       # the running skill's name (None for agents without skills)
    agent.stats()                     # per-episode counters for the report (skill use, policy errors)

Three agents, one table entry each (:data:`AGENTS`):

- ``maestromotif``: the task's policy over skills (LLM-written ``execution.py``) run by the options
  framework (:class:`maestromotif.skills.options.OptionsController`) choosing which skill the trained
  skill-conditioned policy (:class:`maestromotif.rl.actor.SkillActor`) executes;
- ``random_skills``: the same skills, initiation and termination, but the next skill is drawn
  uniformly among those whose initiation holds (discoverer, descender and ascender always; the
  worshipper and the merchant when the task's ``skill_precondition`` says so);
- ``random_actions``: uniform over the 28 actions.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from maestromotif.nethack.actions import NUM_ACTIONS
from maestromotif.utils.errors import UserError

ALWAYS_AVAILABLE = ("discoverer", "descender", "ascender")


@runtime_checkable
class Agent(Protocol):
    name: str

    def reset(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> None: ...
    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> int: ...
    @property
    def skill(self) -> str | None: ...
    def stats(self) -> dict[str, float]: ...


class RandomActionAgent:
    name = "random_actions"

    def __init__(self, rng: random.Random):
        self.rng = rng

    def reset(self, obs, info) -> None:
        pass

    def act(self, obs, info) -> int:
        return self.rng.randrange(NUM_ACTIONS)

    @property
    def skill(self) -> None:
        return None

    def stats(self) -> dict[str, float]:
        return {}


class SkillAgent:
    """A policy over skills (options framework) driving a skill-conditioned actor."""

    def __init__(self, name: str, controller: Any, actor: Any, deterministic: bool = False):
        self.name = name
        self.controller = controller
        self.actor = actor
        self.deterministic = deterministic
        self._state = None
        self._fresh = True

    def reset(self, obs, info) -> None:
        self.controller.reset(obs, info)
        self._state = self.actor.initial_state(1)
        self._fresh = True

    def act(self, obs, info) -> int:
        if self._fresh:  # the skill chosen at reset runs first
            self._fresh = False
            skill = self.controller.skill_index
        else:
            skill = self.controller.step(obs, info)
        actions, self._state = self.actor.act(self.actor.obs_batch(obs, skill), self._state,
                                              deterministic=self.deterministic)
        return int(actions[0])

    @property
    def skill(self) -> str:
        return self.controller.skill

    def stats(self) -> dict[str, float]:
        return dict(self.controller.stats())


def random_skill_policy(policy_cls: type, rng: random.Random) -> type:
    """``policy_cls`` (a task's ``NetHackPlayer``) with ``perform_task`` replaced by a uniform draw among
    the skills whose initiation holds; its initiation and termination functions are kept."""

    class RandomSkills(policy_cls):  # type: ignore[misc, valid-type]
        def set_initial_values(self):
            super().set_initial_values()
            self.skill = rng.choice(ALWAYS_AVAILABLE)

        def perform_task(self, current_skill, dungeon_depth, branch_number, merchant_precondition,
                         worshipper_precondition):
            choices = list(ALWAYS_AVAILABLE)
            if worshipper_precondition:
                choices.append("worshipper")
            if merchant_precondition:
                choices.append("merchant")
            return rng.choice(choices)

    RandomSkills.__name__ = RandomSkills.__qualname__ = f"Random{policy_cls.__name__}"
    RandomSkills.__module__ = policy_cls.__module__  # the controller seeds the generated module's `random`
    return RandomSkills


# ------------------------------------------------------------------------------------ the table
@dataclass
class AgentContext:
    """What building an agent may need; loaded once per worker process."""

    rng: random.Random
    policy_cls: Callable[[], type] | None = None   # the task's policy over skills (loaded lazily)
    actor: Callable[[], Any] | None = None          # the skill policy (loaded lazily)
    deterministic: bool = False


@dataclass(frozen=True)
class AgentSpec:
    name: str
    description: str
    uses_skills: bool           # needs the skill policy checkpoint and the task's policy over skills
    build: Callable[[AgentContext], Any]


def _controller(policy_cls: type, rng: random.Random):
    from maestromotif.skills.options import OptionsController

    return OptionsController(policy_cls, rng=rng)


def _maestromotif(ctx: AgentContext):
    return SkillAgent("maestromotif", _controller(ctx.policy_cls(), ctx.rng), ctx.actor(), ctx.deterministic)


def _random_skills(ctx: AgentContext):
    cls = random_skill_policy(ctx.policy_cls(), ctx.rng)
    return SkillAgent("random_skills", _controller(cls, ctx.rng), ctx.actor(), ctx.deterministic)


AGENTS: dict[str, AgentSpec] = {s.name: s for s in (
    AgentSpec("maestromotif", "the task's policy over skills running the trained skill policy", True, _maestromotif),
    AgentSpec("random_skills", "a uniformly random policy over the same skills (initiation and termination "
              "kept)", True, _random_skills),
    AgentSpec("random_actions", "uniformly random actions", False, lambda ctx: RandomActionAgent(ctx.rng)),
)}
AGENT_NAMES: tuple[str, ...] = tuple(AGENTS)


def parse_agents(text: str) -> list[str]:
    names = [a.strip() for a in text.split(",") if a.strip()]
    bad = [a for a in names if a not in AGENTS]
    if bad or not names:
        raise UserError(f"unknown agent(s) {', '.join(bad) or '(none given)'}",
                        expected=f"a comma-separated list of {', '.join(AGENT_NAMES)}",
                        fix="e.g. --agents maestromotif,random_skills,random_actions")
    return names
