"""The pipeline's report: one markdown and one HTML page with PNG plots, from the files on disk.

Sections: stage timings, the dataset, label balance per skill, reward-model curves and the top/bottom
captions of each reward model, skill-training curves, and the zero-shot task table next to the
paper's numbers. A section whose files are missing says so instead of failing.
"""

from __future__ import annotations

import csv
import html
import json
import shutil
from pathlib import Path
from typing import Any

from maestromotif.pipeline.config import PipelineConfig
from maestromotif.utils.io import atomic_write_bytes, atomic_write_text
from maestromotif.workspace import Workspace

Block = tuple[str, Any]  # ("h2", text) | ("p", text) | ("table", (header, rows)) | ("img", path) | ("pre", text)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _label_plot(counts: dict[str, dict[str, int]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    skills = list(counts)
    kinds = ["first", "second", "tie", "unknown"]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bottom = [0] * len(skills)
    for k in kinds:
        vals = [counts[s].get(k, 0) for s in skills]
        ax.bar(skills, vals, bottom=bottom, label=k)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_ylabel("pairs")
    ax.set_title("LLM labels per skill")
    ax.legend(ncol=4, fontsize=8, loc="lower right")
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(out, buf.getvalue())


def _stage_section(w: Path) -> list[Block]:
    state = _read_json(w / "pipeline_state.json") or {}
    rows = []
    for name, rec in state.get("stages", {}).items():
        units = rec.get("units", {})
        notes = "; ".join(f"{u}: {r['note']}" for u, r in units.items() if r.get("note"))
        rows.append([name, f"{sum(r.get('done', False) for r in units.values())}/{len(units)}",
                     f"{rec.get('seconds', 0):.0f}", notes])
    return [("h2", "Stages"), ("table", (["stage", "units done", "seconds", "notes"], rows))]


def _dataset_section(cfg: PipelineConfig, w: Path) -> list[Block]:
    rows = []
    for s in cfg.skills:
        meta = _read_json(Workspace(w).og_dataset / f"{s}.meta.json")
        if meta:
            sm = meta.get("summary", {})
            rows.append([s, sm.get("pairs"), sm.get("unique_captions"), sm.get("identical_caption_pairs")])
    if not rows:
        return [("h2", "Dataset"), ("p", "No dataset in this workdir yet.")]
    return [("h2", "Dataset"), ("p", f"Collected with the `{cfg.collect_policy}` policy, seed {cfg.seed}."),
            ("table", (["skill", "pairs", "unique captions", "identical-caption pairs"], rows))]


def _label_section(cfg: PipelineConfig, w: Path, plots: Path) -> list[Block]:
    from maestromotif.pipeline.stages import experiment

    counts, rows = {}, []
    for s in cfg.skills:
        summ = _read_json(Workspace(w).preference / f"{experiment(cfg, s)}.summary.json")
        if not summ:
            continue
        c = summ.get("labels", {})
        counts[s] = c
        agree = summ.get("heuristic_agreement") or {}
        rows.append([s, c.get("first", 0), c.get("second", 0), c.get("tie", 0), c.get("unknown", 0),
                     summ.get("unparseable", ""),
                     f"{agree.get('rate'):.2f} ({agree.get('rule_pairs')})" if agree.get("rate") is not None else ""])
    if not counts:
        return [("h2", "LLM labels"), ("p", "No label files yet.")]
    _label_plot(counts, plots / "label_balance.png")
    return [("h2", "LLM labels"),
            ("p", f"Annotator `{cfg.annotator}` (backend `{cfg.backend}`), prompt `{cfg.prompt}`. The last column is "
                  "the agreement with caption-level rules on the pairs where a rule applies (e.g. descender: "
                  "prefer the caption whose dungeon level went down)."),
            ("img", "plots/label_balance.png"),
            ("table", (["skill", "first", "second", "tie", "unknown", "unparseable", "rule agreement (n)"], rows))]


def _reward_section(cfg: PipelineConfig, w: Path, plots: Path, top: int = 5) -> list[Block]:
    from maestromotif.pipeline.stages import experiment

    blocks: list[Block] = [("h2", "Reward models")]
    rows = []
    for s in cfg.skills:
        d = Workspace(w).skill_rewards / experiment(cfg, s)
        metrics = d / "metrics.csv"
        if not metrics.exists():
            continue
        with open(metrics) as f:
            last = list(csv.DictReader(f))[-1]
        rows.append([s, last.get("epoch"), _num(last.get("train_loss")), _num(last.get("val_loss")),
                     _num(last.get("val_acc"))])
        if (d / "training_curves.png").exists():
            shutil.copyfile(d / "training_curves.png", plots / f"reward_{s}.png")
    if not rows:
        return blocks + [("p", "No reward models yet.")]
    blocks.append(("table", (["skill", "epoch", "train loss", "held-out loss", "held-out accuracy"], rows)))
    for s in cfg.skills:
        if (plots / f"reward_{s}.png").exists():
            blocks += [("h3", f"{s}: training curves"), ("img", f"plots/reward_{s}.png")]
        try:
            from maestromotif.reward.inspection import rank_dataset
            from maestromotif.reward.runtime import SkillReward

            sr = SkillReward.load(Workspace(w).skill_rewards / experiment(cfg, s))
            ranked = rank_dataset(sr, Workspace(w).og_dataset / f"{s}.pkl")
        except Exception as e:  # a report never fails on one section
            blocks.append(("p", f"{s}: ranking unavailable ({type(e).__name__}: {e})"))
            continue
        shown = ranked if len(ranked) <= 2 * top else ranked[:top] + [None] + ranked[-top:]
        lines = ["..." if r is None else f"{r.r_norm:+.2f}  {r.text}" for r in shown]
        blocks += [("h3", f"{s}: most and least preferred captions (normalised reward)"), ("pre", "\n".join(lines))]
    return blocks


def _num(x: Any) -> str:
    try:
        return f"{float(x):.3f}"
    except (TypeError, ValueError):
        return str(x)


def _train_section(w: Path, plots: Path) -> list[Block]:
    exp = Workspace(w).skill_policy / "default"
    blocks: list[Block] = [("h2", "Skill training")]
    if not exp.exists():
        return blocks + [("p", "No skill policy trained yet.")]
    for name in ("training_curves.png", "curves.png"):
        if (exp / name).exists():
            shutil.copyfile(exp / name, plots / "skill_training.png")
            blocks.append(("img", "plots/skill_training.png"))
            break
    else:
        try:
            from maestromotif.rl.curves import plot_curves

            plot_curves(exp, plots / "skill_training.png")
            blocks.append(("img", "plots/skill_training.png"))
        except Exception as e:
            blocks.append(("p", f"training curves unavailable ({type(e).__name__}: {e})"))
    summary = _read_json(exp / "training_summary.json")
    if summary:
        last = summary.get("last_metrics") or {}
        blocks.append(("p", f"{summary.get('env_steps', 0):,} env steps in {summary.get('run_seconds', 0):.0f} s "
                            f"(last run); last {last.get('episodes', '?')} episodes: mean return "
                            f"{_num(last.get('reward'))}, length {_num(last.get('len'))}."))
        from maestromotif.skills.table import SKILL_NAMES

        cols = ("activations", "steps", "intrinsic_mean", "descents", "ascents", "items_sold", "altar_drops",
                "cells_explored", "kills")
        rows = [[s] + [_num(last.get(f"skills/{s}_{c}")) for c in cols] for s in SKILL_NAMES]
        blocks.append(("table", (["skill (per episode)"] + list(cols), rows)))
    return blocks


def _eval_section(w: Path, plots: Path) -> list[Block]:
    md = Workspace(w).eval_results / "report.md"
    if not md.exists():
        return [("h2", "Zero-shot evaluation"), ("p", "No evaluation yet.")]
    blocks: list[Block] = [("h2", "Zero-shot evaluation"), ("md", md.read_text())]
    if (Workspace(w).eval_results / "report.png").exists():
        shutil.copyfile(Workspace(w).eval_results / "report.png", plots / "eval.png")
        blocks.append(("img", "plots/eval.png"))
    return blocks


def _render_md(blocks: list[Block]) -> str:
    out = []
    for kind, v in blocks:
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + v)
        elif kind == "p":
            out.append(v)
        elif kind == "img":
            out.append(f"![{Path(v).stem}]({v})")
        elif kind == "pre":
            out.append("```\n" + v + "\n```")
        elif kind == "md":
            out.append(v.strip())
        elif kind == "table":
            header, rows = v
            out.append("| " + " | ".join(map(str, header)) + " |")
            out.append("|" + "---|" * len(header))
            out += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
        out.append("")
    return "\n".join(out)


def _render_html(blocks: list[Block], title: str) -> str:
    body = []
    for kind, v in blocks:
        if kind in ("h1", "h2", "h3"):
            body.append(f"<{kind}>{html.escape(v)}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{html.escape(v)}</p>")
        elif kind == "img":
            body.append(f'<img src="{html.escape(v)}" alt="{html.escape(Path(v).stem)}">')
        elif kind in ("pre", "md"):
            body.append(f"<pre>{html.escape(v)}</pre>")
        elif kind == "table":
            header, rows = v
            body.append("<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>"
                        + "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                                  for r in rows) + "</table>")
    style = ("body{font-family:sans-serif;max-width:1000px;margin:auto;padding:1em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 8px}img{max-width:100%}pre{background:#f6f6f6;padding:8px;"
             "overflow-x:auto}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>" + "\n".join(body) + "</body></html>\n")


def write_report(cfg: PipelineConfig, w: Path) -> Path:
    w = Path(w)
    plots = w / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    title = "maestromotif pipeline report"
    blocks: list[Block] = [("h1", title), ("p", f"Workdir `{w}`.")]
    blocks += _stage_section(w) + _dataset_section(cfg, w) + _label_section(cfg, w, plots)
    blocks += _reward_section(cfg, w, plots) + _train_section(w, plots) + _eval_section(w, plots)
    atomic_write_text(w / "report.md", _render_md(blocks))
    atomic_write_text(w / "report.html", _render_html(blocks, title))
    return w / "report.md"
