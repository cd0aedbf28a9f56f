"""Text in diagrams: escaping for DOT, and arrays as short text (numbers: :mod:`tracegraph.numbers`).

Every piece of user text (names, expressions, scope names, notes) reaches
the DOT output through :func:`html` (inside HTML-like labels) or
:func:`attribute` (inside quoted attributes such as tooltips).  Both first
make non-printable characters visible (:func:`visible`), so a newline or a
bidi control in a name is drawn as ``⧵n`` / ``⧵u202e`` instead of changing
the layout, and then replace every character that DOT or Graphviz's HTML
parser treats specially by a character reference.  A backslash is drawn as
the look-alike ``⧵`` (U+29F5), because Graphviz reads backslash sequences
such as ``\\N`` (the node's name) inside labels and tooltips, differently
per attribute and version.  No raw backslash or quote reaches the DOT text.

Example:
    >>> html('a<b & "c"')
    'a&lt;b &amp; &quot;c&quot;'
    >>> attribute(["x\\\\N", "z"])
    'x⧵N&#10;z'
    >>> summary(np.arange(10.0), 3)
    ['min 0 · max 9', 'mean 4.5 · ‖·‖ 16.9']
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..numbers import count_text, pretty_number

SMALL_ARRAY = 6  # arrays with at most this many elements are written out in full
TOOLTIP_VALUES = 1000  # tooltips list at most this many values
# Graphviz rejects a quoted or HTML string longer than 16,384 bytes; stay well below.
TOOLTIP_BYTES = 12_000
TEXT_LIMIT = 300  # no single piece of text in a label is longer (names included)
TOOLTIP_LINE = 1000

# A backslash is drawn as ⧵ (U+29F5): Graphviz applies its backslash escapes (\N is
# the node's name, \G the graph's) after decoding entities, once or twice depending
# on the attribute and the version, so no encoding of "\" survives everywhere.
BACKSLASH = "⧵"
# "]" is written as a character reference: Graphviz 2.43's HTML-label lexer rejects
# some labels made only of "]" (a label of just "]" is a syntax error).
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
                       "\\": BACKSLASH, "]": "&#93;"})
_ATTRIBUTE = str.maketrans({"&": "&#38;", "<": "&#60;", ">": "&#62;", '"': "&#34;",
                            "'": "&#39;", "\\": BACKSLASH})
_NEEDS_ESCAPE = re.compile(r"[&<>\"'\\\]]")
_JSON_NUMBERS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def visible(text: Any) -> str:
    """``text`` with every non-printable character written as a Python escape.

    Example:
        >>> visible("a\\nb\\u202e")
        'a\\\\nb\\\\u202e'
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in ``…`` when cut.

    Example:
        >>> shorten("tanh(tanh(x·w0 + b0)·w1 + b1)", 12)
        'tanh(tanh(x…'
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def html(text: Any) -> str:
    """User text made safe inside a Graphviz HTML-like label.

    Example:
        >>> html("</TD><TD>")
        '&lt;/TD&gt;&lt;TD&gt;'
    """
    text = visible(text)
    return text.translate(_HTML) if _NEEDS_ESCAPE.search(text) else text


def styled(text: Any, *, colour: str | None = None, size: int | None = None,
           bold: bool = False, italic: bool = False) -> str:
    """User text escaped and wrapped in HTML-label font tags.

    Empty text gives no tags at all: Graphviz rejects an empty ``<B></B>``.
    Text is cut at :data:`TEXT_LIMIT` characters, so no label can grow past
    Graphviz's string limit however long a name is.

    Example:
        >>> styled("G", bold=True, colour="white"), styled("", bold=True)
        ('<FONT COLOR="white"><B>G</B></FONT>', '')
    """
    body = html(shorten(visible(text), TEXT_LIMIT))
    if not body:
        return ""
    if bold:
        body = f"<B>{body}</B>"
    if italic:
        body = f"<I>{body}</I>"
    # Black is Graphviz's default text colour: leaving it out keeps big diagrams small.
    attrs = ((f' COLOR="{colour}"' if colour and colour != "black" else "")
             + (f' POINT-SIZE="{size}"' if size else ""))
    return f"<FONT{attrs}>{body}</FONT>" if attrs else body


def cell(content: str, *, align: str = "LEFT", colspan: int = 1, fill: str | None = None) -> str:
    """A table cell around already-built label markup.

    Example:
        >>> cell("x", colspan=2, fill="#ffffff")
        '<TD ALIGN="LEFT" COLSPAN="2" BGCOLOR="#ffffff">x</TD>'
    """
    span = f' COLSPAN="{colspan}"' if colspan > 1 else ""
    background = f' BGCOLOR="{fill}"' if fill else ""
    return f'<TD ALIGN="{align}"{span}{background}>{content}</TD>'


def attribute(lines: Iterable[Any], limit: int = TOOLTIP_BYTES) -> str:
    """Lines of user text as the inside of a quoted DOT attribute (a tooltip),
    each cut to :data:`TOOLTIP_LINE` characters, all cut at whole lines to at
    most ``limit`` bytes of DOT text.

    Example:
        >>> attribute(['say "hi"', "bye"])
        'say &#34;hi&#34;&#10;bye'
        >>> attribute(["x" * 50, "y" * 50], limit=80)
        'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx&#10;… (cut)'
    """
    escaped: list[str] = []
    used = 0
    for line in lines:
        text = shorten(visible(line), TOOLTIP_LINE)
        if _NEEDS_ESCAPE.search(text):
            text = text.translate(_ATTRIBUTE)
        size = len(text.encode("utf-8")) + 5  # + the line break's &#10;
        if used + size > limit - 16:
            escaped.append("… (cut)")
            break
        escaped.append(text)
        used += size
    return "&#10;".join(escaped)


def as_array(value: Any) -> np.ndarray | None:
    """A node value as a float array (JSON lists and ``"NaN"`` strings included),
    or ``None`` when it is not numeric.

    Example:
        >>> as_array([1, "NaN"]).tolist(), as_array("-Infinity").tolist(), as_array("text")
        ([1.0, nan], -inf, None)
    """
    if isinstance(value, str):
        return np.asarray(_JSON_NUMBERS[value]) if value in _JSON_NUMBERS else None
    if value is None:
        return None
    if isinstance(value, list):
        value = _decode_json_numbers(value)
    try:
        array = np.asarray(value)
    except ValueError:  # ragged nested lists
        return None
    if array.dtype.kind not in "biuf":
        return None
    return array.astype(float, copy=False)


def _decode_json_numbers(value: list) -> Any:
    """Nested JSON lists with the NaN/inf strings of graph.to_json turned back into floats."""
    array = np.asarray(value, dtype=object)
    if array.dtype == object and array.size:
        flat = array.reshape(-1)
        for i, item in enumerate(flat):
            if isinstance(item, str):
                flat[i] = _JSON_NUMBERS.get(item, item)
    return array.tolist()


def written_out(array: np.ndarray, precision: int) -> str:
    """A small array in full: ``[1, 2]`` or ``[[1, 2], [3, 4]]``.

    Example:
        >>> written_out(np.array([[1.0, -2.0], [3.0, 0.25]]), 3)
        '[[1, −2], [3, 0.25]]'
    """
    if array.ndim == 0:
        return pretty_number(array, precision)
    return "[" + ", ".join(written_out(row, precision) for row in array) + "]"


def summary(array: np.ndarray, precision: int) -> list[str]:
    """Lines describing an array: in full when small, else min/mean/max and norm.

    NaN and infinities are counted and left out of the statistics.

    Example:
        >>> summary(np.array([1.0, np.nan, 3.0, 4.0, 5.0, 6.0, 7.0]), 3)
        ['min 1 · max 7', 'mean 4.33 · ‖·‖ 11.7 · 1 NaN of 7']
    """
    if array.size == 0:
        return ["empty"]
    if array.size <= SMALL_ARRAY:
        return [written_out(array, precision)]
    finite = array[np.isfinite(array)]
    if finite.size:
        stats = [f"min {pretty_number(finite.min(), precision)}",
                 f"max {pretty_number(finite.max(), precision)}"]
        second = [f"mean {pretty_number(finite.mean(), precision)}",
                  f"‖·‖ {pretty_number(np.linalg.norm(finite), precision)}"]
    else:
        stats, second = ["no finite values"], []
    nans = int(np.isnan(array).sum())
    infs = int(np.isinf(array).sum())
    if nans:
        second.append(f"{nans:,} NaN of {array.size:,}")
    if infs:
        second.append(f"{infs:,} inf of {array.size:,}")
    return [" · ".join(stats)] + ([" · ".join(second)] if second else [])


def full_listing(array: np.ndarray, precision: int) -> list[str]:
    """Lines listing an array's values (for tooltips): one line per row,
    at most :data:`TOOLTIP_VALUES` values.

    Example:
        >>> full_listing(np.arange(6.0).reshape(2, 3), 3)
        ['[0, 1, 2]', '[3, 4, 5]']
    """
    if array.ndim == 0:
        return [pretty_number(array, precision)]
    if array.size > TOOLTIP_VALUES:
        head = array.reshape(-1)[:TOOLTIP_VALUES]
        return [f"first {TOOLTIP_VALUES:,} of {array.size:,} values (row-major):"] + [
            ", ".join(pretty_number(v, precision) for v in head[i: i + 10])
            for i in range(0, TOOLTIP_VALUES, 10)]
    if array.ndim == 1:
        return [written_out(array, precision)]
    lines = []
    for lead in np.ndindex(array.shape[:-2]):
        if lead:
            lines.append("[" + ", ".join(map(str, lead)) + ", :, :]")
        lines.extend(written_out(row, precision) for row in array[lead])
    return lines


def norm(array: np.ndarray, precision: int) -> str:
    """``‖·‖ 1.23``: the Euclidean norm of an array's finite values, with a NaN/inf count.

    Example:
        >>> norm(np.array([3.0, 4.0, np.nan]), 3)
        '‖·‖ 5 · 1 NaN of 3'
    """
    finite = array[np.isfinite(array)]
    text = f"‖·‖ {pretty_number(np.linalg.norm(finite), precision)}"
    bad = array.size - finite.size
    if bad:
        nans = int(np.isnan(array).sum())
        parts = ([f"{nans:,} NaN"] if nans else []) + ([f"{bad - nans:,} inf"] if bad - nans else [])
        text += f" · {' · '.join(parts)} of {array.size:,}"
    return text


def magnitude(array: np.ndarray) -> float | None:
    """The largest finite |element| (``None`` when there is none).

    Example:
        >>> magnitude(np.array([-3.0, 2.0, np.inf]))
        3.0
    """
    finite = np.abs(array[np.isfinite(array)])
    return float(finite.max()) if finite.size else None


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 node``, ``1,204 nodes``, ``2 boxes``.

    Example:
        >>> count(1204, "node"), count(1, "step"), count(2, "box", "boxes")
        ('1,204 nodes', '1 step', '2 boxes')
    """
    return f"{n:,} {noun}" if n == 1 else f"{count_text(n)} {plural or noun + 's'}"
