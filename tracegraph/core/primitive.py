"""The data of a primitive: its implementation and its derivative rule.

:class:`PrimitiveRule` holds what one row of the derivative table declares;
:class:`tracegraph.core.var.Primitive` is the same thing made callable
(calling it on traced values records an equation).

Example:
    >>> import tracegraph as tg
    >>> p = tg.primitives()[0]
    >>> p.name, p.argnames, p.formulas
    ('add', ('x', 'y'), ('1', '1'))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import TracegraphError
from ..formula import Formula
from .pullback import make_pullback


def no_gradient(g: Any, out: Any, *args: Any, **params: Any) -> None:
    """The VJP of an input declared with ``None``: it receives no gradient.

    Example:
        >>> import tracegraph as tg
        >>> where = next(p for p in tg.primitives() if p.name == "where")
        >>> where.argnames, where.vjp(0) is no_gradient, where.has_gradient(0)
        (('cond', 'x', 'y'), True, False)
        >>> no_gradient(1.0, 2.0, True, 3.0, 4.0) is None
        True
    """
    return None


def _undefined_pullback(eq: Any, g: Any, adjoints: list) -> None:
    raise TracegraphError(f"primitive {eq.primitive.name!r} has no derivative rule declared")


class PrimitiveRule:
    """One differentiable operation: its implementation and its derivative rule
    (:class:`~tracegraph.core.var.Primitive` adds recording when called).

    Declared with :func:`tracegraph.defprimitive` (or the ``@tg.primitive``
    decorator); the fields are read-only afterwards.

    - ``impl(*args, **params)`` computes the value on plain numbers/arrays;
      ``scalar_impl`` is the Python ``math`` module's version (``math.tanh``), if
      any: an expression file's ``math.tanh(x)`` records this rule with math's
      value, which can differ from numpy's in the last bit.
    - ``vjps[i](g, out, *args, **params)`` is upstream × local for input
      ``i`` (before undoing broadcasting); inputs declared without a gradient
      have :func:`no_gradient` and ``differentiable[i]`` False.
    - ``formulas[i]`` is the local derivative ∂out/∂input_i as readable text
      (``"{out:p}·(1 − {out:p})"``) or a callable of :class:`~tracegraph.formula.Symbols`;
      ``display`` writes the node as an expression (``"{x} + {y}"``).
    - ``variadic`` primitives take any number of inputs sharing one VJP and
      formula, called with ``position=i``.
    - ``kink(*args, **params)`` is the distance to the nearest point where the
      operation is not differentiable; ``domain`` and ``sample`` give valid test
      inputs; ``twice`` says whether the VJPs are themselves differentiable
      (written with traced-safe operations).
    - ``pullback(eq, g, adjoints)`` adds upstream × local for every traced
      input of equation ``eq`` to ``adjoints`` (built at declaration).

    Example:
        >>> import tracegraph as tg
        >>> p = tg.primitives()[0]
        >>> p.name, p.argnames, p.formulas
        ('add', ('x', 'y'), ('1', '1'))
    """

    __slots__ = ("name", "impl", "scalar_impl", "argnames", "vjps", "formulas", "display",
                 "differentiable", "variadic", "kink", "domain", "sample", "doc", "category",
                 "twice", "pullback", "__weakref__")

    def __init__(self, name: str) -> None:
        self.name = name
        self.impl: Callable[..., Any] | None = None
        self.scalar_impl: Callable[..., Any] | None = None
        self.argnames: tuple[str, ...] = ()
        self.vjps: tuple[Callable[..., Any], ...] = ()
        self.formulas: tuple[Formula | None, ...] = ()
        self.display: Formula = name + "(…)"
        self.differentiable: tuple[bool, ...] = ()
        self.variadic = False
        self.kink: Callable[..., float] | None = None
        self.domain: Mapping[str, tuple[float, float]] = {}
        self.sample: Callable[[np.random.Generator], tuple[tuple, dict]] | None = None
        self.doc = ""
        self.category = "user"
        self.twice = True
        self.pullback: Callable[[Any, Any, list], None] = _undefined_pullback

    @property
    def defined(self) -> bool:
        """True once the rule has been declared (the operators' primitives exist earlier)."""
        return self.impl is not None

    def define(self, impl: Callable[..., Any], *, argnames: tuple[str, ...],
               vjps: tuple[Callable[..., Any] | None, ...], formulas: tuple[Formula | None, ...],
               display: Formula, scalar_impl: Callable[..., Any] | None = None,
               variadic: bool = False, kink: Callable[..., float] | None = None,
               domain: Mapping[str, tuple[float, float]] | None = None,
               sample: Callable[[np.random.Generator], tuple[tuple, dict]] | None = None,
               doc: str = "", category: str = "user", twice: bool = True) -> PrimitiveRule:
        """Attach the rule.  ``None`` VJPs are normalised here, once, to :func:`no_gradient`.

        Use :func:`tracegraph.defprimitive`, which validates its arguments and registers.
        """
        self.impl = impl
        self.scalar_impl = scalar_impl
        self.argnames = tuple(argnames)
        self.differentiable = tuple(v is not None for v in vjps)
        self.vjps = tuple(no_gradient if v is None else v for v in vjps)
        self.formulas = tuple(formulas)
        self.display = display
        self.variadic = variadic
        self.kink = kink
        self.domain = dict(domain or {})
        self.sample = sample
        self.doc = doc
        self.category = category
        self.twice = twice
        self.pullback = make_pullback(self)
        return self

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def vjp(self, position: int) -> Callable[..., Any]:
        """The VJP for input ``position`` (variadic primitives share one)."""
        return self.vjps[0] if self.variadic else self.vjps[position]

    def formula(self, position: int) -> Formula | None:
        """The local-derivative formula for input ``position`` (None: no gradient)."""
        if not self.has_gradient(position):
            return None
        return self.formulas[0] if self.variadic else self.formulas[position]

    def has_gradient(self, position: int) -> bool:
        """Whether input ``position`` receives a gradient at all."""
        return self.differentiable[0] if self.variadic else self.differentiable[position]
