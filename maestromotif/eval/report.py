"""The evaluation report: per task and agent, both detectors, BALROG progression, the paper's numbers.

``report.json``::

    {"config": {...}, "created": "...", "rows": [ROW, ...], "paper_source": "..."}

ROW (also one line of ``report.csv``, same keys): ``task``, ``title``, ``kind``, ``metric``
(``success`` = rates in [0, 1], ``count`` = mean per episode), ``agent``, ``n`` (episodes),
``proxy_mean``/``proxy_se`` (the paper's detector), ``exact_mean``/``exact_se``, ``progression_mean``/
``progression_se`` (BALROG), ``steps_mean``, ``died`` (fraction of episodes that ended by the game
ending), ``paper``/``paper_pm`` (MaestroMotif in Table 1; only on ``maestromotif`` rows), ``deaths`` (``{cause:
count}`` of how the episodes ended, :data:`maestromotif.nethack.deaths.CAUSES`; ``cause:n;cause:n`` in the
CSV), ``killers`` (the monsters that killed most often, ``{name: count}``), ``own_job`` (skill agents: per skill the
activations, steps and own-job rate, :func:`maestromotif.skills.own_job.own_job_rates`, over the summed
counters of the episodes; a compact text in the CSV), ``label`` (what the agent is, in words:
:attr:`maestromotif.eval.agents.AgentSpec.label`, e.g. "learned skills, rule labels (oracle)" for
``maestromotif[rules]``), ``skill_policy`` (the skill policy the agent ran, None for agents without one).
Standard errors
are ``std / sqrt(n)`` over episodes (sample std; 0 for n = 1).

``report.md`` is the markdown table printed at the end of a run; ``report.png`` plots the exact
verdicts (bars) next to the proxy (hollow bars) and the paper (black ticks).
"""

from __future__ import annotations

import csv
import io
import math
import time
from pathlib import Path
from typing import Any

from maestromotif.eval.agents import agent_spec
from maestromotif.eval.tasks import TASKS
from maestromotif.nethack import deaths
from maestromotif.skills import own_job as OJ
from maestromotif.utils.io import atomic_save_json, atomic_write_bytes, atomic_write_text
from maestromotif.workspace import workspace_relative

PAPER_SOURCE = "Klissarov et al., ICLR 2025, Table 1 (zero-shot MaestroMotif; ± as reported)"
COLUMNS = ("task", "title", "kind", "metric", "agent", "n", "proxy_mean", "proxy_se", "exact_mean", "exact_se",
           "progression_mean", "progression_se", "steps_mean", "died", "paper", "paper_pm",
           "deaths", "killers", "own_job")


# Per-episode counters of the options framework (SkillAgent.stats), summed per task and agent: calls into
# the policy over skills that raised, that ran past their time budget, and invalid skill names replaced.
POLICY_COUNTERS = {"policy_errors": "policy_errors", "policy_timeouts": "policy_timeouts",
                   "skill_fallbacks": "invalid_skill_names"}
COLUMNS = COLUMNS + tuple(POLICY_COUNTERS) + ("label", "skill_policy")


def skill_policy(cfg, agent: str) -> str | None:
    """The skill policy ``agent`` runs in the run ``cfg`` (None: the agent has none)."""
    spec = agent_spec(agent)
    if not spec.runs_actor:
        return None
    extra = getattr(cfg, "extra_checkpoints", None) or {}
    path = cfg.checkpoint if spec.checkpoint is None else extra.get(spec.checkpoint)
    # The default checkpoint arrives resolved to an absolute path; a report (and the README table made
    # from it) should not name the machine it ran on.
    return None if path is None else workspace_relative(path)


def policy_counts(eps: list[dict[str, Any]]) -> dict[str, int | None]:
    """Summed policy counters of a row's episodes (None for agents without a policy over skills)."""
    stats = [r.get("agent_stats") or {} for r in eps]
    if not any("policy_errors" in st for st in stats):
        return dict.fromkeys(POLICY_COUNTERS)
    return {col: int(sum(st.get(key, 0) for st in stats)) for col, key in POLICY_COUNTERS.items()}


def policy_table(rows: list[dict[str, Any]]) -> list[str]:
    """Markdown lines: errors / timeouts / fallbacks of the policy over skills per task and agent."""
    rows = [r for r in rows if r.get("policy_errors") is not None]
    if not rows:
        return []
    out = ["", "| Task | Agent | Policy errors | of which timeouts | Skill fallbacks (invalid names) |",
           "|---|---|---:|---:|---:|"]
    out += [f"| {r['title']} | {r['agent']} | {r['policy_errors']} | {r['policy_timeouts']} | "
            f"{r['skill_fallbacks']} |" for r in rows]
    return out


def _mean_se(values: list[float]) -> tuple[float, float]:
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    mean = sum(values) / n
    if n == 1:
        return round(mean, 9), 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return round(mean, 9), round(math.sqrt(var / n), 9)


def build_report(records: list[dict[str, Any]], cfg, keys: dict[tuple[str, str], str]) -> dict[str, Any]:
    rows = []
    for task in cfg.tasks:
        t = TASKS[task]
        for agent in cfg.agents:
            eps = sorted((r for r in records if r["task"] == task and r["agent"] == agent
                          and r["run_key"] == keys[(task, agent)] and r["episode"] < cfg.episodes),
                         key=lambda r: r["episode"])
            row = {"task": task, "title": t.title, "kind": t.kind, "metric": t.metric, "agent": agent, "n": len(eps),
                   "label": agent_spec(agent).label, "skill_policy": skill_policy(cfg, agent)}
            row.update(policy_counts(eps))
            for name in ("proxy", "exact", "progression", "steps"):
                mean, se = _mean_se([float(r[name]) for r in eps])
                row[f"{name}_mean"] = mean
                if name != "steps":
                    row[f"{name}_se"] = se
            row["died"] = _mean_se([float(r["end"] not in ("success", "max_steps")) for r in eps])[0]
            row["paper"], row["paper_pm"] = (t.paper, t.paper_pm) if agent == "maestromotif" else (None, None)
            ends = [_death(r) for r in eps]
            row["deaths"], row["killers"] = deaths.tally(ends), deaths.killers(ends)
            counters = OJ.sum_counters(r.get("agent_stats") or {} for r in eps)
            row["own_job"] = OJ.own_job_rates(counters)
            rows.append(row)
    from maestromotif.utils.config import to_dict

    return {"config": to_dict(cfg), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "paper_source": PAPER_SOURCE,
            "rows": rows}


def _death(rec: dict[str, Any]) -> dict[str, Any]:
    """The record's cause of death; records written before causes were recorded get one from ``end``."""
    return rec.get("death") or {"cause": deaths.classify(rec.get("end"), []).cause, "detail": ""}


def _fmt(metric: str, mean: float | None, se: float | None = None) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    if metric == "success":
        s = f"{100 * mean:.1f}%"
        return s if se is None else f"{s} ± {100 * se:.1f}%"
    s = f"{mean:.2f}"
    return s if se is None else f"{s} ± {se:.2f}"


def markdown(report: dict[str, Any]) -> str:
    lines = ["| Task | Agent | N | Paper (MaestroMotif) | Proxy (paper's detector) | Exact | "
             "BALROG progression | Steps | Died | Ends (causes) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in report["rows"]:
        paper = _fmt(r["metric"], r["paper"], r["paper_pm"]) if r["paper"] is not None else ""
        lines.append(f"| {r['title']} | {r['agent']} | {r['n']} | {paper} | "
                     f"{_fmt(r['metric'], r['proxy_mean'], r['proxy_se'])} | "
                     f"{_fmt(r['metric'], r['exact_mean'], r['exact_se'])} | "
                     f"{r['progression_mean']:.3f} ± {r['progression_se']:.3f} | "
                     f"{r['steps_mean']:.0f} | {_fmt('success', r['died'])} | {deaths.summary(r.get('deaths', {}))} |")
    lines += [""] + deaths_table(report["rows"])
    own = own_job_table(report["rows"])
    lines += [""] + own if own else []
    cfg = report["config"]
    lines.append("")
    if any(r["agent"] == "scripted_skills" for r in report["rows"]):
        lines.append("`scripted_skills` is the ceiling row: the same policies over skills, options framework and "
                     "detectors, each skill run by a hand-written controller instead of the learned skill policy.")
    legend = agent_legend(report["rows"])
    if legend:
        lines.append(legend)
    policies = (f"skill policy `{cfg['checkpoint']}`" if not cfg.get("extra_checkpoints") else
                "skill policies " + ", ".join(f"`{a}` `{p}`" for a, p in skill_policies(report["rows"]).items()))
    lines.append(f"Success rates in %, interaction tasks as mean count per episode, ± one standard error. "
                 f"Up to {cfg['max_episode_steps']} steps per episode, game seeds {cfg['seed']}.."
                 f"{cfg['seed'] + cfg['episodes'] - 1}, {policies}. "
                 f"Paper: {report['paper_source']}.")
    lines += policy_table(report["rows"])
    return "\n".join(lines) + "\n"


def skill_policies(rows: list[dict[str, Any]]) -> dict[str, str]:
    """``{agent: skill policy}`` of the rows' agents that ran one (first row of each agent)."""
    out: dict[str, str] = {}
    for r in rows:
        if r.get("skill_policy") and r["agent"] not in out:
            out[r["agent"]] = r["skill_policy"]
    return out


def agent_legend(rows: list[dict[str, Any]]) -> str:
    """One line naming what each agent is (reports written before rows had labels: '')."""
    labels = {r["agent"]: r["label"] for r in rows if r.get("label")}
    return ("Agents: " + "; ".join(f"`{a}` = {lab}" for a, lab in labels.items()) + ".") if labels else ""


def per_agent(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, int]]:
    """``{agent: {name: count}}`` summed over the tasks of ``rows`` (``key``: deaths or killers)."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        acc = out.setdefault(r["agent"], {})
        for name, n in (r.get(key) or {}).items():
            acc[name] = acc.get(name, 0) + n
    return out


def deaths_table(rows: list[dict[str, Any]]) -> list[str]:
    """Markdown lines: causes of the ends per agent over all tasks, and its deadliest monsters."""
    ends, kills = per_agent(rows, "deaths"), per_agent(rows, "killers")
    causes = [c for c in deaths.CAUSES if any(c in d for d in ends.values())]
    if not causes:
        return []
    lines = ["Causes of the ends per agent (episodes, all tasks; `maestromotif.nethack.deaths`):", "",
             "| Agent | " + " | ".join(causes) + " | deadliest monsters |",
             "|---|" + "---:|" * len(causes) + "---|"]
    for agent, d in ends.items():
        top = sorted(kills.get(agent, {}).items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        lines.append(f"| {agent} | " + " | ".join(str(d.get(c, 0)) for c in causes) + " | "
                     + (", ".join(f"{k} {n}" for k, n in top) or "-") + " |")
    return lines


def own_job_table(rows: list[dict[str, Any]], quote: bool = False) -> list[str]:
    """Markdown lines: each skill's own-job rate per agent over all tasks (skill agents only; ``quote``:
    agent names as code, as the README's status table writes them)."""
    by_agent: dict[str, dict[str, float]] = {}
    for r in rows:
        for skill, v in (r.get("own_job") or {}).items():
            acc = by_agent.setdefault(r["agent"], {})
            for k in ("activations", "steps", "own_job"):
                acc[f"{skill}_{k}"] = acc.get(f"{skill}_{k}", 0) + v.get(k, 0)
            for beh in OJ.DISCOVERER_RATES:
                if f"{beh}_per_1000" in v:  # back to counts, to sum over tasks
                    acc[f"{skill}_{beh}"] = acc.get(f"{skill}_{beh}", 0) + v[f"{beh}_per_1000"] * v["steps"] / 1000
    if not by_agent:
        return []
    lines = ["Own job per skill (all tasks; `maestromotif.skills.own_job`): activations that did the job / "
             "activations (rate); discoverer: new cells and kills per 1,000 of its steps.", "",
             "| Agent | discoverer cells /1k | discoverer kills /1k | " + " | ".join(OJ.OWN_JOB) + " |",
             "|---|---:|---:|" + "---:|" * len(OJ.OWN_JOB)]
    for agent, counters in by_agent.items():
        rates = OJ.own_job_rates(counters)
        disc = rates.get("discoverer", {})
        cells = [f"{disc.get('cells_explored_per_1000', math.nan):.0f}", f"{disc.get('kills_per_1000', math.nan):.2f}"]
        for skill in OJ.OWN_JOB:
            v = rates.get(skill)
            cells.append("-" if not v or not v["activations"] else
                         f"{v['own_job']:.0f}/{v['activations']:.0f} ({100 * v['own_job_rate']:.0f}%)")
        lines.append(f"| {f'`{agent}`' if quote else agent} | " + " | ".join(cells) + " |")
    return lines


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        return OJ.summary(value)
    if isinstance(value, dict):
        return ";".join(f"{k}:{v}" for k, v in value.items())
    return value


def write_report(out: str | Path, report: dict[str, Any]) -> None:
    out = Path(out)
    atomic_save_json(out / "report.json", report)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    for r in report["rows"]:
        w.writerow({k: _csv_value(r.get(k)) for k in COLUMNS})
    atomic_write_text(out / "report.csv", buf.getvalue())
    atomic_write_text(out / "report.md", markdown(report))
    if any(r["n"] for r in report["rows"]):
        atomic_write_bytes(out / "report.png", plot(report))


def plot(report: dict[str, Any]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["rows"]
    agents = list(dict.fromkeys(r["agent"] for r in rows))
    groups = [("success", "success rate (%)", 100.0), ("count", "count per episode", 1.0)]
    groups = [g for g in groups if any(r["metric"] == g[0] for r in rows)]
    ends = per_agent(rows, "deaths")
    causes = [c for c in deaths.CAUSES if any(c in d for d in ends.values())]
    panels = len(groups) + bool(causes)
    fig, axes = plt.subplots(1, panels, figsize=(6.5 * panels, 4.2), squeeze=False)
    width = 0.8 / max(1, len(agents))
    for ax, (metric, label, scale) in zip(axes[0], groups):
        tasks = list(dict.fromkeys(r["task"] for r in rows if r["metric"] == metric))
        for j, agent in enumerate(agents):
            for i, task in enumerate(tasks):
                r = next((r for r in rows if r["task"] == task and r["agent"] == agent), None)
                if r is None or not r["n"]:
                    continue
                x = i + (j - (len(agents) - 1) / 2) * width
                ax.bar(x, scale * r["exact_mean"], width, color=f"C{j}", label=agent if i == 0 else None,
                       yerr=scale * r["exact_se"], capsize=2)
                ax.bar(x, scale * r["proxy_mean"], width, fill=False, edgecolor=f"C{j}", linestyle="--")
                if r["paper"] is not None:
                    ax.plot([x - width / 2, x + width / 2], [scale * r["paper"]] * 2, color="black", lw=2)
        ax.set_ylim(0, max([1.0 if metric == "count" else 10.0] + [scale * 1.15 * max(
            r["exact_mean"] + r["exact_se"], r["proxy_mean"], r["paper"] or 0) for r in rows
            if r["metric"] == metric and r["n"]]))
        ax.set_xticks(range(len(tasks)), [TASKS[t].title for t in tasks], rotation=20)
        ax.set_ylabel(label)
        ax.legend(fontsize=8, title="filled: exact, dashed: proxy, black: paper", title_fontsize=7)
    if causes:  # how the episodes ended, per agent (all tasks): stacked fractions
        ax = axes[0][-1]
        cmap = plt.get_cmap("tab20")
        for j, agent in enumerate(agents):
            d, left = ends.get(agent, {}), 0.0
            total = sum(d.values()) or 1
            for k, cause in enumerate(causes):
                frac = d.get(cause, 0) / total
                ax.barh(j, frac, left=left, color=cmap(k % 20), label=cause if j == 0 else None)
                left += frac
        ax.set_yticks(range(len(agents)), agents)
        ax.set_xlim(0, 1)
        ax.set_xlabel("fraction of episodes (all tasks)")
        ax.set_title("causes of the ends")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
