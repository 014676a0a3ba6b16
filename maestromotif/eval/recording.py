"""Watchable recordings of evaluation episodes.

- ttyrecs: with ``--record DIR`` every episode runs in an environment made with
  ``savedir=<tmp>, save_ttyrec_every=1``; NLE's recording is then moved to
  ``DIR/ttyrec/<task>/<agent>/ep<NNNNN>.ttyrec3.bz2`` (playable with any ttyrec player, e.g.
  ``ttyplay`` after ``bunzip2``; the ``#overview`` windows the detectors open appear in it).
- HTML: :class:`FrameRecorder` keeps the terminal (``tty_chars`` / ``tty_colors``) the agent saw at
  every step and :func:`write_html` writes one self-contained page (no network, no dependencies) with
  play/pause, speed and a frame slider, and the running skill and step under the screen. Frames are
  stored as row deltas, so a 10,000-step episode is a few MB.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from maestromotif.utils.io import atomic_write_text

# NetHack's 16 colours (CLR_BLACK ... CLR_WHITE) as a terminal shows them; black is drawn dark grey.
CSS_COLOURS = ("#555", "#b22", "#2a2", "#a60", "#23c", "#a2a", "#2aa", "#bbb",
               "#777", "#f55", "#5f5", "#ff5", "#55f", "#f5f", "#5ff", "#fff")


def _row_runs(colours: np.ndarray) -> list[int]:
    """Run-length colours of one row: ``[length, colour, length, colour, ...]``."""
    c = np.asarray(colours, dtype=np.int16) & 15
    starts = np.concatenate(([0], np.nonzero(c[1:] != c[:-1])[0] + 1))
    lengths = np.diff(np.concatenate((starts, [len(c)])))
    out = np.empty(2 * len(starts), dtype=np.int64)
    out[0::2], out[1::2] = lengths, c[starts]
    return out.tolist()


class FrameRecorder:
    """Collects what the agent saw, step by step (row deltas against the previous frame)."""

    def __init__(self, max_frames: int = 20_000):
        self.max_frames = max_frames
        self.frames: list[dict] = []
        self._chars: np.ndarray | None = None
        self._colours: np.ndarray | None = None
        self.truncated = False

    def add(self, obs: dict[str, np.ndarray], caption: str) -> None:
        if len(self.frames) >= self.max_frames:
            self.truncated = True
            return
        chars, colours = obs["tty_chars"], obs["tty_colors"]
        if self._chars is None:
            changed = range(chars.shape[0])
        else:
            changed = np.nonzero((chars != self._chars).any(axis=1) | (colours != self._colours).any(axis=1))[0]
        rows = {int(y): [bytes(chars[y]).translate(_PRINTABLE).decode("ascii"), _row_runs(colours[y])]
                for y in changed}
        self._chars, self._colours = chars.copy(), colours.copy()
        self.frames.append({"r": rows, "c": caption})


# Terminal bytes -> the same byte if printable ASCII, else a space.
_PRINTABLE = bytes(b if 32 <= b < 127 else 32 for b in range(256))


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ background:#111; color:#ddd; font-family: sans-serif; margin: 1em; }}
pre {{ font: 14px/1.15 "DejaVu Sans Mono", Menlo, Consolas, monospace; background:#000; padding:6px;
       display:inline-block; margin:0.5em 0; }}
#bar {{ display:flex; gap:0.6em; align-items:center; }}
#slider {{ width: 40em; }}
</style></head><body>
<h3>{title}</h3>
<div>{summary}</div>
<pre id="screen"></pre>
<div id="caption"></div>
<div id="bar"><button id="play">pause</button>
<label>speed <input id="speed" type="range" min="1" max="60" value="10"> <span id="fps">10</span>/s</label>
<input id="slider" type="range" min="0" value="0"> <span id="pos"></span></div>
<p style="color:#888">space: play/pause, arrows: step, recorded by maestromotif.eval</p>
<script>
const COLOURS = {colours};
const FRAMES = {frames};
const rows = Array.from({{length: 24}}, () => ["", []]);
let shown = -1;
function applyFrame(i) {{ for (const [y, row] of Object.entries(FRAMES[i].r)) rows[y] = row; }}
function show(i) {{
  if (i < shown) {{ for (let y = 0; y < 24; y++) rows[y] = ["", []]; shown = -1; }}
  for (let k = shown + 1; k <= i; k++) applyFrame(k);
  shown = i;
  const out = [];
  for (const [text, runs] of rows) {{
    let x = 0; let line = "";
    for (let j = 0; j < runs.length; j += 2) {{
      const seg = text.substr(x, runs[j]).replace(/&/g, "&amp;").replace(/</g, "&lt;");
      line += '<span style="color:' + COLOURS[runs[j + 1]] + '">' + seg + '</span>'; x += runs[j];
    }}
    out.push(line);
  }}
  document.getElementById("screen").innerHTML = out.join("\\n");
  document.getElementById("caption").textContent = FRAMES[i].c;
  document.getElementById("slider").value = i;
  document.getElementById("pos").textContent = (i + 1) + " / " + FRAMES.length;
}}
const slider = document.getElementById("slider"); slider.max = FRAMES.length - 1;
let playing = true, fps = 10, timer = null;
function tick() {{ if (playing && shown < FRAMES.length - 1) show(shown + 1); timer = setTimeout(tick, 1000 / fps); }}
document.getElementById("play").onclick = () => {{ playing = !playing;
  document.getElementById("play").textContent = playing ? "pause" : "play"; }};
document.getElementById("speed").oninput = (e) => {{ fps = +e.target.value;
  document.getElementById("fps").textContent = fps; }};
slider.oninput = (e) => show(+e.target.value);
document.addEventListener("keydown", (e) => {{
  if (e.key === " ") {{ e.preventDefault(); document.getElementById("play").click(); }}
  if (e.key === "ArrowRight") show(Math.min(FRAMES.length - 1, shown + 1));
  if (e.key === "ArrowLeft") show(Math.max(0, shown - 1));
}});
show(0); tick();
</script></body></html>
"""


def write_html(path: str | Path, recorder: FrameRecorder, title: str, summary: str = "") -> Path:
    """Write the recorded frames as one self-contained HTML page."""
    if not recorder.frames:
        raise ValueError("no frames recorded")
    if recorder.truncated:
        summary += f" (first {recorder.max_frames} steps only)"
    page = _PAGE.format(title=html.escape(title), summary=html.escape(summary),
                        colours=json.dumps(CSS_COLOURS),
                        frames=json.dumps(recorder.frames, separators=(",", ":")).replace("</", "<\\/"))
    path = Path(path)
    atomic_write_text(path, page)
    return path
