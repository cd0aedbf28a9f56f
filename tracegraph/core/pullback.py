"""Pullbacks: how one equation passes its adjoint on to its inputs.

The backward pass is one loop calling ``eq.primitive.pullback(eq, g,
adjoints)`` for each equation in reverse.  A pullback is built once per
primitive, when its rule is declared: a fast path for one or two inputs
without params (the scalar chains that dominate tracing cost) and the
general one, all with the same semantics (a VJP may return ``None``: no
gradient).  An input of the equation's own type is a node reference; any
other input is a constant.

Example:
    >>> import tracegraph as tg
    >>> with tg.Tracer() as tr:
    ...     x = tr.input("x", 3.0); y = x * x
    >>> adjoints = [None, 1.0]
    >>> y.primitive.pullback(y, 1.0, adjoints); adjoints
    [6.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import TracegraphError
from .arrays import shape_of, unbroadcast

# one number each: nothing to unbroadcast (np.tanh of a float gives numpy's float64)
_SCALARS = (float, np.float64)


SPARSE_FACTOR = 8
"""A selection ``x[index]`` covering under 1/8 of ``x`` sends its gradient back as a
:class:`Scattered` part, and a graph past its memory budget keeps no per-edge array for it."""


class Scattered:
    """A contribution that is zero outside ``index``: ``zeros(shape)`` with ``values`` added
    at ``index`` (what ``x[index]`` sends back to ``x``), kept in parts until the backward
    pass reaches the node and calls :meth:`dense`.  A loop over the rows of a traced array
    then costs the size of the rows, not a full array per row.

    The backward pass holds the only reference to it, so adding to it extends it in place.

    Example:
        >>> import numpy as np
        >>> total = Scattered((3, 2), 0, np.ones(2)) + Scattered((3, 2), 2, np.ones(2))
        >>> (np.full((3, 2), 0.5) + total).dense().tolist()
        [[1.5, 1.5], [0.5, 0.5], [1.5, 1.5]]
    """

    __array_ufunc__ = None  # ndarray + Scattered: numpy defers to Scattered.__radd__
    __slots__ = ("shape", "parts")

    def __init__(self, shape: tuple[int, ...], index: Any, values: np.ndarray) -> None:
        self.shape = shape
        self.parts: list[tuple[Any, Any]] = [(index, values)]  # index None: a full array

    def __add__(self, other: Any) -> Scattered:
        self.parts.extend(other.parts if type(other) is Scattered else [(None, other)])
        return self

    def __radd__(self, other: Any) -> Scattered:
        self.parts.insert(0, (None, other))
        return self

    def dense(self) -> np.ndarray:
        """The sum as one array, added in the order the parts arrived (so the same
        numbers as adding full arrays one by one)."""
        dtype = np.result_type(*(values for _, values in self.parts))
        out = np.zeros(self.shape, dtype=dtype if dtype.kind == "f" else np.float64)
        for index, values in self.parts:
            if index is None:
                out += values
            else:
                out[index] += values
        return out


def fit(contribution: Any, parent_value: Any, eq: Any = None, position: int = 0) -> Any:
    """Give a contribution its parent's shape (undo broadcasting).

    Example:
        >>> import numpy as np
        >>> fit(np.ones((2, 3)), np.zeros(3)).tolist(), float(fit(np.ones((2, 3)), 0.0))
        ([2.0, 2.0, 2.0], 6.0)
        >>> fit(np.ones((2, 3)), np.zeros((2, 1))).tolist()
        [[3.0], [3.0]]
    """
    if type(contribution) is Scattered:
        return contribution  # shaped like its parent by construction
    parent_shape = shape_of(parent_value)
    if shape_of(contribution) != parent_shape:
        try:
            return unbroadcast(contribution, parent_shape)
        except ValueError:
            if _is_empty(parent_value):
                return np.zeros(parent_shape)
            raise _misshapen(contribution, parent_shape, eq, position) from None
    return contribution


def _is_empty(value: Any) -> bool:
    return type(value) is np.ndarray and value.size == 0


def _misshapen(contribution: Any, shape: tuple[int, ...], eq: Any, position: int
               ) -> TracegraphError:
    """The error for a VJP whose result is not shaped like its input (nor broadcast to it)."""
    if eq is None:
        return TracegraphError(f"a gradient of shape {shape_of(contribution)} does not fit "
                               f"an input of shape {shape}")
    prim = eq.primitive
    argname = prim.argnames[0 if prim.variadic else position]
    source = eq.inputs[position]
    node = getattr(source, "label", None)
    return TracegraphError(
        f"the VJP of {prim.name!r} for its input {argname!r} returned an array of shape "
        f"{shape_of(contribution)}, which does not fit that input's shape {shape}"
        + (f" (node {node!r})" if node else ""),
        node=node, hint="a VJP returns upstream × local shaped like its input (or "
                        "broadcast against it); see docs/extending.md")


def contribution(eq: Any, position: int, g: Any, values: list[Any] | None = None) -> Any:
    """upstream × local for input ``position`` of equation ``eq``, shaped like that input.

    ``None`` when the input receives no gradient.  Python floats that would
    raise (sqrt'(0) = 1/(2·0)) are redone with numpy scalars, giving a
    flagged inf/nan instead of a crash.

    Example:
        >>> import tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     x = tr.input("x", 3.0); y = x * x
        >>> contribution(y, 0, 1.0)
        3.0
    """
    if values is None:
        node = type(eq)
        values = [x.value if type(x) is node else x for x in eq.inputs]
    c = _raw_contribution(eq, position, g, values)
    return c.dense() if type(c) is Scattered else c


def _raw_contribution(eq: Any, position: int, g: Any, values: list[Any]) -> Any:
    """:func:`contribution` as the backward pass adds it (a :class:`Scattered` stays one)."""
    try:
        return _call_vjp(eq, position, g, eq.value, values)
    except (ZeroDivisionError, OverflowError):
        return _call_vjp(eq, position, _as_numpy(g), _as_numpy(eq.value),
                         [_as_numpy(v) for v in values])


def _call_vjp(eq: Any, position: int, g: Any, out: Any, values: list[Any],
              fitted: bool = True) -> Any:
    prim = eq.primitive
    params = eq.params or {}
    try:
        if prim.variadic:
            c = prim.vjps[0](g, out, *values, position=position, **params)
        else:
            c = prim.vjps[position](g, out, *values, **params)
    except Exception:
        if _is_empty(values[position]):
            # the gradient of an empty array has no numbers to get wrong; rules need not
            # divide by its zero size (np.var) or index its missing elements (np.median)
            return np.zeros(shape_of(values[position]))
        raise
    if c is None or not fitted:
        return c
    return fit(c, values[position], eq, position)


def strong_zero_pullback(eq: Any, g: Any, adjoints: list) -> None:
    """The general pullback of a pointwise rule in which a zero upstream gradient
    contributes zero, whatever the local derivative there (0 · NaN = 0).

    ``np.where(x > 0, np.sqrt(x), 0.0)`` at ``x = -1`` computes sqrt(-1) = NaN in
    the branch it discards; the plain chain rule multiplies the 0 the where sends
    back by sqrt's NaN slope and reports a NaN gradient, while the function is flat
    there.  Only for rules whose output element i depends on input element i alone
    (broadcasting aside): elsewhere a zero in ``g`` says nothing about an input.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     x = tr.input("x", np.array([-1.0, 4.0]))
        ...     with np.errstate(invalid="ignore"):
        ...         y = np.sqrt(x)
        >>> adjoints = [None, None]
        >>> strong_zero_pullback(y, np.array([0.0, 1.0]), adjoints); adjoints[0].tolist()
        [0.0, 0.25]
    """
    _accumulate_all(eq, g, adjoints, strong_zero_contribution)


def strong_zero_contribution(eq: Any, position: int, g: Any, values: list[Any]) -> Any:
    """:func:`contribution` of a pointwise rule with 0 · NaN = 0 where ``g`` is zero
    (see :func:`strong_zero_pullback`)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        c = _call_vjp(eq, position, _as_numpy(g), _as_numpy(eq.value),
                      [_as_numpy(v) for v in values], fitted=False)
        if c is None or type(c) is Scattered:
            return c
        # where the upstream gradient is 0, or the local derivative is (a max's unpicked
        # side meeting an inf from upstream), the contribution is 0
        unit = np.ones(np.shape(g)) if type(g) is np.ndarray else np.float64(1.0)
        local = _call_vjp(eq, position, unit, _as_numpy(eq.value),
                          [_as_numpy(v) for v in values], fitted=False)
        zero = np.equal(g, 0.0)
        if local is not None and type(local) is not Scattered and \
                np.shape(local) == np.shape(c):
            zero = zero | np.equal(local, 0.0)
        if np.shape(zero) == np.shape(c):
            c = np.where(zero, 0.0, c)
        elif not np.shape(zero) and zero:
            c = np.zeros_like(np.asarray(c, dtype=float))
    c = fit(c, values[position], eq, position)
    return float(c) if type(values[position]) is float else c


def _as_numpy(value: Any) -> Any:
    return np.float64(value) if type(value) is float else value


def _accumulate_all(eq: Any, g: Any, adjoints: list,
                    contribute: Callable[..., Any] = _raw_contribution) -> None:
    """The general pullback: every traced input, contributions (``contribute(eq, position,
    g, values)``) computed before any is added."""
    node = type(eq)
    values = [x.value if type(x) is node else x for x in eq.inputs]
    found = []
    for position, x in enumerate(eq.inputs):
        if type(x) is node:
            c = contribute(eq, position, g, values)
            if c is not None:
                found.append((x.index, c))
    for j, c in found:
        a = adjoints[j]
        adjoints[j] = c if a is None else a + c


def make_pullback(prim: Any) -> Callable[[Any, Any, list], None]:
    """The pullback for ``prim``: a fast path for one or two inputs without params
    (the scalar chains that dominate tracing cost), else the general one.  All
    three share the general path's semantics, ``None`` contributions included.

    Example:
        >>> import tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     x = tr.input("x", 3.0); y = x * 2.0
        >>> pullback = make_pullback(y.primitive)
        >>> adjoints = [1.0, 1.0]          # x already holds 1.0 from another consumer
        >>> pullback(y, 1.0, adjoints); adjoints
        [3.0, 1.0]
    """
    if prim.variadic:
        return _accumulate_all
    if len(prim.vjps) == 1:
        return _unary_pullback(prim.vjps[0])
    if len(prim.vjps) == 2:
        return _binary_pullback(prim.vjps[0], prim.vjps[1])
    return _accumulate_all


def _same_shape(contribution: Any, value: Any) -> bool:
    """Whether a contribution already fits its input without :func:`fit` (two Python/numpy
    floats, or two plain arrays of one shape): the fast paths skip the call."""
    kind = type(contribution)
    if kind is np.ndarray:
        return type(value) is np.ndarray and contribution.shape == value.shape
    return kind in _SCALARS and type(value) in _SCALARS


def _unary_pullback(vjp: Callable[..., Any]) -> Callable[[Any, Any, list], None]:
    def pullback(eq: Any, g: Any, adjoints: list) -> None:
        x = eq.inputs[0]
        xv = x.value
        params = eq.params
        try:
            c = vjp(g, eq.value, xv, **params) if params else vjp(g, eq.value, xv)
        except Exception:  # the general path retries (numpy's floats, an empty input) or raises
            return _accumulate_all(eq, g, adjoints)
        if c is None:
            return None
        if (type(c) not in _SCALARS or type(xv) not in _SCALARS) and not _same_shape(c, xv):
            c = fit(c, xv, eq, 0)
        j = x.index
        a = adjoints[j]
        adjoints[j] = c if a is None else a + c
        return None
    return pullback


def _binary_pullback(vjp_a: Callable[..., Any], vjp_b: Callable[..., Any]
                     ) -> Callable[[Any, Any, list], None]:
    def pullback(eq: Any, g: Any, adjoints: list) -> None:
        if eq.params:
            return _accumulate_all(eq, g, adjoints)
        a, b = eq.inputs
        node = type(eq)
        a_traced = type(a) is node
        b_traced = type(b) is node
        av = a.value if a_traced else a
        bv = b.value if b_traced else b
        out = eq.value
        try:
            ca = vjp_a(g, out, av, bv) if a_traced else None
            cb = vjp_b(g, out, av, bv) if b_traced else None
        except Exception:  # the general path retries (numpy's floats, an empty input) or raises
            return _accumulate_all(eq, g, adjoints)
        if ca is not None:
            if (type(ca) not in _SCALARS or type(av) not in _SCALARS) and \
                    not _same_shape(ca, av):  # scalars fit as they are: tested inline
                ca = fit(ca, av, eq, 0)
            j = a.index
            acc = adjoints[j]
            adjoints[j] = ca if acc is None else acc + ca
        if cb is not None:
            if (type(cb) not in _SCALARS or type(bv) not in _SCALARS) and \
                    not _same_shape(cb, bv):
                cb = fit(cb, bv, eq, 1)
            j = b.index
            acc = adjoints[j]
            adjoints[j] = cb if acc is None else acc + cb
        return None
    return pullback
