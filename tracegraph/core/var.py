"""Primitives, recording, and :class:`Var`, the traced value.

A :class:`Primitive` is one differentiable operation: a name, an
implementation on plain numbers/arrays, and its derivative rule (one VJP per
input), declared once in the derivative table (:mod:`tracegraph.rules`)
through :func:`tracegraph.defprimitive`.  Calling a primitive on traced
values *records* it: a new :class:`Var` is appended to the tape of its
inputs.  Each ``Var`` is at once the traced value the user computes with and
one equation of the record::

    var.primitive(*var.inputs, **var.params) == var.value

``inputs`` holds other ``Var`` of the same tape (node references) or plain
constants, in argument order.  Record order is a topological order.

Traces nest: a tape created for ``tg.grad`` inside another trace is a child
of it, and a value of the outer trace used inside is *lifted* to a constant
leaf of the inner one, so the inner trace's values and gradients are
themselves traced by the outer one (derivatives of derivatives).

Example:
    >>> import tracegraph as tg
    >>> with tg.Tracer() as tr:
    ...     x = tr.input("x", 2.0)
    ...     y = x * x + 1.0
    >>> y.value, y.primitive.name, [type(i).__name__ for i in y.inputs]
    (5.0, 'add', ['Var', 'float'])
"""

from __future__ import annotations

import numbers
import operator
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import UnsupportedOperationError
from ..formula import Label, symbols_for
from .arrays import ufunc_operands
from .constants import IntBinding
from .index_tricks import asked_by_concatenator, concatenator_piece
from .leaks import (
    array_leak_error,
    complex_error,
    complex_power_error,
    finished_error,
    float_leak,
    foreign_error,
    in_place_error,
    item_assignment_error,
    leak_error,
    scipy_is_converting,
    storing_item,
    unsupported_error,
)
from .methods import ArrayMethods
from .printing import makes_only_text
from .primitive import PrimitiveRule
from .registry import (
    FUNCTION_ROUTES,
    PASS_THROUGH,
    STATIC,
    UFUNC_ROUTES,
    load_rules_for,
    numpy_name,
)

_OBJECT = np.dtype(object)

# --------------------------------------------------------------------------- primitives


class Primitive(PrimitiveRule):
    """One differentiable operation (see :class:`~tracegraph.core.primitive.PrimitiveRule`);
    calling it on traced values records an equation, on plain values computes ``impl``.

    Example:
        >>> import tracegraph as tg
        >>> float(tg.primitives()[0](1.0, 2.0))
        3.0
    """

    __slots__ = ()

    def __call__(self, *args: Any, **params: Any) -> Any:
        return apply(self, *args, **params)


# --------------------------------------------------------------------------- recording


_new = object.__new__
_OPERAND_TYPES = (numbers.Number, np.ndarray, np.generic, list, tuple)


def record_equation(tape: Any, prim: Primitive | None, inputs: tuple, value: Any,
                    params: dict | None) -> Var:
    """Append the equation ``prim(*inputs, **params) = value`` to ``tape``; returns its Var.

    Example:
        >>> from tracegraph.core import REGISTRY, Tape
        >>> tape = Tape(); x = record_equation(tape, None, (), 2.0, None)   # a leaf
        >>> y = record_equation(tape, REGISTRY["square"], (x,), 4.0, None)
        >>> y, y.index, y.inputs[0] is x, len(tape.equations)
        (<traced square#1 = 4.0>, 1, True, 2)
    """
    if tape.superseded:
        for x in inputs:
            if type(x) is Var and id(x) in tape.superseded and x.tape is tape:
                raise in_place_error(tape, x)
    equations = tape.equations
    index = len(equations)
    if not index & 0xFFF and index:  # looked at once per 4,096
        tape.grown(index)
    var = _new(Var)
    var.tape = tape
    var.index = index
    var.value = value
    var.primitive = prim
    var.inputs = inputs
    var.params = params
    var.name = None
    equations.append(var)
    return var


def _common_tape(args: tuple) -> Any:
    """The tape an operation on ``args`` records on: the innermost of their tapes.

    Lists, tuples and object arrays holding traced values count too (they are
    packed into one node).  ``None`` when nothing is traced.
    """
    tape = None
    for arg in args:
        kind = type(arg)
        if kind is Var:
            tape = arg.tape if tape is None else _innermost(tape, arg.tape, arg)
        elif kind is list or kind is tuple or (kind is np.ndarray and arg.dtype is _OBJECT):
            for item in _traced_items(arg):
                tape = item.tape if tape is None else _innermost(tape, item.tape, item)
    return tape


def _traced_items(container: Any) -> list[Var]:
    items = np.asarray(container, dtype=object).ravel() if type(container) is np.ndarray \
        else _flatten(container)
    return [item for item in items if type(item) is Var]


def _flatten(items: Any) -> list[Any]:
    flat: list[Any] = []
    pending = [items]
    while pending:
        current = pending.pop()
        if type(current) in (list, tuple):
            pending.extend(reversed(current))
        else:
            flat.append(current)
    return flat


def _innermost(tape: Any, other: Any, var: Var) -> Any:
    if other is tape:
        return tape
    if other.encloses(tape):
        return tape
    if tape.encloses(other):
        return other
    raise foreign_error(var)


def _operand(arg: Any, tape: Any) -> Any:
    """An argument as an equation input: a Var of ``tape`` or a plain constant."""
    kind = type(arg)
    if kind is Var:
        return arg if arg.tape is tape else tape.lift(arg)
    if kind is IntBinding:
        return _int_operand(arg, tape)
    if kind is complex or isinstance(arg, (complex, np.complexfloating)) or (
            kind is np.ndarray and arg.dtype.kind == "c"):
        raise complex_error(arg)
    if kind is list or kind is tuple:
        if _traced_items(arg):
            return pack_values(arg, tape)
        return np.asarray(arg)
    if kind is np.ndarray and arg.dtype is _OBJECT and _traced_items(arg):
        return pack_values(arg, tape)
    return arg


def _int_operand(binding: IntBinding, tape: Any) -> Any:
    """A file's int meeting a traced value: the input it stands for (see
    :class:`~tracegraph.core.constants.IntBinding`), lifted into a nested trace."""
    leaf = binding.traced()
    if type(leaf) is not Var:
        return int(binding)
    if leaf.tape is tape:
        return leaf
    return tape.lift(leaf) if leaf.tape.encloses(tape) else int(binding)


def pack_values(container: Any, tape: Any) -> Var:
    """Record a nested list/tuple/object array of traced values as one ``pack`` node.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda a, b: np.sum(np.array([a, b, 1.0]) ** 2), a=1.0, b=2.0)
        >>> t.value, t.grads
        (6.0, {'a': 2.0, 'b': 4.0})
    """
    array = np.empty(0, dtype=object)
    if type(container) is np.ndarray:
        array = container
    else:
        array = np.empty(_list_shape(container), dtype=object)
        for index, item in zip(np.ndindex(array.shape), _flatten(container)):
            array[index] = item
    elements = [_operand(item, tape) for item in array.ravel()]
    return apply(pack, *elements, shape=array.shape)


def _list_shape(container: Any) -> tuple[int, ...]:
    shape = []
    current = container
    while type(current) in (list, tuple):
        shape.append(len(current))
        if not current:
            break
        current = current[0]
    return tuple(shape)


def _forward(prim: Primitive, values: list[Any], params: dict) -> Any:
    """The output value: ``impl`` on plain values; on values that are themselves
    traced (a nested trace) the primitive is recorded on their trace instead."""
    impl = prim.impl
    if impl is None:
        raise UnsupportedOperationError(prim.name, reason="its derivative rule is not declared")
    for value in values:
        if type(value) is Var:
            return apply(prim, *values, **params)
    return impl(*values, **params)


def apply(prim: Primitive, *args: Any, **params: Any) -> Any:
    """Run ``prim`` on ``args``; if any argument is traced, record an equation.

    With no traced argument this is just ``prim.impl(*args, **params)``, so
    functions built from primitives work on plain numbers too.

    Example:
        >>> from tracegraph.core import REGISTRY
        >>> float(apply(REGISTRY["sigmoid"], 0.0))
        0.5
    """
    # The common case first, in one pass: Vars of one tape holding plain values, and
    # plain real numbers or arrays.  Anything else (lists, object arrays, complex
    # constants, values of other tapes, nested values) takes the general path.
    tape = None
    values = []
    for arg in args:
        kind = type(arg)
        if kind is Var:
            if tape is None:
                tape = arg.tape
            elif arg.tape is not tape:
                break
            value = arg.value
            if type(value) is Var:
                break
            values.append(value)
        elif kind is float or kind is int or kind is np.float64 or kind is bool or \
                arg is None or (kind is np.ndarray and arg.dtype.kind in "fiub"):
            values.append(arg)
        else:
            break
    else:
        if tape is None:
            return _forward(prim, values, params)
        if tape.closed:
            raise finished_error()
        impl = prim.impl
        if impl is None:
            return _forward(prim, values, params)  # raises: the rule is not declared
        frozen = tape.frozen_params(params)  # first: it refuses a traced parameter
        return record_equation(tape, prim, tape.frozen_all(args), impl(*values, **params),
                               frozen)
    return _apply_general(prim, args, params)


def _apply_general(prim: Primitive, args: tuple, params: dict) -> Any:
    tape = _common_tape(args)
    if tape is None:
        return _forward(prim, list(args), params)
    if tape.closed:
        raise finished_error()
    if prim is power and len(args) == 2 and type(args[1]) is IntBinding:
        args = (args[0], int(args[1]))  # x ** n: an int exponent stays a constant
    frozen = tape.frozen_params(params)
    inputs = tape.frozen_all(tuple(_operand(a, tape) for a in args))
    values = [x.value if type(x) is Var else x for x in inputs]
    return record_equation(tape, prim, inputs, _forward(prim, values, params), frozen)


def _binary_operator(prim: Primitive, *, reflected: bool = False,
                     python: Callable[[Any, Any], Any] | None = None
                     ) -> Callable[[Var, Any], Any]:
    """``Var.__add__`` and friends: record ``prim`` with the recording inlined.

    These operators are the bulk of scalar tracing; the inlined fast path
    handles a Var of the same open tape or a plain number/array, everything
    else (other tapes, lists, object arrays) goes through :func:`apply`.
    ``impl`` must dispatch on traced values (Python operators and ufuncs do),
    so nested traces record at their own level.  ``python`` is the operator as Python
    applies it to two Python numbers (``x ** 0.5`` of a negative float is complex, ``x %
    0.0`` raises), where the rule's ``impl`` follows numpy.
    """
    skip_zero = reflected and prim.name == "add"  # builtin sum() starts from the int 0

    def method(self: Var, other: Any) -> Any:
        tape = self.tape
        kind = type(other)
        if kind is Var:
            if other.tape is not tape:
                return apply(prim, other, self) if reflected else apply(prim, self, other)
            other_value = other.value
        elif kind in _SCALAR_NUMBERS or (kind is np.ndarray and other.dtype.kind in "fiub") \
                or (kind is IntBinding and prim is power and not reflected):
            if skip_zero and kind is int and other == 0:
                return self
            # x ** n: the file's int n stays a constant, and the scalar operator computes it
            other = other_value = int(other) if kind is IntBinding else other
            if kind is np.ndarray:
                other = tape.frozen(other)  # the user may change their array later
        elif isinstance(other, _OPERAND_TYPES):
            return apply(prim, other, self) if reflected else apply(prim, self, other)
        else:
            return NotImplemented
        if tape.closed:
            raise finished_error()
        impl = prim.impl
        left, right = (other_value, self.value) if reflected else (self.value, other_value)
        if python is not None and type(left) in _SCALAR_NUMBERS and \
                type(right) in _SCALAR_NUMBERS:
            # Python's number, and Python's errors; on numpy scalars, numpy's scalar
            # operator: np.float64(b) ** 2 is C's pow, np.power(b, 2) squares (an ulp apart)
            value = python(left, right)
            if type(value) is complex:
                raise complex_power_error(left, right)
        else:
            value = impl(left, right)
        return record_equation(tape, prim, (other, self) if reflected else (self, other),
                               value, None)

    method.__name__ = f"__r{prim.name}__" if reflected else f"__{prim.name}__"
    method.__doc__ = f"Record {prim.name}."
    return method


_SCALAR_NUMBERS = frozenset({float, int, np.float64, np.float32, np.float16, np.int64, np.int32})
FILE_MODULE = "__tracegraph__"  # an expression file's __name__ while it is traced


def _unary_call(prim: Primitive, x: Var) -> Var:
    """``np.tanh(y)`` on a traced value: the ufunc fast path, recording inlined."""
    tape = x.tape
    if tape.closed:
        raise finished_error()
    value = x.value
    # numpy's own function even on a Python float: math.tanh can differ in the last bit
    value = apply(prim, value) if type(value) is Var else prim.impl(value)
    return record_equation(tape, prim, (x,), value, None)


def guarded(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """Run a gradient-free function (comparison, argmax ...) on plain values and
    record a guard, so a replay of the trace knows when the result would change.

    Example:
        >>> import math
        >>> from tracegraph.core import Tape
        >>> tape = Tape(); x = tape.leaf("x", 2.7)
        >>> guarded(math.floor, (x,), {}), len(tape.guards)
        (2, 1)
    """
    result = func(*deep_value_of(args), **deep_value_of(kwargs))
    if func in STATIC:
        return result
    tape = _common_tape(tuple(args) + tuple(kwargs.values()))
    if tape is not None and not tape.closed:
        tape.guard(func, args, kwargs, result)
    return result


def _ufunc_slow_path(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """A ufunc call with keywords, a ufunc method (``reduce`` ...) or an unrouted ufunc."""
    name = numpy_name(ufunc)
    if method != "__call__":
        handler = FUNCTION_ROUTES.get((ufunc, method))
        if handler is not None:
            return handler(*inputs, **kwargs)
        raise UnsupportedOperationError(
            f"{name}.{method}",
            hint="use the plain function form (np.sum for np.add.reduce) or "
            "register a rule; see docs/extending.md")
    if kwargs.get("out") is not None:
        raise UnsupportedOperationError(
            f"{name}(..., out=...)",
            reason="in-place updates of arrays with traced values are not traced "
            "(this is also what `array += traced` does)",
            hint="write `a = a + x` instead of `a += x`, and drop out=")
    given = {k: v for k, v in kwargs.items() if not _is_ufunc_default(k, v)}
    if ufunc in PASS_THROUGH:
        return guarded(ufunc, inputs, given)
    handler = FUNCTION_ROUTES.get(ufunc)
    if handler is not None:
        return handler(*inputs, **given)
    prim = UFUNC_ROUTES.get(ufunc)
    if prim is None:
        if load_rules_for(ufunc):  # scipy.special's rules are declared when first needed
            return ufunc(*inputs, **kwargs)
        raise unsupported_error(name)
    if not given:
        return apply(prim, *inputs)
    raise UnsupportedOperationError(
        f"{name}(..., {', '.join(f'{k}=' for k in given)})",
        reason="these keyword arguments of ufuncs are not traced")


_UFUNC_DEFAULTS = {"out": None, "where": True, "casting": "same_kind", "order": "K",
                   "dtype": None, "subok": True, "signature": None}


def _is_ufunc_default(key: str, value: Any) -> bool:
    if key not in _UFUNC_DEFAULTS:
        return False
    default = _UFUNC_DEFAULTS[key]
    if key == "where":
        return value is True
    if key == "dtype" and value is not None:
        return False
    return value is default or value == default


# --------------------------------------------------------------------------- helpers


def value_of(x: Any) -> Any:
    """The plain value of ``x``: ``x.value`` for a traced value, ``x`` itself otherwise.

    Example:
        >>> import tracegraph as tg
        >>> tg.value_of(3.0)
        3.0
    """
    return x.value if type(x) is Var else x


def deep_value_of(x: Any) -> Any:
    """:func:`value_of` through lists, tuples and dicts.

    Example:
        >>> deep_value_of([1.0, (2.0,)])
        [1.0, (2.0,)]
    """
    kind = type(x)
    if kind is Var:
        return x.value
    if kind is list or kind is tuple:
        return kind(deep_value_of(item) for item in x)
    if kind is dict:
        return {key: deep_value_of(item) for key, item in x.items()}
    if kind is np.ndarray and x.dtype is _OBJECT:
        return np.array([deep_value_of(item) for item in x.ravel()]).reshape(x.shape)
    return x


def plain_value(x: Any) -> Any:
    """``x`` with every level of tracing removed (nested traces hold traced values).

    Example:
        >>> plain_value(2.0)
        2.0
    """
    while type(x) is Var:
        x = x.value
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
        if value.name is None or (replace and value.primitive is not None):
            value.name = label
    return value


def _short_text(x: Any) -> str:
    if type(x) is Var:
        return x.label
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        return f"{float(x):g}"
    shape = np.shape(x) if isinstance(x, np.ndarray) else None
    return f"array{list(shape)}" if shape is not None else type(x).__name__


def _index_part(part: Any) -> Any:
    kind = type(part)
    if kind is Var or kind is IntBinding:
        return operator.index(part)
    if kind is tuple:
        return tuple(_index_part(p) for p in part)
    if kind is list:
        return np.asarray(deep_value_of(part))
    return part


# --------------------------------------------------------------------------- operator primitives

# The primitives the traced value's own operators record.  Their rules are declared in
# the derivative table (tracegraph.rules) like every other primitive; they are created
# here because Var's methods refer to them.
add = Primitive("add")
subtract = Primitive("subtract")
multiply = Primitive("multiply")
divide = Primitive("divide")
power = Primitive("power")
mod = Primitive("mod")
floor_divide = Primitive("floor_divide")
negative = Primitive("negative")
absolute = Primitive("absolute")
matmul = Primitive("matmul")
getitem = Primitive("getitem")
pack = Primitive("pack")
astype = Primitive("astype")


# --------------------------------------------------------------------------- the traced value


class Var(ArrayMethods):
    """A traced value, and one equation of the record.

    It behaves like the number or array it holds and records every operation
    applied to it on its trace's tape.  You normally never construct one:
    :func:`tracegraph.trace` passes them to your function.

    As an equation (read-only): ``value``, ``primitive`` (``None`` for an
    input or lifted constant), ``inputs`` (Vars of the same tape or plain
    constants), ``params`` (``None`` or a dict), ``name`` (``None`` until
    named), ``index`` (position on the tape), ``tape``; ``scope`` and
    ``line`` ask the tape.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> def f(x):
        ...     assert isinstance(x, tg.Var)
        ...     return np.sin(x) * x
        >>> round(tg.trace(f, x=1.0).value, 4)
        0.8415
    """

    __slots__ = ("tape", "index", "value", "primitive", "inputs", "params", "name")
    is_traced_value = True  # what modules below this one (constants) can ask
    __array_priority__ = 1000

    # -- the record (label, op, scope and line are ArrayMethods') -----------------------
    def expression(self) -> str:
        """What this node computes, in terms of its inputs' labels (``"x − 2"``).

        Example:
            >>> import tracegraph as tg
            >>> with tg.Tracer() as tr:
            ...     x = tr.input("x", 3.0)
            ...     (x - 2.0).expression()
            'x − 2'
        """
        if self.primitive is None:
            return self.label
        labels = [Label(_short_text(x)) for x in self.inputs]
        try:
            return symbols_for(self, labels, Label(self.label)).render(self.primitive.display)
        except (KeyError, IndexError, ValueError, TypeError):
            return self.label

    @property
    def dtype(self) -> np.dtype:
        value = plain_value(self.value)
        if type(value) is float or isinstance(value, np.generic):
            # Like the Python number it stands for: numpy code that meets a traced number
            # (np.mean([a, b]) sums objects) then treats it as one, instead of converting
            # it with ret.dtype.type(ret), which would drop it from the trace.
            raise AttributeError("a traced number has no dtype")
        return np.result_type(value)

    def __repr__(self) -> str:
        if sys._getframe(1).f_globals.get("__name__") == FILE_MODULE:
            return repr(plain_value(self.value))  # the file's print([y]) shows Python's
        return f"<traced {self.label} = {self.value!r}>"

    # -- conversions: refused where they would drop the trace --------------------------
    def __bool__(self) -> bool:
        return guarded(bool, (self,), {})

    def __float__(self) -> float:
        if makes_only_text(sys._getframe(1)):  # print(float(y)), "%.3f" % y
            return float(plain_value(self.value))
        raise float_leak(self)

    def __complex__(self) -> complex:
        raise leak_error("complex", self)

    def __int__(self) -> int:
        if self.tape.is_integer_input(self):
            return guarded(_as_int, (self,), {})
        if makes_only_text(sys._getframe(1)):  # print(int(w)), "%d" % w
            return int(plain_value(self.value))
        raise leak_error("int", self)

    def __index__(self) -> int:
        if self.tape.is_integer_input(self):
            return guarded(_as_int, (self,), {})
        raise leak_error("index", self)

    def __round__(self, ndigits: int | None = None) -> Any:
        # Python's (or numpy's) own rounding of the number: a step, so slope 0, with a
        # guard for replays; an array rounds by the traced np.round
        if np.ndim(plain_value(self.value)):
            return np.round(self, ndigits or 0)
        return guarded(round, (self,) if ndigits is None else (self, ndigits), {})

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # np.array([a, b]) asks each element for an array: a traced number becomes an
        # object element, and the object array is packed into one node when it meets
        # a traced operation.  Any other conversion would drop the trace.  scipy converts
        # its arguments and later casts them to float, where numpy would replace the
        # error with "setting an array element with a sequence": refuse at once there.
        if storing_item(sys._getframe(1)):
            raise item_assignment_error(self)  # v[i] = traced, v a plain array
        if asked_by_concatenator() and dtype is None:
            return concatenator_piece(self, plain_value(self.value))
        if (dtype is None or np.dtype(dtype) is _OBJECT) and np.ndim(self.value) == 0 \
                and not scipy_is_converting():
            holder = np.empty((), dtype=object)
            holder[()] = self
            return holder
        raise array_leak_error(self, dtype)

    def __setitem__(self, key: Any, value: Any) -> None:
        raise UnsupportedOperationError(
            "item assignment (x[i] = v)",
            reason="traced arrays are immutable",
            hint="build a new array instead: np.where(mask, new, x), np.concatenate or np.stack",
            node=self.label)

    # -- operators: one primitive each --------------------------------------------------
    __add__ = _binary_operator(add)
    __radd__ = _binary_operator(add, reflected=True)
    __sub__ = _binary_operator(subtract)
    __rsub__ = _binary_operator(subtract, reflected=True)
    __mul__ = _binary_operator(multiply)
    __rmul__ = _binary_operator(multiply, reflected=True)
    __truediv__ = _binary_operator(divide)
    __rtruediv__ = _binary_operator(divide, reflected=True)
    __pow__ = _binary_operator(power, python=operator.pow)
    __rpow__ = _binary_operator(power, reflected=True, python=operator.pow)
    __mod__ = _binary_operator(mod, python=operator.mod)
    __rmod__ = _binary_operator(mod, reflected=True, python=operator.mod)
    __floordiv__ = _binary_operator(floor_divide, python=operator.floordiv)
    __rfloordiv__ = _binary_operator(floor_divide, reflected=True, python=operator.floordiv)

    def __divmod__(self, other: Any) -> tuple[Any, Any]:
        return self // other, self % other

    def __rdivmod__(self, other: Any) -> tuple[Any, Any]:
        return other // self, other % self

    def __matmul__(self, other: Any) -> Any:
        return apply(matmul, self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return apply(matmul, other, self)

    def __neg__(self) -> Any:
        return apply(negative, self)

    def __pos__(self) -> Var:
        return self

    def __abs__(self) -> Any:
        if type(self.value) is float:  # Python's abs gives a float, as numpy's would not
            self.tape.check_open()
            return record_equation(self.tape, absolute, (self,), abs(self.value), None)
        return apply(absolute, self)

    def __getitem__(self, index: Any) -> Any:
        return apply(getitem, self, index=_index_part(index))

    # Comparisons give plain results: they are piecewise constant, so cutting the trace
    # there is exact (their derivative is zero wherever it exists); a guard remembers them.
    def __lt__(self, other: Any) -> Any:
        return guarded(operator.lt, (self, other), {})

    def __le__(self, other: Any) -> Any:
        return guarded(operator.le, (self, other), {})

    def __gt__(self, other: Any) -> Any:
        return guarded(operator.gt, (self, other), {})

    def __ge__(self, other: Any) -> Any:
        return guarded(operator.ge, (self, other), {})

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return guarded(operator.eq, (self, other), {})

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return guarded(operator.ne, (self, other), {})

    def __hash__(self) -> int:
        # a number hashes as its value (a dict key, a set); an array is unhashable
        value = plain_value(self.value)
        if np.ndim(value):
            raise TypeError("unhashable type: 'numpy.ndarray'")
        return hash(value)


    def astype(self, dtype: Any, order: str = "K", casting: str = "unsafe", subok: bool = True,
               copy: bool = True) -> Any:
        if astype.defined:
            return apply(astype, self, dtype=np.dtype(dtype))
        if np.dtype(dtype) == np.result_type(plain_value(self.value)):
            return self if not copy else self.copy()
        raise UnsupportedOperationError(
            f"astype({np.dtype(dtype).name})",
            reason="changing the dtype of a traced value is not traced", node=self.label)

    # -- numpy protocols ------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__" and not kwargs:
            prim = UFUNC_ROUTES.get(ufunc)
            if prim is not None:
                if len(inputs) == 1:
                    return _unary_call(prim, inputs[0])
                return apply(prim, *ufunc_operands(inputs, Var))
        return _ufunc_slow_path(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Callable, types: Any, args: tuple, kwargs: dict) -> Any:
        handler = FUNCTION_ROUTES.get(func)
        if handler is not None:
            return handler(*args, **kwargs)
        if func in PASS_THROUGH:
            return guarded(func, args, kwargs)
        raise unsupported_error(numpy_name(func))


def _as_int(x: Any) -> int:
    return int(plain_value(x))
