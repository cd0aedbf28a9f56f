"""Style tables: how each kind of node, each mark and each gradient magnitude looks.

Colours live here and nowhere else.  Gradient magnitude is mapped on a
log scale, from ``1e−8`` (vanishing) to ``1e8`` (exploding), onto the
ColorBrewer YlGnBu sequence, so a diagram's colours mean the same thing in
every diagram.  A zero gradient, a missing one (constants) and a NaN/inf
one each have their own colour.

Example:
    >>> gradient_colour(1.0).fill == PALETTE[4], gradient_colour(1e8).fill == PALETTE[-1]
    (True, True)
    >>> gradient_colour(0.0) is ZERO, gradient_colour(float("nan")) is NONFINITE
    (True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# One family, not a list: Graphviz measures text with it (through Pango), and a list
# resolved to a face whose bold it measured as regular, so bold banners overflowed
# their boxes in browsers.  The SVG still falls back to sans-serif.
FONT = "Helvetica"
FONT_SIZE = 11
TITLE_FONT_SIZE = 12
SMALL_FONT_SIZE = 9
MUTED = "#666666"

# ColorBrewer YlGnBu (9 classes), light to dark.
PALETTE = ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4",
           "#1d91c0", "#225ea8", "#253494", "#081d58")
# |grad| of 1e-8 maps to the palette's start and 1e8 to its end, so healthy
# gradients (1e-3 to 1) get light colours and exploding ones stand out dark.
LOG_LOW, LOG_HIGH = -8.0, 8.0
DARK_FROM = 0.56  # palette positions past this need white text
LEGEND_TICKS = (-8, -6, -4, -2, 0, 2, 4, 6, 8)


@dataclass(frozen=True)
class Fill:
    """A background colour and the text colour that reads on it.

    Example:
        >>> Fill("#ffffff", "black").text
        'black'
    """

    fill: str
    text: str


ZERO = Fill("#e0e0e0", "#555555")
NO_GRADIENT = Fill("#ffffff", "black")
NONFINITE = Fill("#ff2a2a", "white")
GROUP = Fill("#f4f4f4", "black")


def gradient_colour(magnitude: float | None) -> Fill:
    """The fill for a node whose largest |dLoss/dnode| is ``magnitude``.

    Example:
        >>> gradient_colour(1e-12).fill == PALETTE[0], gradient_colour(1e9).fill == PALETTE[-1]
        (True, True)
    """
    if magnitude is None:
        return NO_GRADIENT
    if not math.isfinite(magnitude):
        return NONFINITE
    if magnitude == 0:
        return ZERO
    position = (math.log10(magnitude) - LOG_LOW) / (LOG_HIGH - LOG_LOW)
    position = min(1.0, max(0.0, position))
    return Fill(_palette_at(position), "white" if position > DARK_FROM else "black")


def _palette_at(position: float) -> str:
    scaled = position * (len(PALETTE) - 1)
    low = min(int(scaled), len(PALETTE) - 2)
    frac = scaled - low
    a, b = _rgb(PALETTE[low]), _rgb(PALETTE[low + 1])
    return "#" + "".join(f"{round(x + (y - x) * frac):02x}" for x, y in zip(a, b))


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@dataclass(frozen=True)
class KindStyle:
    """How one kind of box is drawn: its border and the tint of its title row.

    Example:
        >>> KIND_STYLES["output"].border_width
        3
    """

    border: str
    border_width: int
    table_style: str
    header: str
    tag: str


KIND_STYLES = {
    "input": KindStyle("#1b7837", 2, "rounded", "#d9f0d3", "input"),
    "output": KindStyle("#b35806", 3, "rounded", "#fee0b6", "output"),
    "op": KindStyle("#4d4d4d", 1, "", "", ""),
    "constant": KindStyle("#8c8c8c", 1, "dashed", "#ffffff", "constant"),
    "group": KindStyle("#4d4d4d", 2, "dashed", "#e8e8e8", ""),
}

# Per-op tweaks of the title row: ops a student should spot at once.
OP_HEADER = {
    "sigmoid": "#f2e6f7", "tanh": "#f2e6f7", "relu": "#f2e6f7", "softmax": "#f2e6f7",
    "exp": "#fbe7e7", "log": "#fbe7e7",
}


@dataclass(frozen=True)
class MarkStyle:
    """How a checked step looks: colour, line width, the symbol before its note, the
    colour of the note's text on the colour, and the colour of an edge label in the mark's
    hue on the white page (each at a WCAG contrast of 4.5:1 or more).

    Example:
        >>> MARK_STYLES["wrong"].symbol, MARK_STYLES["inherited"].label_colour
        ('✗', '#9c4a1a')
    """

    colour: str
    width: int
    symbol: str
    word: str
    text: str = "white"
    label: str | None = None  # when the colour itself is too light for text on white

    @property
    def label_colour(self) -> str:
        """The colour of an edge label in this mark's hue, readable on white."""
        return self.label or self.colour


MARK_STYLES = {
    "wrong": MarkStyle("#d7191c", 5, "✗", "WRONG"),
    # Wrong only because a claim it is built on is wrong: softer, so the root stands out.
    "inherited": MarkStyle("#f4a582", 2, "↳", "wrong (inherited)", text="#3d0d00",
                           label="#9c4a1a"),
    "correct": MarkStyle("#137a33", 3, "✓", "correct"),
    "close": MarkStyle("#b34a00", 3, "≈", "close"),
    "nondiff": MarkStyle("#7b3294", 3, "∄", "not differentiable here"),
    "unchecked": MarkStyle("#666666", 2, "?", "unchecked"),
}

EDGE_COLOUR = "#4d4d4d"
CONSTANT_EDGE_COLOUR = "#b0b0b0"
NONFINITE_EDGE = MarkStyle("#ff2a2a", 3, "⚠", "NaN/inf", label="#c81414")
CLUSTER_BORDER = "#9e9e9e"
CLUSTER_FILL = "#fafafa"
