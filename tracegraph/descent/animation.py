"""Animations of descent runs: a GIF (Pillow) or one self-contained HTML page.

The GIF is fast because matplotlib draws only once: the axes, the loss's
contours and the whole loss curve make a background, and each frame is
that background with the moving parts (points, labels, path so far, the
marker on the loss curve) drawn on it by Pillow in a fixed palette.
Pillow then stores each frame as its difference from the previous one.

The HTML page holds its data as JSON and draws it on a ``<canvas>`` with a
few lines of JavaScript: no network, no CDN, opens from a file.

Example:
    >>> frame_steps(10, 4), frame_steps(2, 200)
    ([0, 3, 7, 10], [0, 1, 2])
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..diagram.output import write_atomically
from ..errors import TracegraphError
from .optional import figure_class, pillow_image, require
from .plots import (
    contour_grid,
    contour_levels,
    draw_loss_curve,
    plane_limits,
    run_title,
    view_of,
    wants_log,
)

if TYPE_CHECKING:
    from .run import Descent

# Drawing colours (RGB) added to the background's palette.
INK = {"point": (31, 119, 180), "trail": (150, 185, 215), "path": (214, 39, 40),
       "text": (40, 40, 40), "marker": (214, 39, 40)}
DPI = 80
SNAP = 2
LABEL_SNAP = 4
"""Labels move on a coarser grid than points: they are most of what changes in a frame."""
FONT_SIZE = 11
"""Pixels: the size of the frames' own text (step, loss, the points' labels)."""
UNCHANGED = 63
"""The last palette index: written for pixels that did not change since the last frame."""


def frame_steps(steps: int, frames: int) -> list[int]:
    """At most ``frames`` steps spread evenly from 0 to ``steps``, both included.

    Example:
        >>> frame_steps(100, 5), frame_steps(3, 200), frame_steps(0, 200)
        ([0, 25, 50, 75, 100], [0, 1, 2, 3], [0])
    """
    count = max(2, min(frames, steps + 1))
    return sorted(set(np.linspace(0, steps, count).round().astype(int).tolist()))


def animate_run(run: Descent, path: Any, *, labels: Iterable[str] | None = None,
                frames: int = 200, seconds: float = 8.0, title: str | None = None) -> Path:
    """:meth:`Descent.animate`: ``.gif`` or ``.html`` by the file's extension.

    Example:
        >>> import tempfile, tracegraph as tg
        >>> run = tg.descend(lambda x, y: x * x + 4 * y * y, x=1.0, y=1.0, lr=0.1, steps=20)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = animate_run(run, Path(folder) / "run.gif", frames=10)
        ...     with pillow_image().open(path) as gif:
        ...         gif.n_frames, gif.size         # the contour plot and the loss curve
        (10, (672, 336))
    """
    path = Path(path)
    names = list(labels) if labels is not None else None
    suffix = path.suffix.lower()
    if suffix == ".gif":
        write_gif(run, path, names, frame_steps(run.steps, frames), seconds, title)
    elif suffix in (".html", ".htm"):
        write_atomically(path, html_page(run, names, frame_steps(run.steps, frames), seconds,
                                         title).encode("utf-8"))
    else:
        raise TracegraphError(f"cannot animate to {path.name!r}",
                              hint="name a .gif or an .html file")
    return path


# --------------------------------------------------------------------------- GIF


class _Background:
    """The static picture of a run and the maps from data to its pixels."""

    def __init__(self, run: Descent, title: str | None) -> None:
        self.view = view_of(run)
        Figure = figure_class()
        backend = require("matplotlib.backends.backend_agg", "matplotlib", "animations")
        wide = self.view != "curve"
        fig = Figure(figsize=(8.4 if wide else 5.6, 4.2), dpi=DPI, layout="constrained")
        axes = fig.subplots(1, 2 if wide else 1, squeeze=False)[0]
        self.curve_ax = axes[0]  # the loss on the left, as in Descent.plot
        draw_loss_curve(self.curve_ax, [run])
        for line in self.curve_ax.get_lines():
            line.set_color("#cccccc")
        self.view_ax = axes[-1] if wide else None
        if self.view == "contour":
            xs, ys, zs = contour_grid(run)
            self.view_ax.contourf(xs, ys, zs, levels=contour_levels(zs), cmap="viridis",
                                  alpha=0.85)
            self.view_ax.set_xlim(xs[0], xs[-1])
            self.view_ax.set_ylim(ys[0], ys[-1])
            self.view_ax.set_xlabel(run.layout.names[0])
            self.view_ax.set_ylabel(run.layout.names[1])
        elif self.view == "plane":
            xlim, ylim = plane_limits(run.params[run.layout.names[0]])
            self.view_ax.set_xlim(*xlim)
            self.view_ax.set_ylim(*ylim)
            self.view_ax.set_aspect("equal")
            self.view_ax.grid(True, alpha=0.3)
            self.view_ax.set_title(f"{run.layout.names[0]} on the plane", fontsize=9)
        fig.suptitle(title or run_title(run), fontsize=9)
        fig.supxlabel(" ", fontsize=9)  # a strip at the bottom for each frame's step and loss
        canvas = backend.FigureCanvasAgg(fig)
        canvas.draw()
        self.rgb = np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
        self.height = self.rgb.shape[0]

    def pixels(self, ax: Any, xy: np.ndarray) -> np.ndarray:
        """Data coordinates -> Pillow pixel coordinates (origin top left)."""
        with np.errstate(all="ignore"):
            shown = ax.transData.transform(np.asarray(xy, dtype=float).reshape(-1, 2))
        shown[:, 1] = self.height - shown[:, 1]
        # On a grid of SNAP pixels a slow point changes the picture every few frames only,
        # and an unchanged frame costs nothing in the GIF.
        return np.round(shown / SNAP) * SNAP


def _palette_image(Image: Any, rgb: np.ndarray) -> tuple[Any, dict[str, int]]:
    """The background in a small palette: its own colours, then the drawing colours, then
    :data:`UNCHANGED` (a short palette keeps Pillow's per-frame palette work small)."""
    own = UNCHANGED - len(INK)
    base = Image.fromarray(rgb).quantize(colors=own, method=Image.Quantize.MEDIANCUT,
                                         dither=Image.Dither.NONE)
    palette = base.getpalette()[: 3 * own]
    palette += [0] * (3 * own - len(palette))
    ink = {}
    for i, (name, colour) in enumerate(INK.items()):
        ink[name] = own + i
        palette += list(colour)
    palette += [255, 255, 255]  # UNCHANGED: never drawn
    base.putpalette(palette)
    return base, ink


def write_gif(run: Descent, path: Path, labels: Sequence[str] | None, steps: list[int],
              seconds: float, title: str | None) -> None:
    """Draw the frames on the background and save them as one looping GIF.

    Example:
        >>> import tempfile, tracegraph as tg
        >>> run = tg.descend(lambda X: np.sum(X * X), X=np.eye(2), lr=0.1, steps=5)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     write_gif(run, Path(folder) / "X.gif", ["a", "b"], [0, 2, 5], 1.0, "two points")
        ...     with pillow_image().open(Path(folder) / "X.gif") as gif:
        ...         gif.n_frames, gif.info["loop"], gif.info["duration"]    # 1 s over 3 frames
        (3, 0, 330)
    """
    Image = pillow_image()
    background = _Background(run, title)
    base, ink = _palette_image(Image, background.rgb)
    painter = _Painter(Image, ink)
    curve = background.pixels(background.curve_ax,
                              np.column_stack([np.arange(len(run.losses)), run.losses]))
    view = _view_pixels(run, background)
    stamps = [painter.stamp(text) for text in labels or ()]
    # The paths drawn so far only grow: they live on a layer kept from frame to frame.
    layer = base.copy()
    layer_draw = painter.draw(layer)
    previous = None
    frames = []
    for k in steps:
        if previous is not None:
            _extend_paths(layer_draw, background.view, view, curve, previous, k, ink)
        previous = k
        frame = layer.copy()
        draw = painter.draw(frame)
        if background.view == "plane":
            for i, (x, y) in enumerate(view[k]):
                if np.isfinite(x) and np.isfinite(y):
                    _dot(draw, (x, y), 3, ink["point"])
                    if i < len(stamps):
                        lx, ly = np.round(np.array([x, y]) / LABEL_SNAP) * LABEL_SNAP
                        painter.paste(frame, stamps[i], lx + 4, ly - 12, ink["text"])
        elif background.view == "contour" and np.all(np.isfinite(view[k])):
            _dot(draw, view[k], 4, ink["path"])
        if np.all(np.isfinite(curve[k])):
            _dot(draw, curve[k], 4, ink["marker"])
        # In the strip kept free below the axes (the title is on top).
        painter.paste(frame, painter.stamp(f"step {k}   loss {run.losses[k]:.5g}"), 8,
                      background.height - 16, ink["text"])
        frames.append(frame)
    each = max(20, int(round(1000 * seconds / len(frames) / 10)) * 10)
    durations = [each] * (len(frames) - 1) + [1500]
    palette = base.getpalette()
    changes = _changes_only(Image, frames, palette)
    # One global palette: without it every frame would carry its own 768-byte colour table.
    buffer = io.BytesIO()
    changes[0].save(buffer, format="GIF", save_all=True, append_images=changes[1:],
                    duration=durations, loop=0, optimize=False, disposal=1,
                    transparency=UNCHANGED, palette=bytes(palette))
    # Encoded in memory first: a failure half-way never leaves an existing file truncated.
    write_atomically(path, buffer.getvalue())


def _changes_only(Image: Any, frames: list[Any], palette: list[int]) -> list[Any]:
    """Every frame after the first with its unchanged pixels set to :data:`UNCHANGED`: long
    runs of one index, which the GIF's LZW stores in a few bytes."""
    arrays = [np.asarray(frame) for frame in frames]
    out = [frames[0]]
    for before, now in zip(arrays, arrays[1:]):
        image = Image.fromarray(np.where(now == before, np.uint8(UNCHANGED), now), "P")
        image.putpalette(palette)
        out.append(image)
    return out


def frame_font(size: int = FONT_SIZE) -> Any:
    """The Pillow font of the frames' text: the typeface matplotlib draws the background's
    axes in, so both read alike (Pillow's own default face, cut to one bit per pixel,
    loses the spaces between words); Pillow's default if that face cannot be loaded.

    Example:
        >>> import matplotlib
        >>> from matplotlib.font_manager import FontProperties
        >>> family = FontProperties(family=matplotlib.rcParams["font.family"]).get_name()
        >>> frame_font().getname()[0] == family
        True
    """
    ImageFont = require("PIL.ImageFont", "pillow", "GIF animations")
    font_manager = require("matplotlib.font_manager", "matplotlib", "animations")
    try:
        return ImageFont.truetype(font_manager.findfont(font_manager.FontProperties()), size)
    except OSError:
        return ImageFont.load_default(size=size)


class _Painter:
    """Pillow drawing in the palette; text is rendered once per string and pasted as a mask."""

    def __init__(self, Image: Any, ink: dict[str, int]) -> None:
        self.Image = Image
        self.ImageDraw = require("PIL.ImageDraw", "pillow", "GIF animations")
        self.font = frame_font()
        self.ink = ink

    def draw(self, image: Any) -> Any:
        return self.ImageDraw.Draw(image)

    def stamp(self, text: str) -> Any:
        left, top, right, bottom = self.font.getbbox(text)
        mask = self.Image.new("L", (max(1, right), max(1, bottom)), 0)
        self.ImageDraw.Draw(mask).text((0, 0), text, fill=255, font=self.font)
        return mask.point(lambda v: 255 if v >= 110 else 0, "1")

    @staticmethod
    def paste(image: Any, stamp: Any, x: float, y: float, colour: int) -> None:
        x, y = int(round(x)), int(round(y))
        image.paste(colour, (x, y, x + stamp.width, y + stamp.height), stamp)


def _segment(points: np.ndarray, start: int, stop: int) -> list[tuple[float, float]]:
    chosen = points[start:stop + 1]
    return [tuple(p) for p in chosen[np.all(np.isfinite(chosen), axis=1)]]


def _extend_paths(draw: Any, kind: str, view: np.ndarray | None, curve: np.ndarray,
                  start: int, stop: int, ink: dict[str, int]) -> None:
    """Draw the paths from step ``start`` to ``stop`` onto the persistent layer."""
    line = _segment(curve, start, stop)
    if len(line) > 1:
        draw.line(line, fill=ink["marker"], width=2)
    if kind == "contour":
        line = _segment(view, start, stop)
        if len(line) > 1:
            draw.line(line, fill=ink["path"], width=2)
    elif kind == "plane":
        for i in range(view.shape[1]):
            line = _segment(view[:, i], start, stop)
            if len(line) > 1:
                draw.line(line, fill=ink["trail"], width=1)


def _view_pixels(run: Descent, background: _Background) -> np.ndarray | None:
    if background.view == "plane":
        points = run.params[run.layout.names[0]]
        return background.pixels(background.view_ax, points).reshape(points.shape)
    if background.view == "contour":
        a, b = (run.params[name] for name in run.layout.names)
        return background.pixels(background.view_ax, np.column_stack([a, b]))
    return None


def _dot(draw: Any, centre: Sequence[float], radius: float, fill: int) -> None:
    x, y = centre
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)


# --------------------------------------------------------------------------- HTML


def _rounded(values: np.ndarray, digits: int = 6) -> list:
    """Numbers with ``digits`` significant digits for the page's JSON (None for NaN/inf)."""
    flat = [float(f"{v:.{digits}g}") if np.isfinite(v) else None
            for v in np.asarray(values, dtype=float).ravel()]
    return np.array(flat, dtype=object).reshape(np.shape(values)).tolist()


def _contour_png(run: Descent) -> tuple[str, list[float]]:
    """The contour plot as a PNG data URI, and its extent [x0, x1, y0, y1]."""
    xs, ys, zs = contour_grid(run)
    Figure = figure_class()
    fig = Figure(figsize=(4, 4), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.contourf(xs, ys, zs, levels=contour_levels(zs), cmap="viridis", alpha=0.85)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.axis("off")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return "data:image/png;base64," + encoded, [xs[0], xs[-1], ys[0], ys[-1]]


def page_data(run: Descent, labels: Sequence[str] | None, steps: list[int], seconds: float,
              title: str | None) -> dict[str, Any]:
    """What the page draws, as JSON-ready data.

    Example:
        >>> import tracegraph as tg
        >>> run = tg.descend(lambda x: (x - 3.0) ** 2, x=0.0, lr=0.25, steps=3)
        >>> data = page_data(run, None, [0, 3], 1.0, None)
        >>> data["view"], data["losses"], data["elements"], data["values"], data["interval"]
        ('curve', [9.0, 0.140625], ['x'], [[0.0], [2.625]], 500)
    """
    view = view_of(run)
    data: dict[str, Any] = {
        "title": title or run_title(run), "view": view, "steps": steps,
        "losses": _rounded(run.losses[steps]), "grad_norms": _rounded(run.grad_norms[steps]),
        "curve": _rounded(run.losses), "log": wants_log(run.losses),
        "names": list(run.layout.names), "interval": max(16, int(1000 * seconds / len(steps))),
    }
    if view == "plane":
        points = run.params[run.layout.names[0]]
        (x0, x1), (y0, y1) = plane_limits(points)
        data.update(points=_rounded(points[steps], 5), extent=[x0, x1, y0, y1],
                    labels=list(labels or []))
    elif view == "contour":
        image, extent = _contour_png(run)
        a, b = (run.params[name] for name in run.layout.names)
        data.update(path=_rounded(np.column_stack([a, b])), image=image, extent=extent)
    else:
        flat = np.concatenate([v.reshape(len(run.losses), -1) for v in run.params.values()],
                              axis=1)
        data.update(elements=run.layout.element_names()[:12],
                    values=_rounded(flat[steps][:, :12], 5))
    return data


def html_page(run: Descent, labels: Sequence[str] | None, steps: list[int], seconds: float,
              title: str | None) -> str:
    """The whole page: markup, the data as JSON and the script that draws it.

    Example:
        >>> import tracegraph as tg
        >>> run = tg.descend(lambda x: (x - 3.0) ** 2, x=0.0, lr=0.25, steps=3)
        >>> page = html_page(run, None, [0, 1, 3], 1.0, "x < 3")
        >>> page.splitlines()[0], "<title>x &lt; 3</title>" in page, '"steps":[0,1,3]' in page
        ('<!DOCTYPE html>', True, True)
    """
    data = json.dumps(page_data(run, labels, steps, seconds, title), separators=(",", ":"))
    data = data.replace("</", "<\\/")  # never end the <script> element early
    heading = html.escape(title or run_title(run))
    return _PAGE.replace("__TITLE__", heading).replace("__DATA__", data)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>__TITLE__</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
canvas { border: 1px solid #ddd; margin-right: 8px; }
#controls { margin: 8px 0; } #status { font-family: monospace; margin-left: 12px; }
table { border-collapse: collapse; font-family: monospace; } td { padding: 1px 8px; }
</style></head>
<body>
<h3 id="title"></h3>
<div><canvas id="view" width="440" height="440"></canvas><canvas id="curve" width="440" height="440"></canvas></div>
<div id="controls"><button id="play">pause</button>
<input id="slider" type="range" min="0" value="0" style="width: 420px"><span id="status"></span></div>
<table id="values"></table>
<script id="data" type="application/json">__DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
document.getElementById("title").textContent = D.title;
const slider = document.getElementById("slider"), play = document.getElementById("play");
slider.max = D.steps.length - 1;
const view = document.getElementById("view"), curve = document.getElementById("curve");
if (D.view === "curve") view.style.display = "none";
const pad = 44;
function scaler(lo, hi, a, b) { const s = (b - a) / ((hi - lo) || 1); return v => a + (v - lo) * s; }
const fy = v => (D.log ? Math.log10(v) : v);
const finite = D.curve.filter(v => v !== null && (!D.log || v > 0)).map(fy);
const cy = scaler(Math.min(...finite), Math.max(...finite), curve.height - pad, 16);
const cx = scaler(0, D.curve.length - 1, pad, curve.width - 12);
let image = null;
if (D.image) { image = new Image(); image.onload = () => draw(+slider.value); image.src = D.image; }
const E = D.extent || [0, 1, 0, 1];
const vx = scaler(E[0], E[1], 8, view.width - 8), vy = scaler(E[2], E[3], view.height - 8, 8);
function dot(g, x, y, r, colour) { g.fillStyle = colour; g.beginPath(); g.arc(x, y, r, 0, 7); g.fill(); }
function drawCurve(i) {
  const g = curve.getContext("2d"); g.clearRect(0, 0, curve.width, curve.height);
  g.strokeStyle = "#999"; g.strokeRect(pad, 16, curve.width - pad - 12, curve.height - pad - 16);
  g.fillStyle = "#444"; g.fillText("step", curve.width / 2, curve.height - 12);
  g.fillText(D.log ? "loss (log)" : "loss", 4, 12);
  const hi = Math.max(...finite), lo = Math.min(...finite), txt = v => (D.log ? 10 ** v : v).toPrecision(3);
  g.fillText(txt(hi), 2, 28); g.fillText(txt(lo), 2, curve.height - pad);
  g.fillText("0", pad, curve.height - pad + 14); g.fillText(String(D.curve.length - 1), curve.width - 36, curve.height - pad + 14);
  const upto = D.steps[i];
  for (const [colour, last] of [["#ccc", D.curve.length - 1], ["#d62728", upto]]) {
    g.strokeStyle = colour; g.lineWidth = 2; g.beginPath(); let on = false;
    for (let k = 0; k <= last; k++) {
      const v = D.curve[k]; if (v === null || (D.log && v <= 0)) { on = false; continue; }
      const x = cx(k), y = cy(fy(v)); if (on) g.lineTo(x, y); else g.moveTo(x, y); on = true;
    }
    g.stroke();
  }
  const v = D.curve[upto]; if (v !== null && (!D.log || v > 0)) dot(g, cx(upto), cy(fy(v)), 4, "#d62728");
}
function drawView(i) {
  const g = view.getContext("2d"); g.clearRect(0, 0, view.width, view.height);
  if (D.view === "contour") {
    if (image && image.complete) g.drawImage(image, 8, 8, view.width - 16, view.height - 16);
    g.strokeStyle = "#d62728"; g.lineWidth = 2; g.beginPath();
    for (let k = 0; k <= D.steps[i]; k++) { const p = D.path[k]; if (p[0] === null || p[1] === null) continue;
      if (k) g.lineTo(vx(p[0]), vy(p[1])); else g.moveTo(vx(p[0]), vy(p[1])); }
    g.stroke(); const p = D.path[D.steps[i]]; if (p[0] !== null) dot(g, vx(p[0]), vy(p[1]), 4, "#d62728");
    g.fillStyle = "#222"; g.fillText(D.names[0] + " →, " + D.names[1] + " ↑", 12, view.height - 12);
  } else if (D.view === "plane") {
    g.strokeStyle = "#ddd"; g.strokeRect(8, 8, view.width - 16, view.height - 16);
    D.points[i].forEach((p, j) => {
      if (p[0] === null || p[1] === null) return;
      dot(g, vx(p[0]), vy(p[1]), 3.5, "#1f77b4");
      if (D.labels[j]) { g.fillStyle = "#333"; g.fillText(D.labels[j], vx(p[0]) + 5, vy(p[1]) - 5); }
    });
  }
}
function drawValues(i) {
  if (!D.elements) return;
  document.getElementById("values").innerHTML = "";
  D.elements.forEach((name, j) => {
    const row = document.getElementById("values").insertRow();
    row.insertCell().textContent = name; row.insertCell().textContent = String(D.values[i][j]);
  });
}
function draw(i) {
  drawCurve(i); drawView(i); drawValues(i);
  document.getElementById("status").textContent =
    "step " + D.steps[i] + "   loss " + D.losses[i] + "   |grad| " + D.grad_norms[i];
}
let timer = null;
function tick() { let i = +slider.value + 1; if (i >= D.steps.length) i = 0; slider.value = i; draw(i); }
function start() { timer = setInterval(tick, D.interval); play.textContent = "pause"; }
function stop() { clearInterval(timer); timer = null; play.textContent = "play"; }
play.onclick = () => (timer ? stop() : start());
slider.oninput = () => { stop(); draw(+slider.value); };
draw(0); start();
</script>
</body></html>
"""
