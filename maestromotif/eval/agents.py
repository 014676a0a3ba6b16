"""The agents an evaluation compares, behind one small protocol.

An :class:`Agent` is told about every observation the environment returns and answers with an action::

    agent.reset(obs, info)            # a new episode (obs, info from env.reset)
    action = agent.act(obs, info)     # obs, info: what the last env.reset / env.step returned
    agent.skill                       # the running skill's name (None for agents without skills)
    agent.stats()                     # per-episode counters for the report (skill use, policy errors)

Four agents, one table entry each (:data:`AGENTS`):

- ``maestromotif``: the task's policy over skills (LLM-written ``execution.py``) run by the options
  framework (:class:`maestromotif.skills.options.OptionsController`) choosing which skill the trained
  skill-conditioned policy (:class:`maestromotif.rl.actor.SkillActor`) executes;
- ``random_skills``: the same skills, initiation and termination, but the next skill is drawn
  uniformly among those whose initiation holds (discoverer, descender and ascender always; the
  worshipper and the merchant when the task's ``skill_precondition`` says so);
- ``scripted_skills``: the task's policy over skills, each skill executed by a hand-written
  controller (:mod:`maestromotif.skills.scripted`) instead of the trained policy: the ceiling of the
  hierarchy with competent skills;
- ``random_actions``: uniform over the 28 actions.

An agent that runs the trained skill policy can be evaluated with another skill policy under a
suffixed name, ``maestromotif[<name>]`` (``--extra_checkpoints <name>=<path>``): the same agent, its
skills from that checkpoint (e.g. ``maestromotif[rules]``: skills trained on the caption-rule oracle's
labels). :func:`agent_spec` resolves such names; :data:`CHECKPOINT_LABELS` names them in tables.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable, Iterable
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
    """A policy over skills (options framework) driving a skill-conditioned actor.

    Several SkillAgents sharing one actor act together with :meth:`act_many` (one batched forward pass
    for all of them: the evaluator runs many episodes per process this way). Actions are drawn from
    each agent's own random stream (``rng``), so an episode does not depend on what else is batched.
    """

    def __init__(self, name: str, controller: Any, actor: Any, rng: random.Random, deterministic: bool = False):
        self.name = name
        self.controller = controller
        self.actor = actor
        self.deterministic = deterministic
        self._np_rng = np.random.default_rng(rng.getrandbits(64))
        self._state = None
        self._fresh = True

    def reset(self, obs, info) -> None:
        self.controller.reset(obs, info)
        self._state = self.actor.initial_state(1)
        self._fresh = True

    def act(self, obs, info) -> int:
        return SkillAgent.act_many([self], [obs], [info])[0]

    @staticmethod
    def act_many(agents: list[SkillAgent], obs: list[dict], infos: list[dict]) -> list[int]:
        """One action per agent (all agents share ``agents[0].actor``), one forward pass."""
        import torch

        actor = agents[0].actor
        skills = [a._next_skill(o, i) for a, o, i in zip(agents, obs, infos)]
        inputs = [actor.obs_batch(o, k) for o, k in zip(obs, skills)]
        batch = {key: np.concatenate([x[key] for x in inputs]) for key in inputs[0]}
        states = torch.cat([a._state for a in agents])
        logits, new_states = policy_logits(actor, batch, states)
        probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        actions = []
        for i, a in enumerate(agents):
            a._state = new_states[i:i + 1]
            actions.append(a._choose(probs[i]))
        return actions

    def _next_skill(self, obs, info) -> int:
        if self._fresh:  # the skill chosen at reset runs first
            self._fresh = False
            return self.controller.skill_index
        return self.controller.step(obs, info)

    def _choose(self, probs: np.ndarray) -> int:
        if self.deterministic:
            return int(np.argmax(probs))
        cdf = np.cumsum(probs, dtype=np.float64)
        return int(min(np.searchsorted(cdf, self._np_rng.random() * cdf[-1], side="right"), len(probs) - 1))

    @property
    def skill(self) -> str:
        return self.controller.skill

    def stats(self) -> dict[str, float]:
        return dict(self.controller.stats())


def policy_logits(actor: Any, batch: dict[str, np.ndarray], rnn_states: Any) -> tuple[Any, Any]:
    """Action logits and new recurrent states of a :class:`~maestromotif.rl.actor.SkillActor` for a batch
    (sample-factory's model API: normalise the observations, run the actor-critic)."""
    import torch
    from sample_factory.algo.utils.rl_utils import prepare_and_normalize_obs

    with torch.inference_mode():
        obs = {k: torch.as_tensor(np.asarray(v)) for k, v in batch.items()}
        out = actor.model(prepare_and_normalize_obs(actor.model, obs), rnn_states.to(actor.device))
    return out["action_logits"], out["new_rnn_states"]


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
    agent: str = ""                                 # the agent's name (e.g. maestromotif[rules]); '' = the spec's


@dataclass(frozen=True)
class AgentSpec:
    name: str
    description: str
    uses_skills: bool           # needs the task's policy over skills
    build: Callable[[AgentContext], Any]
    uses_actor: bool = True     # with uses_skills: also needs the trained skill policy checkpoint
    code: tuple[str, ...] = ()  # modules whose source decides the agent's play (part of the run key)
    label: str = ""             # what the row is, in words, for report tables (e.g. "random actions")
    checkpoint: str | None = None  # for maestromotif[<name>]: the --extra_checkpoints name; None: --checkpoint

    @property
    def runs_actor(self) -> bool:
        """Runs the trained skill policy (the scripted ceiling needs only the policy over skills)."""
        return self.uses_skills and self.uses_actor


def _controller(policy_cls: type, rng: random.Random):
    from maestromotif.skills.options import OptionsController

    return OptionsController(policy_cls, rng=rng)


def _maestromotif(ctx: AgentContext):
    return SkillAgent(ctx.agent or "maestromotif", _controller(ctx.policy_cls(), ctx.rng), ctx.actor(), ctx.rng,
                      ctx.deterministic)


def _random_skills(ctx: AgentContext):
    cls = random_skill_policy(ctx.policy_cls(), ctx.rng)
    return SkillAgent(ctx.agent or "random_skills", _controller(cls, ctx.rng), ctx.actor(), ctx.rng, ctx.deterministic)


def _scripted_skills(ctx: AgentContext):
    from maestromotif.skills.scripted import scripted_agent

    return scripted_agent(ctx.policy_cls(), ctx.rng)


AGENTS: dict[str, AgentSpec] = {s.name: s for s in (
    AgentSpec("maestromotif", "the task's policy over skills running the trained skill policy", True, _maestromotif,
              label="learned skills (LLM labels)"),
    AgentSpec("random_skills", "a uniformly random policy over the same skills (initiation and termination "
              "kept)", True, _random_skills, label="random policy over skills"),
    AgentSpec("scripted_skills", "the task's policy over skills running hand-written skill controllers (a ceiling)",
              True, _scripted_skills, uses_actor=False,
              code=("maestromotif.skills.scripted", "maestromotif.skills.levelmap"), label="scripted skills (ceiling)"),
    AgentSpec("random_actions", "uniformly random actions", False, lambda ctx: RandomActionAgent(ctx.rng),
              label="random actions"),
)}
AGENT_NAMES: tuple[str, ...] = tuple(AGENTS)


# The ceiling row: the same policies over skills with every skill run by a hand-written controller
# (registered by the scripted-skills work under this name; issue 13).
CEILING_AGENT = "scripted_skills"

# ------------------------------------------------------------------ the same agent, another skill policy
CHECKPOINT_AGENT = "maestromotif"  # --extra_checkpoints adds this agent once per extra skill policy
# What a skill policy named in --extra_checkpoints is, in words (report and README tables). A name not
# listed here is shown as "learned skills, skill policy '<name>'".
CHECKPOINT_LABELS = {
    "rules": "learned skills, rule labels (oracle)",
}
_SUFFIXED = re.compile(r"^([a-z_]+)\[([A-Za-z0-9_.-]+)\]$")
CHECKPOINT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def with_checkpoint(agent: str, name: str) -> str:
    """``maestromotif``, ``rules`` -> ``maestromotif[rules]``: the agent run with the skill policy ``name``."""
    return f"{agent}[{name}]"


def split_agent(name: str) -> tuple[str, str | None]:
    """``maestromotif[rules]`` -> (``maestromotif``, ``rules``); a plain name -> (name, None)."""
    m = _SUFFIXED.match(name)
    return (m.group(1), m.group(2)) if m else (name, None)


def checkpoint_label(agent: str, name: str) -> str:
    label = CHECKPOINT_LABELS.get(name, f"learned skills, skill policy '{name}'")
    return label if agent == CHECKPOINT_AGENT else f"{AGENTS[agent].label}, skill policy '{name}'"


def agent_spec(name: str) -> AgentSpec:
    """The table entry of ``name``; ``<agent>[<checkpoint>]`` is ``<agent>`` run with that skill policy."""
    base, ckpt = split_agent(name)
    spec = AGENTS.get(base)
    if spec is None or (ckpt is not None and not spec.runs_actor):
        raise UserError(f"unknown agent '{name}'",
                        expected=f"one of {', '.join(AGENT_NAMES)}, or <agent>[<name>] of an agent that runs the "
                                 "skill policy with a skill policy given as --extra_checkpoints <name>=<path>",
                        fix="e.g. --agents maestromotif,random_skills,random_actions")
    if ckpt is None:
        return spec
    return dataclasses.replace(spec, name=name, checkpoint=ckpt, label=checkpoint_label(base, ckpt),
                               description=f"{spec.description}, skills from the skill policy '{ckpt}'")


def _after_learned(agents: list[str]) -> int:
    """Where rows that go next to the learned skills are inserted: after the last ``maestromotif[...]``
    row (first when there is none)."""
    at = [i for i, a in enumerate(agents) if split_agent(a)[0] == CHECKPOINT_AGENT]
    return at[-1] + 1 if at else 0


def with_checkpoints(agents: list[str], names: list[str]) -> list[str]:
    """``agents`` plus ``maestromotif[<name>]`` for every extra skill policy not already listed, after
    ``maestromotif``."""
    extra = [with_checkpoint(CHECKPOINT_AGENT, n) for n in names]
    extra = [a for a in extra if a not in agents]
    at = _after_learned(agents)
    return list(agents[:at]) + extra + list(agents[at:])


def with_ceiling(agents: list[str]) -> list[str]:
    """``agents`` plus the ceiling agent, right after ``maestromotif`` (and its ``maestromotif[...]``
    rows; first when absent)."""
    if CEILING_AGENT not in AGENTS:
        raise UserError(f"the ceiling row needs the agent '{CEILING_AGENT}' (the policies over skills with scripted "
                        "skill controllers), which is not registered in maestromotif.eval.agents.AGENTS here",
                        expected=f"an AGENTS entry named '{CEILING_AGENT}'",
                        fix="use a checkout that includes the scripted skills (issue 13), or drop --ceiling")
    if CEILING_AGENT in agents:
        return list(agents)
    at = _after_learned(agents)
    return list(agents[:at]) + [CEILING_AGENT] + list(agents[at:])


def parse_agents(text: str, checkpoints: Iterable[str] = ()) -> list[str]:
    """The agents of ``--agents``; ``<agent>[<name>]`` only for a skill policy ``name`` in ``checkpoints``."""
    names = [a.strip() for a in text.split(",") if a.strip()]
    if not names:
        raise UserError("no agent given", expected=f"a comma-separated list of {', '.join(AGENT_NAMES)}",
                        fix="e.g. --agents maestromotif,random_skills,random_actions")
    known = set(checkpoints)
    for a in names:
        spec = agent_spec(a)
        if spec.checkpoint is not None and spec.checkpoint not in known:
            raise UserError(f"agent '{a}' names the skill policy '{spec.checkpoint}', which --extra_checkpoints "
                            "does not give", expected=f"--extra_checkpoints {spec.checkpoint}=<path>",
                            fix=f"add --extra_checkpoints {spec.checkpoint}=<experiment dir> or drop '{a}'")
    return names


def code_fingerprint(modules: tuple[str, ...]) -> str | None:
    """A hash of the modules' source files: results of a changed hand-written agent are not mixed with
    older ones (None when there are no modules)."""
    if not modules:
        return None
    import hashlib
    import importlib.util

    h = hashlib.sha256()
    for name in modules:
        with open(importlib.util.find_spec(name).origin, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]
