"""Formula text: labels inside templates, when an operand needs parentheses, ∂ notation.

A primitive's display (``"{x} + {y}"``) and local-derivative formulas
(``"{out:p}·(1 − {out:p})"``) are templates filled with the labels of a
node's inputs.  This module is the one place that decides how such text is
assembled, for the graph, the diagrams, check reports and the CLI alike.

Example:
    >>> "{x:p}·{y:p}".format(x=Label("gold − S"), y=Label("w1"))
    '(gold − S)·w1'
    >>> partial("Loss", "gold − S"), superscript(2)
    ('∂Loss/∂(gold − S)', '²')
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Formula = str | Callable[..., str]
"""A template string with ``{argname}``/``{out}`` fields, or a callable taking :class:`Symbols`."""

UPSTREAM = "ḡ"
"""How array formulas (VJPs in words) write the upstream gradient."""

_ATOMIC = re.compile(r"[\w.#'′@₀-₉]+|[-−]?\d+(\.\d*)?(e[-+]?\d+)?")
_CALL_HEAD = re.compile(r"[\w.|σ√]*[(\[]")
_SUPERSCRIPT = str.maketrans("0123456789-.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@functools.lru_cache(maxsize=65536)
def is_atomic(text: str) -> bool:
    """True when ``text`` needs no parentheses as an operand: a name, a number,
    or one call/bracket group such as ``tanh(x)`` or ``(a + b)``.

    Example:
        >>> is_atomic("w1"), is_atomic("tanh(a + b)"), is_atomic("a + b"), is_atomic("f(a) + g(b)")
        (True, True, False, False)
    """
    if not text:
        return True
    if _ATOMIC.fullmatch(text):
        return True
    head = _CALL_HEAD.match(text)
    if head is None or not text.endswith((")", "]")):
        return False
    depth = 0
    start = head.end() - 1
    for i, char in enumerate(text[start:], start):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return depth == 0


def operand(text: str) -> str:
    """``text`` as an operand: ``S`` stays, ``gold − S`` becomes ``(gold − S)``.

    Example:
        >>> operand("gold − S"), operand("w1")
        ('(gold − S)', 'w1')
    """
    return text if is_atomic(text) else f"({text})"


def partial(of: str, wrt: str) -> str:
    """``∂S/∂G`` for two labels (compound labels parenthesised).

    Example:
        >>> partial("S", "G")
        '∂S/∂G'
    """
    return f"∂{operand(of)}/∂{operand(wrt)}"


def superscript(n: int | str) -> str:
    """An integer as superscript digits (``-2`` → ``⁻²``).

    Example:
        >>> superscript(-2)
        '⁻²'
    """
    return str(n).translate(_SUPERSCRIPT)


def subscript(n: int) -> str:
    """A non-negative integer as subscript digits: versions of a name (``h₃``).

    Example:
        >>> "h" + subscript(12)
        'h₁₂'
    """
    return str(n).translate(_SUBSCRIPT)


def versioned(name: str, version: int) -> str:
    """How text names the ``version``-th value bound to ``name`` (1-based): ``h₂``.

    Example:
        >>> versioned("h", 2), versioned("Loss", 1)
        ('h₂', 'Loss₁')
    """
    return name + subscript(version)


class Label(str):
    """A node label inside formula/display templates.

    ``{x}`` inserts it as is; ``{x:p}`` wraps it in parentheses when it is a
    compound expression, so templates such as ``"{x:p}·{y:p}"`` stay unambiguous.

    Example:
        >>> "{x:p}".format(x=Label("a + b"))
        '(a + b)'
    """

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        if spec == "p":
            return operand(str(self))
        return format(str(self), spec)


@dataclass(frozen=True)
class Symbols:
    """What a formula or display callable receives: the labels of the inputs
    and output (``s["x"]``, ``s["out"]``), the primitive's params, the raw
    input values, and for variadic primitives the input's position.

    Example:
        >>> s = Symbols({"x": Label("G"), "out": Label("S")}, {}, {}, 0)
        >>> s["out"], s.render("{out:p}·(1 − {out:p})")
        ('S', 'S·(1 − S)')
    """

    names: Mapping[str, Label]
    params: Mapping[str, Any]
    values: Mapping[str, Any]
    position: int = 0
    constants: frozenset[str] = frozenset()

    def __getitem__(self, key: str) -> Label:
        return self.names[key]

    def constant(self, key: str) -> Any:
        """The input's value if it is a plain constant (not traced), else ``None``."""
        return self.values.get(key) if key in self.constants else None

    def render(self, template: Formula) -> str:
        """Fill a template string (or call a formula callable) with these symbols."""
        if callable(template):
            return template(self)
        fields: dict[str, Any] = dict(self.params)
        fields.update(self.names)
        return template.format_map(fields)


_TEMPLATE_PARTS: dict[str, list[tuple[str, str | None, str]] | None] = {}


def fill(template: str, argnames: Sequence[str], labels: Sequence[str], out: str) -> str | None:
    """``Symbols.render`` of a plain template whose fields are inputs and ``out``, without
    building the :class:`Symbols`: ``{x}`` as is, ``{x:p}`` as an operand, other specs as
    ``format`` gives them; ``None`` when a field is anything else.

    Example:
        >>> fill("{out:p}·(1 − {out:p})", ["x"], [Label("G")], Label("a + b"))
        '(a + b)·(1 − (a + b))'
        >>> fill("{axis}", ["x"], [Label("G")], Label("S")) is None
        True
    """
    if template not in _TEMPLATE_PARTS:
        parsed = list(string.Formatter().parse(template))
        _TEMPLATE_PARTS[template] = None if any(part[3] for part in parsed) else [
            (literal, field, spec or "") for literal, field, spec, _ in parsed]
    parts = _TEMPLATE_PARTS[template]
    if parts is None:  # a conversion (!r): str.format's business
        return None
    pieces = []
    for literal, field, spec in parts:
        pieces.append(literal)
        if field is None:
            continue
        if field == "out":
            label = out
        else:
            try:
                label = labels[argnames.index(field)]
            except (ValueError, IndexError):
                return None
        pieces.append(operand(str(label)) if spec == "p" else format(str(label), spec))
    return "".join(pieces)


def symbols_for(eq: Any, labels: list[Label], out_label: Label) -> Symbols:
    """The :class:`~tracegraph.formula.Symbols` an equation's display and formulas
    are rendered with, given the labels of its inputs (in argument order) and its own.

    Example:
        >>> import tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     x = tr.input("x", 3.0); y = x - 2.0
        >>> symbols_for(y, [Label("x"), Label("2")], Label("y")).render(y.primitive.display)
        'x − 2'
    """
    prim = eq.primitive
    inputs = eq.inputs
    node = type(eq)  # inputs of the equation's own type are node references
    keys = [f"arg{k}" for k in range(len(inputs))] if prim.variadic else prim.argnames
    names = dict(zip(keys, labels))
    names["out"] = out_label
    values = {}
    constants = []
    for key, x in zip(keys, inputs):
        if type(x) is node:
            values[key] = x.value
        else:
            values[key] = x
            constants.append(key)
    return Symbols(names, eq.params or {}, values, 0, frozenset(constants))
