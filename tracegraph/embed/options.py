"""The options of an embedded diagram, spelled as ``tracegraph render`` spells them.

A Sphinx directive (``:max-nodes: 40``) and a Markdown fence
(``max-nodes="40"``) hand over their options as text; :func:`parse_options`
checks them all at once and says what is wrong the way the command line
would.  The meaning is that of ``tracegraph render`` (docs/cli.md):
``path`` is ``FROM[,TO]``, ``precision`` counts significant digits,
``max-nodes 0`` draws every node, ``set`` is ``NAME=VALUE`` (several,
comma-separated: ``a=1, x=[1, 2.5]``), ``wrt`` names inputs.  The page
options (``caption``, ``alt``, ``table``, ``check``, ``expect-wrong``) say
what goes around the picture.

Example:
    >>> opts = parse_options({"show": "grads", "max-nodes": "0", "set": "w1=0.1, x=[1, 2]",
    ...                       "table": None})
    >>> opts.show, opts.max_nodes, opts.sets, opts.table
    ('grads', 0, (('w1', 0.1), ('x', [1.0, 2.0])), True)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..diagram.options import MIN_BUDGET, RANKDIRS, SHOW_MODES
from ..errors import OverrideError, TracegraphError, worded
from ..script import parse_override

DIAGRAM_OPTIONS = ("show", "rankdir", "precision", "max-nodes", "focus", "path", "expand",
                   "no-constants", "no-legend", "title")
TRACING_OPTIONS = ("set", "output", "function", "wrt")
PAGE_OPTIONS = ("caption", "alt", "table", "check", "expect-wrong")
OPTION_NAMES = DIAGRAM_OPTIONS + TRACING_OPTIONS + PAGE_OPTIONS
FLAGS = ("no-constants", "no-legend", "table", "check", "expect-wrong")
DEFAULT_PRECISION = 4


class EmbedOptionError(TracegraphError, ValueError):
    """An option of an embedded diagram has a value it cannot take.

    Example:
        >>> try:
        ...     parse_options({"show": "everything"})
        ... except EmbedOptionError as err:
        ...     print(err.message)
        show: 'everything' is not a display mode
    """


@dataclass(frozen=True)
class EmbedOptions:
    """What to trace and draw, and what goes around the picture (see the module).

    ``max_nodes`` is ``None`` for the default budget and ``0`` to draw every
    node, as on the command line; ``sets`` holds parsed ``(name, value)``
    pairs (arrays as lists, so the options can be hashed and written as JSON).

    Example:
        >>> EmbedOptions(show="flow").show, EmbedOptions().precision
        ('flow', 4)
    """

    show: str = "all"
    rankdir: str = "LR"
    precision: int = DEFAULT_PRECISION
    max_nodes: int | None = None
    focus: str | None = None
    path: tuple[str, str] | tuple[str] | None = None
    expand: tuple[str, ...] = ()
    constants: bool = True
    legend: bool = True
    title: str | None = None
    sets: tuple[tuple[str, Any], ...] = ()
    output: str | None = None
    function: str | None = None
    wrt: tuple[str, ...] = ()
    caption: str | None = None
    alt: str | None = None
    table: bool = False
    check: bool = False
    expect_wrong: bool = False

    def overrides(self) -> dict[str, Any]:
        """``load_script``'s ``overrides`` (lists back to float arrays)."""
        return {name: np.asarray(value, dtype=float) if isinstance(value, list) else value
                for name, value in self.sets}

    def canonical(self) -> str:
        """The options as stable JSON text, for cache keys.

        Example:
            >>> EmbedOptions(show="grads").canonical() == EmbedOptions(show="grads").canonical()
            True
        """
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def parse_options(given: Mapping[str, str | None]) -> EmbedOptions:
    """Options written as text (``None`` or ``""`` for a flag) as :class:`EmbedOptions`.

    Names may be spelled with ``-`` or ``_`` (``max-nodes``, ``max_nodes``).

    Example:
        >>> parse_options({"path": "w1", "rankdir": "TB", "precision": "3"}).path
        ('w1',)
        >>> parse_options({"wrt": "w1, w2", "check": "", "expect-wrong": None}).wrt
        ('w1', 'w2')
        >>> parse_options({"expect_wrong": "expect_wrong", "no_legend": "no_legend"}).legend
        False
    """
    raw = {name.replace("_", "-"): value for name, value in given.items()}
    unknown = sorted(set(raw) - set(OPTION_NAMES))
    if unknown:
        raise EmbedOptionError(
            f"unknown option{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            hint=f"the options are {', '.join(OPTION_NAMES)}")
    for flag in FLAGS:
        # a bare attribute's value is its own name (superfences: expect_wrong="expect_wrong")
        if flag in raw and (raw[flag] or "").strip().replace("_", "-") not in ("", flag):
            raise EmbedOptionError(f"{flag} is a flag and takes no value (got {raw[flag]!r})",
                                   hint=f"write the option {flag} alone")
    text = {name: (value or "").strip() for name, value in raw.items() if name not in FLAGS}
    for name, value in text.items():
        if not value:
            raise EmbedOptionError(f"{name} needs a value", hint=_EXAMPLES.get(name))
    return EmbedOptions(
        show=_choice(text, "show", SHOW_MODES, "a display mode", "all"),
        rankdir=_choice(text, "rankdir", RANKDIRS, "a direction", "LR"),
        precision=_precision(text.get("precision")),
        max_nodes=_max_nodes(text.get("max-nodes")),
        focus=text.get("focus"),
        path=_path(text.get("path")),
        expand=_names(text.get("expand")),
        constants="no-constants" not in raw,
        legend="no-legend" not in raw,
        title=text.get("title"),
        sets=_sets(text.get("set")),
        output=text.get("output"),
        function=text.get("function"),
        wrt=_names(text.get("wrt")),
        caption=text.get("caption"),
        alt=text.get("alt"),
        table="table" in raw,
        check="check" in raw,
        expect_wrong="expect-wrong" in raw,
    )


_EXAMPLES = {
    "show": "e.g. show: grads", "rankdir": "e.g. rankdir: TB", "precision": "e.g. precision: 3",
    "max-nodes": "e.g. max-nodes: 40 (0 draws every node)", "focus": "e.g. focus: S",
    "path": "e.g. path: w1,Loss", "expand": "e.g. expand: layer1", "title": "a line of text",
    "set": "e.g. set: w1=0.5, x=[1, 2.5]", "output": "e.g. output: Loss",
    "function": "e.g. function: loss", "wrt": "e.g. wrt: w1,w2", "caption": "a line of text",
    "alt": "a line of text",
}


def _choice(text: dict[str, str], name: str, choices: tuple[str, ...], what: str,
            default: str) -> str:
    value = text.get(name, default)
    if value not in choices:
        raise EmbedOptionError(f"{name}: {value!r} is not {what}",
                               hint=f"use one of {', '.join(choices)}")
    return value


def _integer(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise EmbedOptionError(f"{name}: {value!r} is not a whole number",
                               hint=_EXAMPLES[name]) from None


def _precision(value: str | None) -> int:
    if value is None:
        return DEFAULT_PRECISION
    digits = _integer("precision", value)
    if not 1 <= digits <= 17:
        raise EmbedOptionError(f"precision: {digits} significant digits is out of range",
                               hint="use 1 to 17 (the default is 4)")
    return digits


def _max_nodes(value: str | None) -> int | None:
    if value is None:
        return None
    budget = _integer("max-nodes", value)
    if budget != 0 and budget < MIN_BUDGET:
        raise EmbedOptionError(
            f"max-nodes: {budget}: a diagram needs room for at least {MIN_BUDGET} boxes",
            hint=f"use {MIN_BUDGET} or more, or 0 to draw every node")
    return budget


def _path(value: str | None) -> tuple[str, str] | tuple[str] | None:
    if value is None:
        return None
    start, _, end = value.partition(",")
    start, end = start.strip(), end.strip()
    if not start or "," in end:
        raise EmbedOptionError(f"path: {value!r} is not FROM[,TO]", hint=_EXAMPLES["path"])
    return (start, end) if end else (start,)


def _names(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(name.strip() for name in value.split(",") if name.strip())


def _sets(value: str | None) -> tuple[tuple[str, Any], ...]:
    if value is None:
        return ()
    pairs = []
    for item in split_top_level(value):
        try:
            with worded({"override": "{}"}):  # the option's own name says what it is
                name, parsed = parse_override(item)
        except OverrideError as err:
            raise EmbedOptionError(f"set: {err.message}", hint=_EXAMPLES.get("set")) from err
        pairs.append((name, parsed.tolist() if isinstance(parsed, np.ndarray) else parsed))
    return tuple(pairs)


def split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets: ``a=1, x=[1, 2]`` → two items.

    Example:
        >>> split_top_level("a=1, x=[1, 2], y=[[1, 2], [3, 4]]")
        ['a=1', 'x=[1, 2]', 'y=[[1, 2], [3, 4]]']
    """
    items, depth, start = [], 0, 0
    for position, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:position])
            start = position + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]
