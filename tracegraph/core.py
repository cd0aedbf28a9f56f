"""The recording engine: primitives, the registry, traced values and the tape.

A :class:`Tape` is an append-only list of :class:`Var` nodes.  Each ``Var``
holds its forward value, the :class:`Primitive` that produced it and the
inputs it was computed from (other ``Var`` objects or plain constants).
Because a node can only be recorded after its inputs exist, record order is
a topological order, which lets the backward pass be a plain reversed loop.

Nothing here is global state except the registry of primitives (filled once,
at import, plus whatever the user registers).  Every tape belongs to one
trace; values from different tapes refuse to mix.

Example:
    >>> import numpy as np
    >>> from tracegraph.core import Tape, ADD_NAME
    >>> tape = Tape()
    >>> x = tape.leaf("x", 2.0)
    >>> y = x * x + 1.0
    >>> y.value, y.op
    (5.0, 'add')
"""

from __future__ import annotations

import contextlib
import functools
import contextvars
import math
import re
import numbers
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import (
    ForeignTraceError,
    TracedValueLeakError,
    UnsupportedOperationError,
    user_location,
)

ADD_NAME = "add"

Formula = str | Callable[..., str]


# --------------------------------------------------------------------------- primitives


@dataclass(frozen=True, eq=False)
class Primitive:
    """One differentiable operation: its implementation and its derivative rule.

    ``impl`` computes the forward value on plain numbers/arrays.  ``vjps[i]``
    is called as ``vjp(g, out, *args, **params)`` and returns the gradient
    contribution for input ``i`` given the upstream gradient ``g`` (the
    vector-Jacobian product); ``None`` marks an input with no gradient.
    ``formulas[i]`` is the local derivative ∂out/∂input_i as readable text
    with ``{argname}`` and ``{out}`` placeholders, e.g. ``"{out}·(1−{out})"``,
    or a callable ``(names, params, position) -> str`` for special cases.
    ``display`` writes the node as an expression, e.g. ``"{x} + {y}"``.

    Variadic primitives (``concatenate``, ``stack``) take any number of
    inputs; their single VJP and formula are called with ``position=i``.

    ``kink(*args, **params)`` returns the distance from the point to the
    nearest place where the operation is not differentiable (``abs`` at 0,
    ties in ``maximum``); finite-difference checks skip points that are too
    close.  ``domain`` maps argument names to ``(low, high)`` bounds of valid
    test values; ``sample(rng)`` returns ``(args, params)`` for primitives
    whose inputs have structure (shapes that must agree, index arguments).

    Example:
        >>> from tracegraph.core import REGISTRY
        >>> REGISTRY["tanh"].formulas[0]
        '1 − {out:p}²'
    """

    name: str
    impl: Callable[..., Any]
    argnames: tuple[str, ...]
    vjps: tuple[Callable[..., Any] | None, ...]
    formulas: tuple[Formula | None, ...]
    display: Formula
    scalar_impl: Callable[..., Any] | None = None
    variadic: bool = False
    kink: Callable[..., float] | None = None
    domain: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    sample: Callable[[np.random.Generator], tuple[tuple, dict]] | None = None
    doc: str = ""
    category: str = "user"
    numpy_names: tuple[str, ...] = ()

    def __call__(self, *args: Any, **params: Any) -> Any:
        return apply(self, *args, **params)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def vjp(self, position: int) -> Callable[..., Any] | None:
        """The VJP for input ``position`` (variadic primitives share one)."""
        if self.variadic:
            return self.vjps[0]
        return self.vjps[position]

    def formula(self, position: int) -> Formula | None:
        """The local-derivative formula for input ``position``."""
        if self.variadic:
            return self.formulas[0]
        return self.formulas[position]


class Label(str):
    """A node label inside formula/display templates.

    ``{x}`` inserts it as is; ``{x:p}`` wraps it in parentheses when it is a
    compound expression (``gold − S`` becomes ``(gold − S)``), so templates
    such as ``"{x:p}·{y:p}"`` stay unambiguous.

    Example:
        >>> "{x:p}·{y:p}".format(x=Label("gold − S"), y=Label("w1"))
        '(gold − S)·w1'
    """

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        if spec == "p":
            return str(self) if is_atomic(self) else f"({self})"
        return format(str(self), spec)


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


_ATOMIC = re.compile(r"[\w.#'′]+|[-−]?\d+(\.\d*)?(e[-+]?\d+)?")
_CALL_HEAD = re.compile(r"[\w.|σ√]*[(\[]")


@dataclass(frozen=True)
class Symbols:
    """What a formula or display callable receives: the labels of the inputs
    and output (``s["x"]``, ``s["out"]``), the primitive's params, the raw
    input values, and for variadic primitives the input's position.

    Example:
        >>> s = Symbols({"x": Label("G"), "out": Label("S")}, {}, {}, 0)
        >>> s["out"]
        'S'
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


REGISTRY: dict[str, Primitive] = {}
"""Every primitive by name, built-ins first, in declaration order."""

UFUNC_RULES: dict[np.ufunc, Primitive] = {}
"""numpy ufunc -> the primitive it records (called with the ufunc's inputs)."""

FUNCTION_RULES: dict[Callable[..., Any], Callable[..., Any]] = {}
"""numpy function (``np.sum`` ...) -> handler with the same signature."""

ZERO_GRADIENT_UFUNCS: set[np.ufunc] = set()
"""ufuncs whose result does not depend smoothly on their inputs (comparisons,
``sign``, ``floor`` ...): they run on plain values and return plain results,
which is exact because their derivative is zero wherever it exists."""

ZERO_GRADIENT_FUNCTIONS: set[Callable[..., Any]] = set()
"""The same for numpy functions (``np.argmax``, ``np.shape``, ``np.zeros_like`` ...)."""

_registry_lock = threading.Lock()


def register(primitive: Primitive, *, numpy: tuple = (), replace: bool = False) -> Primitive:
    """Add a primitive to the registry and route numpy callables to it.

    ``numpy`` lists ufuncs or functions (``np.tanh``, ``np.linalg.norm``)
    that should dispatch to the primitive when called on traced values.

    Example:
        >>> from tracegraph.core import register, REGISTRY
        >>> "tanh" in REGISTRY
        True
    """
    with _registry_lock:
        if primitive.name in REGISTRY and not replace:
            raise ValueError(
                f"a primitive named {primitive.name!r} is already registered; "
                "choose another name or pass replace=True"
            )
        REGISTRY[primitive.name] = primitive
        for func in numpy:
            route_numpy(func, primitive)
    return primitive


def route_numpy(func: Callable[..., Any], primitive: Primitive) -> None:
    """Make ``func(*args)`` on traced values record ``primitive``.

    Example:
        >>> import numpy as np
        >>> from tracegraph.core import UFUNC_RULES
        >>> UFUNC_RULES[np.tanh].name
        'tanh'
    """
    if isinstance(func, np.ufunc):
        UFUNC_RULES[func] = primitive
    else:
        FUNCTION_RULES[func] = _positional_handler(primitive)


def _positional_handler(primitive: Primitive) -> Callable[..., Any]:
    def handler(*args: Any) -> Any:
        return apply(primitive, *args)

    handler.__name__ = primitive.name
    handler.primitive = primitive  # type: ignore[attr-defined]
    return handler


# --------------------------------------------------------------------------- scopes


_ACTIVE_TAPE: contextvars.ContextVar[Tape | None] = contextvars.ContextVar(
    "tracegraph_active_tape", default=None
)


@dataclass(frozen=True)
class ScopeSpan:
    """A named region of the tape: nodes ``start <= index < stop`` were recorded in it."""

    path: tuple[str, ...]
    start: int
    stop: int


class Tape:
    """The record of one trace: nodes in the order they were computed.

    Example:
        >>> tape = Tape()
        >>> x = tape.leaf("x", 3.0)
        >>> len(tape.nodes), tape.nodes[0].name
        (1, 'x')
    """

    __slots__ = ("nodes", "closed", "scope_path", "scope_spans", "_scope_starts",
                 "constant_names", "integer_leaves", "__weakref__")

    def __init__(self) -> None:
        self.nodes: list[Var] = []
        self.closed = False
        self.scope_path: tuple[str, ...] = ()
        self.scope_spans: list[ScopeSpan] = []
        self._scope_starts: list[int] = []
        self.constant_names: dict[int, tuple[str, Any]] = {}
        self.integer_leaves: set[int] = set()

    def leaf(self, name: str | None, value: Any, *, integer: bool = False) -> Var:
        """Record an input: a named leaf with no producing primitive.

        An ``integer`` leaf (an input given as a Python int) is traced as a
        float but still works where Python needs an int (``range(n)``,
        ``x[:n]``, ``np.zeros(n)``); those uses are piecewise constant in
        ``n``, so they contribute no gradient, exactly as in calculus.
        """
        var = _new_var(self, None, (), value, None)
        var._name = name
        if integer:
            self.integer_leaves.add(var._index)
        return var

    def name_constant(self, name: str, value: Any) -> None:
        """Remember that a constant object passed by the user has a name (for the graph)."""
        # Keyed by identity so that one named array used in many places is one node;
        # the object itself is kept alive by this entry, so the identity stays valid.
        self.constant_names[id(value)] = (name, value)

    def check_open(self) -> None:
        if self.closed:
            raise ForeignTraceError(
                "this value belongs to a trace that has already finished, so new "
                "operations on it cannot be recorded",
                location=user_location(),
                hint="do all the computation inside the traced function (or the "
                "Tracer block); use `.value` for the plain number",
            )

    def push_scope(self, name: str) -> None:
        self._scope_starts.append(len(self.nodes))
        self.scope_path = self.scope_path + (name,)

    def pop_scope(self) -> None:
        start = self._scope_starts.pop()
        self.scope_spans.append(ScopeSpan(self.scope_path, start, len(self.nodes)))
        self.scope_path = self.scope_path[:-1]


def active_tape() -> Tape | None:
    """The tape of the trace running in this thread/context, if any."""
    return _ACTIVE_TAPE.get()


@contextlib.contextmanager
def activate(tape: Tape):
    """Make ``tape`` the active one for :func:`scope` inside the block."""
    token = _ACTIVE_TAPE.set(tape)
    try:
        yield tape
    finally:
        _ACTIVE_TAPE.reset(token)


@contextlib.contextmanager
def scope(name: str):
    """Group the operations recorded inside the block under ``name``.

    Diagrams draw a scope as a cluster and collapse it into one box when the
    graph is too large.  Scopes nest.  Outside a trace this does nothing, so
    the same code runs untraced.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> def f(x):
        ...     with tg.scope("layer1"):
        ...         h = np.tanh(x * 2.0)
        ...     return h * h
        >>> t = tg.trace(f, x=0.5)
        >>> sorted({d["scope"] for _, d in t.graph.nodes(data=True)})
        [(), ('layer1',)]
    """
    if not isinstance(name, str) or not name:
        raise ValueError("scope name must be a non-empty string")
    tape = _ACTIVE_TAPE.get()
    if tape is None:
        yield
        return
    tape.push_scope(name)
    try:
        yield
    finally:
        tape.pop_scope()


# --------------------------------------------------------------------------- traced values


def _new_var(tape: Tape, prim: Primitive | None, inputs: tuple, value: Any,
             params: dict | None) -> Var:
    nodes = tape.nodes
    var = _var_new(Var)
    var._tape = tape
    var._index = len(nodes)
    var.value = value
    var._prim = prim
    var._inputs = inputs
    var._params = params
    var._name = None
    nodes.append(var)
    return var


def _leak(kind: str, var: Var) -> TracedValueLeakError:
    location = user_location()
    expression = location.expression if location else ""
    what = expression or f"{kind}(...)"
    function, argument = _call_parts(what)
    # Name the value as the user wrote it (``w * x``), not by an internal label.
    subject = argument or var.name or var.expression()
    numpy_name = _NUMPY_EQUIVALENT.get(function)
    hint = (f"use {numpy_name}({argument or '...'}), which tracegraph traces" if numpy_name
            else "keep the computation in numpy operations, which tracegraph traces")
    shown = subject if is_atomic(subject) else f"({subject})"
    hint += f"; if you only need the number (to print it), use {shown}.value"
    return TracedValueLeakError(
        f"{what} turns the traced value {subject!r} into a plain Python number, "
        "which would drop it from the trace and make every gradient through it "
        "silently wrong",
        location=location, node=var.label, hint=hint,
    )


def _call_parts(expression: str) -> tuple[str, str]:
    """``("math.exp", "w * x")`` for ``"math.exp(w * x)"``; ``("", "")`` when not a call."""
    head, paren, rest = expression.partition("(")
    if not paren or not rest.endswith(")") or not _CALLEE.fullmatch(head.strip()):
        return "", ""
    return head.strip(), rest[:-1].strip()


_CALLEE = re.compile(r"[A-Za-z_][\w.]*")


_NUMPY_EQUIVALENT = {
    f"math.{name}": f"np.{name}"
    for name in ("exp", "log", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan",
                 "tanh", "sinh", "cosh", "expm1", "fabs", "pow", "floor", "ceil")
}
_NUMPY_EQUIVALENT["math.fabs"] = "np.abs"
_NUMPY_EQUIVALENT["math.pow"] = "np.power"


class Var:
    """A traced value: behaves like the number or array it holds, and records
    every operation applied to it on its trace's tape.

    You normally never construct one: :func:`tracegraph.trace` passes them to
    your function.  ``var.value`` is the plain value, ``var.name`` the node's
    name (``None`` until named).

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> def f(x):
        ...     assert isinstance(x, tg.Var)
        ...     return np.sin(x) * x
        >>> round(tg.trace(f, x=1.0).value, 4)
        0.8415
    """

    __slots__ = ("_tape", "_index", "value", "_prim", "_inputs", "_params", "_name")
    __array_priority__ = 1000

    # -- introspection ----------------------------------------------------------------
    @property
    def name(self) -> str | None:
        """The user-given name of this node, or ``None``."""
        return self._name

    @property
    def label(self) -> str:
        """The name, or a generated ``op#index`` when unnamed."""
        if self._name is not None:
            return self._name
        op = self._prim.name if self._prim is not None else "input"
        return f"{op}#{self._index}"

    def expression(self) -> str:
        """What this node computes, in terms of its inputs' labels (``"x − 2"``).

        A light version of the graph's ``expr`` attribute, for messages.

        Example:
            >>> import tracegraph as tg
            >>> with tg.Tracer() as tr:
            ...     x = tr.input("x", 3.0)
            ...     (x - 2.0).expression()
            'x − 2'
        """
        if self._prim is None:
            return self.label
        labels = [Label(_short_text(x)) for x in self._inputs]
        try:
            return symbols_for(self, labels, Label(self.label)).render(self._prim.display)
        except (KeyError, IndexError, ValueError, TypeError):
            return self.label

    @property
    def op(self) -> str:
        """The primitive that produced this value (``"input"`` for a leaf)."""
        return self._prim.name if self._prim is not None else "input"

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def ndim(self) -> int:
        return np.ndim(self.value)

    @property
    def size(self) -> int:
        return int(np.size(self.value))

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self):
        if np.ndim(self.value) == 0:
            raise TypeError(f"iteration over a scalar traced value {self.label!r}")
        return (self[i] for i in range(len(self.value)))

    def __repr__(self) -> str:
        return f"<traced {self.label} = {self.value!r}>"

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def __bool__(self) -> bool:
        return bool(self.value)

    # -- conversions that would drop the trace -------------------------------------
    def __float__(self) -> float:
        raise _leak("float", self)

    def __int__(self) -> int:
        if self._is_integer_input():
            return int(self.value)
        raise _leak("int", self)

    def __complex__(self) -> complex:
        raise _leak("complex", self)

    def __index__(self) -> int:
        if self._is_integer_input():
            return int(self.value)
        raise _leak("index", self)

    def _is_integer_input(self) -> bool:
        return self._prim is None and self._index in self._tape.integer_leaves

    def __round__(self, ndigits: int | None = None) -> float:
        raise _leak("round", self)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        location = user_location()
        raise TracedValueLeakError(
            f"converting the traced value {self.label!r} to a plain numpy array "
            "(np.array / np.asarray / a list of traced values) would drop it from the trace",
            location=location, node=self.label,
            hint="build arrays of traced values with np.stack([...]) or "
            "np.concatenate([...]); use .value if you only need the numbers",
        )

    def item(self) -> float:
        raise _leak("item", self)

    def tolist(self) -> list:
        raise _leak("tolist", self)

    def __setitem__(self, key: Any, value: Any) -> None:
        raise UnsupportedOperationError(
            "item assignment (x[i] = v)",
            reason="traced arrays are immutable",
            hint="build a new array instead: np.where(mask, new, x), np.concatenate or np.stack",
            node=self.label,
        )

    # -- arithmetic ---------------------------------------------------------------------
    # + - * / ** are bound by tracegraph.rules.arithmetic with bind_operator(), which
    # builds one specialised method per operator (the hottest path of scalar tracing).

    def __matmul__(self, other: Any) -> Any:
        return apply(_P.matmul, self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return apply(_P.matmul, other, self)

    def __neg__(self) -> Any:
        return apply(_P.negative, self)

    def __pos__(self) -> Var:
        return self

    def __abs__(self) -> Any:
        return apply(_P.absolute, self)

    def __floordiv__(self, other: Any) -> Any:
        raise UnsupportedOperationError("x // y", reason="floor division has no useful derivative",
                                        node=self.label)

    __rfloordiv__ = __floordiv__

    def __mod__(self, other: Any) -> Any:
        raise UnsupportedOperationError("x % y", reason="the modulo operator is not traced",
                                        node=self.label)

    __rmod__ = __mod__

    # Comparisons give plain results: they are piecewise constant, so cutting the
    # trace there is exact (their derivative is zero wherever it exists).
    def __lt__(self, other: Any) -> Any:
        return self.value < value_of(other)

    def __le__(self, other: Any) -> Any:
        return self.value <= value_of(other)

    def __gt__(self, other: Any) -> Any:
        return self.value > value_of(other)

    def __ge__(self, other: Any) -> Any:
        return self.value >= value_of(other)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return self.value == value_of(other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return self.value != value_of(other)

    __hash__ = None  # type: ignore[assignment]  # elementwise ==, like ndarray

    # -- array methods ----------------------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        return apply(_P.getitem, self, index=normalize_index(index))

    @property
    def T(self) -> Any:
        return apply(_P.transpose, self, axes=None)

    def transpose(self, *axes: Any) -> Any:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return apply(_P.transpose, self, axes=tuple(axes) if axes else None)

    def reshape(self, *shape: Any, order: str = "C") -> Any:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        _only_c_order(order, "reshape")
        return apply(_P.reshape, self, shape=tuple(int(s) for s in shape))

    def ravel(self, order: str = "C") -> Any:
        _only_c_order(order, "ravel")
        return apply(_P.reshape, self, shape=(-1,))

    flatten = ravel

    def squeeze(self, axis: Any = None) -> Any:
        return apply(_P.reshape, self, shape=np.squeeze(self.value, axis=axis).shape)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Any:
        return apply(_P.sum, self, axis=normalize_axis(axis), keepdims=bool(keepdims))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Any:
        return apply(_P.mean, self, axis=normalize_axis(axis), keepdims=bool(keepdims))

    def max(self, axis: Any = None, keepdims: bool = False) -> Any:
        return apply(_P.max, self, axis=normalize_axis(axis), keepdims=bool(keepdims))

    def min(self, axis: Any = None, keepdims: bool = False) -> Any:
        return apply(_P.min, self, axis=normalize_axis(axis), keepdims=bool(keepdims))

    def dot(self, other: Any) -> Any:
        return np.dot(self, other)

    def clip(self, a_min: Any = None, a_max: Any = None) -> Any:
        return np.clip(self, a_min, a_max)

    def copy(self) -> Var:
        return self

    def astype(self, dtype: Any, copy: bool = True) -> Any:
        if np.issubdtype(np.dtype(dtype), np.floating) and np.dtype(dtype) == self.dtype:
            return self
        raise UnsupportedOperationError(
            f"astype({np.dtype(dtype).name})",
            reason="changing the dtype of a traced value is not traced",
            node=self.label,
        )

    # -- numpy protocols ------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        prim = UFUNC_RULES.get(ufunc)
        if prim is not None and method == "__call__" and not kwargs:
            if len(inputs) == 1:
                return _unary(prim, inputs[0])
            return apply(prim, *inputs)
        return _ufunc_slow_path(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Callable, types: Any, args: tuple, kwargs: dict) -> Any:
        if func in ZERO_GRADIENT_FUNCTIONS:
            return func(*deep_value_of(args), **deep_value_of(kwargs))
        handler = FUNCTION_RULES.get(func)
        if handler is None:
            raise UnsupportedOperationError(f"np.{_numpy_path(func)}")
        return handler(*args, **kwargs)


_var_new = object.__new__


def _numpy_path(func: Callable) -> str:
    module = getattr(func, "__module__", "") or ""
    name = getattr(func, "__name__", repr(func))
    for prefix in ("numpy.linalg", "numpy.fft", "numpy.random"):
        if module.startswith(prefix):
            return f"{prefix.split('.', 1)[1]}.{name}"
    return name


def _only_c_order(order: str, what: str) -> None:
    if order != "C":
        raise UnsupportedOperationError(f"{what}(order={order!r})", reason="only C order is traced")


def shape_of(value: Any) -> tuple[int, ...]:
    """``np.shape`` without its overhead for the common float/ndarray cases.

    Example:
        >>> import numpy as np
        >>> shape_of(1.0), shape_of(np.zeros((2, 3)))
        ((), (2, 3))
    """
    kind = type(value)
    if kind is float or kind is int:
        return ()
    if kind is np.ndarray:
        return value.shape
    return np.shape(value)


def as_python_scalar(value: Any) -> Any:
    """A real 0-d value (np.float64, 0-d array, int) as a Python float; others unchanged.

    Example:
        >>> import numpy as np
        >>> as_python_scalar(np.float64(2.5)), as_python_scalar(np.ones(2)).shape
        (2.5, (2,))
    """
    kind = type(value)
    if kind is float:
        return value
    if kind is np.ndarray:
        return float(value) if value.ndim == 0 and value.dtype.kind in "fiu" else value
    if isinstance(value, (int, np.floating, np.integer)) and not isinstance(value, bool):
        return float(value)
    return value


def symbols_for(node: Var, labels: list[Label], out_label: Label) -> Symbols:
    """The :class:`Symbols` a node's display and formulas are rendered with, given
    the labels of its inputs (in argument order) and of the node itself."""
    prim = node._prim
    inputs = node._inputs
    keys = [f"arg{k}" for k in range(len(inputs))] if prim.variadic else prim.argnames
    names = dict(zip(keys, labels))
    names["out"] = out_label
    values = {}
    constants = []
    for key, x in zip(keys, inputs):
        if type(x) is Var:
            values[key] = x.value
        else:
            values[key] = x
            constants.append(key)
    return Symbols(names, node._params or {}, values, 0, frozenset(constants))


def _short_text(x: Any) -> str:
    if type(x) is Var:
        return x.label
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        return f"{float(x):g}"
    shape = np.shape(x) if isinstance(x, np.ndarray) else None
    return f"array{list(shape)}" if shape is not None else type(x).__name__


def value_of(x: Any) -> Any:
    """The plain value of ``x``: ``x.value`` for a traced value, ``x`` itself otherwise.

    Example:
        >>> import tracegraph as tg
        >>> tg.value_of(3.0)
        3.0
    """
    return x.value if type(x) is Var else x


def deep_value_of(x: Any) -> Any:
    """:func:`value_of` through lists, tuples and dicts."""
    if type(x) is Var:
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(deep_value_of(item) for item in x)
    if isinstance(x, dict):
        return {key: deep_value_of(item) for key, item in x.items()}
    return x


def is_traced(x: Any) -> bool:
    """True when ``x`` is a traced value.

    Example:
        >>> import tracegraph as tg
        >>> tg.is_traced(1.0)
        False
    """
    return type(x) is Var


def name(value: Any, label: str, *, replace: bool = False) -> Any:
    """Give a traced value a name (``G``) so the graph and diagram use it.

    Returns ``value`` unchanged, so it fits inside expressions:
    ``G = tg.name(A + B + C, "G")``.  A value that already has a name keeps
    it unless ``replace=True`` (so ``S2 = S`` does not rename ``S``); inputs
    are never renamed.  Untraced values pass through untouched.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda x: tg.name(x * 2.0, "doubled") + 1.0, x=1.0)
        >>> t["doubled"].value
        2.0
    """
    if type(value) is Var:
        if not isinstance(label, str) or not label:
            raise ValueError("a node name must be a non-empty string")
        if value._name is None or (replace and value._prim is not None):
            value._name = label
    return value


@dataclass(frozen=True)
class Constant:
    """Marks an object (not a number or array) as a constant input.

    Numbers and arrays are marked with value-like subclasses instead, so that
    marked values keep working in plain Python; see :func:`constant`.
    """

    value: Any


class ConstantFloat(float):
    """A float marked as a constant input: behaves exactly like the float."""

    __slots__ = ()


class ConstantInt(int):
    """An int marked as a constant input: behaves exactly like the int."""

    __slots__ = ()


class ConstantArray(np.ndarray):
    """An array marked as a constant input: a view that behaves like the array."""


def constant(value: Any) -> Any:
    """Mark an input as a named constant: shown in the graph, never differentiated.

    Data such as ``X`` and ``y`` usually needs no gradient; marking it
    constant skips that work and keeps it out of ``t.grads``.  The marked
    value still behaves like the number or array it holds (a subclass of
    float, int or ndarray), so ``EPS = tracegraph.constant(1e-8)`` at the top
    of an expression file also runs with plain ``python``.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda w, X: np.sum(X * w), w=2.0, X=tg.constant(np.ones(3)))
        >>> sorted(t.grads)
        ['w']
        >>> tg.constant(1e-8) * 2
        2e-08
    """
    if isinstance(value, (bool, np.bool_)) or is_constant(value):
        return value if is_constant(value) else Constant(value)
    if isinstance(value, (float, np.floating)):
        return ConstantFloat(value)
    if isinstance(value, (int, np.integer)):
        return ConstantInt(value)
    if isinstance(value, np.ndarray):
        return value.view(ConstantArray)
    return Constant(value)


def is_constant(value: Any) -> bool:
    """True for a value marked with :func:`constant`.

    Example:
        >>> import tracegraph as tg
        >>> is_constant(tg.constant(2.0)), is_constant(2.0)
        (True, False)
    """
    return isinstance(value, (Constant, ConstantFloat, ConstantInt, ConstantArray))


def unwrap_constant(value: Any) -> Any:
    """The plain value behind a :func:`constant` marker (other values unchanged).

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> type(unwrap_constant(tg.constant(np.ones(2)))).__name__
        'ndarray'
    """
    if isinstance(value, Constant):
        return value.value
    if isinstance(value, ConstantFloat):
        return float(value)
    if isinstance(value, ConstantInt):
        return int(value)
    if isinstance(value, ConstantArray):
        return value.view(np.ndarray)
    return value


# --------------------------------------------------------------------------- recording


def _foreign(var: Var) -> ForeignTraceError:
    return ForeignTraceError(
        f"the traced value {var.label!r} belongs to a different trace than the other "
        "operand, and values of two traces cannot be combined",
        location=user_location(), node=var.label,
        hint="compute everything inside one tracegraph.trace call (or one Tracer block); "
        "pass values between traces as plain numbers via .value",
    )


def _constant_operand(x: Any) -> Any:
    if type(x) is list or type(x) is tuple:
        return np.asarray(x)
    return x


_OPERAND_TYPES = (numbers.Number, np.ndarray, np.generic, list, tuple)
_FAST_OPERANDS = frozenset({float, int, np.ndarray, np.float64})


def bind_operator(dunder: str, prim: Primitive, *, reflected: bool = False) -> None:
    """Make ``Var.<dunder>`` record ``prim`` (``__add__`` -> add, ``__rsub__`` -> subtract ...).

    The method is generated with the primitive baked in and the recording
    inlined, since these operators dominate the cost of tracing scalar code.
    """
    impl = prim.impl
    skip_zero = dunder == "__radd__"  # builtin sum() starts from the int 0

    # The recording below repeats _new_var inline on purpose: these operators are the
    # bulk of scalar tracing and the call costs ~10% of their time.
    def operator_method(self: Var, other: Any) -> Any:
        tape = self._tape
        if type(other) is Var:
            if other._tape is not tape:
                raise _foreign(other)
            other_value = other.value
        elif type(other) in _FAST_OPERANDS or isinstance(other, _OPERAND_TYPES):
            if skip_zero and type(other) is int and other == 0:
                return self
            other_value = other = _constant_operand(other)
        else:
            return NotImplemented
        if tape.closed:
            tape.check_open()
        if reflected:
            value = impl(other_value, self.value)
            inputs = (other, self)
        else:
            value = impl(self.value, other_value)
            inputs = (self, other)
        nodes = tape.nodes
        var = _var_new(Var)
        var._tape = tape
        var._index = len(nodes)
        var.value = value
        var._prim = prim
        var._inputs = inputs
        var._params = None
        var._name = None
        nodes.append(var)
        return var

    operator_method.__name__ = dunder
    operator_method.__qualname__ = f"Var.{dunder}"
    operator_method.__doc__ = f"Record {prim.name}."
    setattr(Var, dunder, operator_method)



def _unary(prim: Primitive, x: Var) -> Var:
    """Record a one-input, no-params primitive (the ufunc fast path: ``np.tanh(y)``).

    Like the operators, it inlines the scalar call and the recording: with
    ``*`` and ``+`` it is most of the time spent tracing scalar code.
    """
    tape = x._tape
    if tape.closed:
        tape.check_open()
    value = x.value
    scalar_impl = prim.scalar_impl
    if scalar_impl is not None and isinstance(value, float):
        try:
            value = scalar_impl(value)
        except (ValueError, OverflowError, ZeroDivisionError):
            value = prim.impl(np.float64(value))  # numpy's nan/inf, as for arrays
    else:
        value = prim.impl(value)
    nodes = tape.nodes
    var = _var_new(Var)
    var._tape = tape
    var._index = len(nodes)
    var.value = value
    var._prim = prim
    var._inputs = (x,)
    var._params = None
    var._name = None
    nodes.append(var)
    return var


def _ufunc_slow_path(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """Everything but a plain call of a traced ufunc: explain or pass through."""
    name = f"np.{ufunc.__name__}"
    if method != "__call__":
        raise UnsupportedOperationError(
            f"{name}.{method}",
            hint="use the plain function form (np.sum for np.add.reduce) or "
            "register a rule; see docs/extending.md",
        )
    if kwargs.get("out") is not None:
        raise UnsupportedOperationError(
            f"{name}(..., out=...)",
            reason="in-place updates of arrays with traced values are not traced "
            "(this is also what `array += traced` does)",
            hint="write `a = a + x` instead of `a += x`, and drop out=",
        )
    kwargs.pop("out", None)
    if ufunc in ZERO_GRADIENT_UFUNCS:
        return ufunc(*map(value_of, inputs), **kwargs)
    if ufunc not in UFUNC_RULES:
        raise UnsupportedOperationError(name)
    raise UnsupportedOperationError(
        f"{name}(..., {', '.join(f'{k}=' for k in kwargs)})",
        reason="keyword arguments of ufuncs are not traced",
    )


def apply(prim: Primitive, *args: Any, **params: Any) -> Any:
    """Run ``prim`` on ``args``; if any argument is traced, record a node.

    With no traced argument this is just ``prim.impl(*args, **params)``, so
    functions built from primitives work on plain numbers too.

    Example:
        >>> from tracegraph.core import apply, REGISTRY
        >>> float(apply(REGISTRY["sigmoid"], 0.0))
        0.5
    """
    tape = None
    for arg in args:
        if type(arg) is Var:
            if tape is None:
                tape = arg._tape
            elif arg._tape is not tape:
                raise _foreign(arg)
    if tape is None:
        if (len(args) == 1 and type(args[0]) is float and prim.scalar_impl is not None
                and not params):
            return _scalar_call(prim, args[0])
        return prim.impl(*args, **params)
    if tape.closed:
        tape.check_open()
    if len(args) == 1:
        x = args[0].value
        scalar_impl = prim.scalar_impl
        if scalar_impl is not None and isinstance(x, float) and not params:
            value = _scalar_call(prim, x)
        else:
            value = prim.impl(x, **params)
    else:
        args = tuple(_constant_operand(a) if type(a) is not Var else a for a in args)
        value = prim.impl(*[a.value if type(a) is Var else a for a in args], **params)
    return _new_var(tape, prim, args, value, params or None)


def _scalar_call(prim: Primitive, x: float) -> Any:
    """Fast path for Python floats (``math.tanh``), falling back to numpy's
    nan/inf semantics where ``math`` would raise."""
    try:
        return prim.scalar_impl(x)  # type: ignore[misc]
    except (ValueError, OverflowError, ZeroDivisionError):
        return prim.impl(np.float64(x))


# --------------------------------------------------------------------------- helpers for rules


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added, so it has ``shape``.

    This is the only place broadcasting is undone; every VJP relies on it.

    Example:
        >>> import numpy as np
        >>> unbroadcast(np.ones((4, 3)), (3,)).tolist()
        [4.0, 4.0, 4.0]
        >>> unbroadcast(np.ones((4, 3)), (4, 1)).shape
        (4, 1)
    """
    grad_shape = np.shape(grad)
    if grad_shape == shape:
        return grad
    extra = len(grad_shape) - len(shape)
    if extra < 0:
        return broadcast_view(np.reshape(grad, (1,) * -extra + grad_shape), shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad_shape[extra + i] != 1
    )
    if axes:
        grad = np.sum(grad, axis=axes)
    if np.shape(grad) != shape:
        grad = np.reshape(grad, shape)
    return grad


_SMALL_BROADCAST = 1 << 16


def broadcast_view(array: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``array`` broadcast to ``shape``, as cheaply as numpy allows.

    Results are materialised where that is cheap (one broadcast axis, or a
    small array): numpy's arithmetic on zero-stride views costs several times
    more than on contiguous arrays, and the consumers of a broadcast gradient
    (the VJPs downstream) usually multiply it more than once.  Large
    broadcasts along several axes stay read-only views.

    Example:
        >>> import numpy as np
        >>> broadcast_view(np.array([[1.0], [2.0]]), (2, 3)).tolist()
        [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    """
    array = np.asarray(array)
    if array.shape == shape:
        return array
    if array.ndim == len(shape):
        differing = [i for i, (have, want) in enumerate(zip(array.shape, shape)) if have != want]
        if len(differing) == 1 and array.shape[differing[0]] == 1:
            axis = differing[0]
            return np.repeat(array, shape[axis], axis=axis)
    if math.prod(shape) <= _SMALL_BROADCAST:
        out = np.empty(shape, dtype=np.result_type(array, np.float64))
        out[...] = array
        return out
    return np.broadcast_to(array, shape)


def normalize_axis(axis: Any) -> Any:
    """``axis`` as ``None``, an int or a tuple of ints (lists become tuples)."""
    if axis is None or isinstance(axis, int):
        return axis
    if isinstance(axis, (list, tuple)):
        return tuple(int(a) for a in axis)
    return int(axis)


def normalize_index(index: Any) -> Any:
    """An index with traced parts replaced by their values and lists made arrays."""
    if isinstance(index, tuple):
        return tuple(normalize_index(part) for part in index)
    if type(index) is Var:
        return index.value
    if isinstance(index, list):
        return np.asarray(deep_value_of(index))
    return index


class _PrimitiveLookup:
    """Attribute access to registered primitives (``_P.add``), resolved lazily
    because the rules are declared after this module is loaded."""

    def __getattr__(self, attr: str) -> Primitive:
        if attr.startswith("__"):
            raise AttributeError(attr)
        prim = REGISTRY[attr]
        setattr(self, attr, prim)
        return prim


_P = _PrimitiveLookup()
