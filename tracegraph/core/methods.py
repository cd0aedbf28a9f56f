"""What makes a traced value look like an ndarray: shape queries and the array methods.

Each method is the numpy function of the same name called on the value
(``x.sum(axis=1)`` is ``np.sum(x, axis=1)``), so it reaches the derivative
table through numpy's dispatch like any other numpy call, with the same
adapters.  The last group are the methods numpy's loops over object arrays
call (``np.log(np.array([a, b]))`` calls ``a.log()``).

Example:
    >>> import numpy as np, tracegraph as tg
    >>> t = tg.trace(lambda x: x.reshape(2, 2).sum(axis=0).max(), x=np.arange(4.0))
    >>> t.value, t.grads["x"].tolist()
    (4.0, [0.0, 1.0, 0.0, 1.0])
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import UnsupportedOperationError, user_location
from .leaks import leak_error
from .printing import makes_only_text


def _object_loop(ufunc: np.ufunc) -> Callable[..., Any]:
    def method(self: Any, *others: Any) -> Any:
        return ufunc(self, *others)

    method.__name__ = ufunc.__name__
    method.__doc__ = f"np.{ufunc.__name__}(self, ...): what numpy calls on object arrays."
    return method


def _in_place(name: str) -> Callable[[Any, Any], Any]:
    """``Var.__iadd__`` and friends: the operator, and for an array the note that the
    old value is superseded (numpy would have changed it for every name)."""
    def method(self: Any, other: Any) -> Any:
        result = getattr(self, f"__{name}__")(other)
        value = self.value
        tape = self.tape
        if type(result) is not type(self) or result.tape is not tape or \
                (type(value) is not np.ndarray and id(self) not in tape.zero_d_arrays):
            return result  # a number: Python rebinds the name, as numpy's scalars do
        out = result.value
        if np.shape(out) != np.shape(value):  # numpy writes into the array: its shape stays
            raise ValueError(f"non-broadcastable output operand with shape {value.shape} "
                             f"doesn't match the broadcast shape {np.shape(out)}")
        if getattr(out, "dtype", value.dtype) != value.dtype:
            result = result.astype(value.dtype)  # and so does its dtype (float32 += float64)
        where = user_location()
        if type(value) is np.ndarray:
            for shared in tape.sharing(value):  # self, and the views numpy would change too
                tape.superseded.setdefault(id(shared), where)
        tape.superseded.setdefault(id(self), where)
        if not np.ndim(out):  # np.array(2.0) += 1 is still that 0-d array; numpy's
            tape.zero_d_arrays.add(id(result))  # result is a scalar, so remember it
        return result
    method.__name__ = f"__i{name}__"
    method.__doc__ = f"{name} in place: record it, and note that the old array is superseded."
    return method


def _plain(traced: Any) -> Any:
    value = traced.value
    while type(value) is type(traced):
        value = value.value
    return value


def _is_integer(value: Any) -> bool:
    return float(value).is_integer()


def _number(traced: Any) -> float:
    value = _plain(traced)
    if np.ndim(value):
        raise AttributeError("'numpy.ndarray' object has no attribute of a float")
    return float(value)


def in_place_method(name: str, instead: str) -> UnsupportedOperationError:
    """The error for ``x.sort()`` and numpy's other methods that change an array in place.

    Example:
        >>> print(in_place_method("sort", "x = np.sort(x)").message)
        ... # doctest: +NORMALIZE_WHITESPACE
        x.sort() is not supported on traced values: it changes the array in place, and
        traced arrays cannot change
    """
    return UnsupportedOperationError(
        f"x.{name}()", reason="it changes the array in place, and traced arrays cannot change",
        hint=f"compute a new array instead: {instead}")


SEES_TRACED = frozenset({"tracegraph", "numpy", "scipy", "networkx", "graphviz", "copy",
                         "pickle", "dataclasses", "inspect"})
"""Modules whose isinstance checks see a traced value as what it is (not its value's type)."""

_ABC_MODULES = frozenset({"abc", "_py_abc", "typing"})


class ArrayMethods:
    """The ndarray-like surface of :class:`~tracegraph.core.var.Var` (a mixin without state).

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     X = tr.input("X", np.arange(6.0).reshape(2, 3))
        ...     print(X.shape, X.ndim, X.size, len(X), X.T.shape)
        ...     print(repr(X.sum(axis=1)))   # recorded as np.sum(X, axis=1)
        (2, 3) 2 6 2 (3, 2)
        <traced sum#2 = array([ 3., 12.])>
    """

    __slots__ = ()
    value: Any

    def item(self, *args: Any) -> Any:
        """The plain number: only inside a ``print(...)`` statement (text is made), else
        refused, as the number would leave the trace."""
        if makes_only_text(sys._getframe(1)):  # print(loss.item())
            return np.asarray(_plain(self)).item(*args)
        raise leak_error("item", self)

    def tolist(self) -> Any:
        """Plain numbers in lists: only inside a ``print(...)`` statement, as ``item``."""
        if makes_only_text(sys._getframe(1)):
            return np.asarray(_plain(self)).tolist()
        raise leak_error("tolist", self)

    # -- the record: an equation's names --------------------------------------------------
    @property
    def label(self) -> str:
        """The name, or a generated ``op#index`` when unnamed."""
        if self.name is not None:
            return self.name
        return f"{self.op}#{self.index}"

    @property
    def op(self) -> str:
        """The primitive's name (``"input"`` for a leaf)."""
        return self.primitive.name if self.primitive is not None else "input"

    @property
    def scope(self) -> tuple[str, ...]:
        """The scope path this equation was recorded in (``()`` outside any scope)."""
        return self.tape.scope_of(self.index)

    @property
    def line(self) -> int | None:
        """The source line of an expression file this equation comes from, if known."""
        return self.tape.line_of(self.index)

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    # -- array-like introspection ----------------------------------------------------------
    @property
    def __class__(self) -> type:
        # isinstance(x, np.ndarray) and isinstance(w, float) in the user's code answer as
        # for the value the traced one stands for, so the file takes Python's branch;
        # tracegraph's own code and numpy's see the traced value's class.  type(x) is
        # unchanged.
        own = type(self)
        caller = sys._getframe(1)
        while caller.f_back is not None and caller.f_globals.get("__name__") in _ABC_MODULES:
            caller = caller.f_back  # isinstance(x, numbers.Real) asks from abc's own code
        if caller.f_globals.get("__name__", "").partition(".")[0] in SEES_TRACED:
            return own
        value = self.value
        while type(value) is own:  # a nested trace's value
            value = value.value
        return type(value)

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def ndim(self) -> int:
        return np.ndim(self.value)

    @property
    def size(self) -> int:
        return int(np.size(self.value))

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self):
        if np.ndim(self.value) == 0:
            raise TypeError(f"iteration over a scalar traced value {self.label!r}")
        return (self[i] for i in range(len(self.value)))

    # -- ndarray methods: the numpy function of the same name ---------------------------
    @property
    def T(self) -> Any:
        return np.transpose(self)

    def transpose(self, *axes: Any) -> Any:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return np.transpose(self, tuple(axes) if axes else None)

    def reshape(self, *shape: Any, order: str = "C") -> Any:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return np.reshape(self, shape, order=order)

    def ravel(self, order: str = "C") -> Any:
        return np.ravel(self, order=order)

    def flatten(self, order: str = "C") -> Any:
        return np.ravel(self, order=order)

    def squeeze(self, axis: Any = None) -> Any:
        return np.squeeze(self, axis=axis)

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        return np.swapaxes(self, axis1, axis2)

    def sum(self, *args: Any, **kwargs: Any) -> Any:
        return np.sum(self, *args, **kwargs)

    def mean(self, *args: Any, **kwargs: Any) -> Any:
        return np.mean(self, *args, **kwargs)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        return np.max(self, *args, **kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        return np.min(self, *args, **kwargs)

    def prod(self, *args: Any, **kwargs: Any) -> Any:
        return np.prod(self, *args, **kwargs)

    def var(self, *args: Any, **kwargs: Any) -> Any:
        return np.var(self, *args, **kwargs)

    def std(self, *args: Any, **kwargs: Any) -> Any:
        return np.std(self, *args, **kwargs)

    def cumsum(self, *args: Any, **kwargs: Any) -> Any:
        return np.cumsum(self, *args, **kwargs)

    def cumprod(self, *args: Any, **kwargs: Any) -> Any:
        return np.cumprod(self, *args, **kwargs)

    def argmax(self, *args: Any, **kwargs: Any) -> Any:
        return np.argmax(self, *args, **kwargs)

    def argmin(self, *args: Any, **kwargs: Any) -> Any:
        return np.argmin(self, *args, **kwargs)

    def argsort(self, *args: Any, **kwargs: Any) -> Any:
        return np.argsort(self, *args, **kwargs)

    def any(self, *args: Any, **kwargs: Any) -> Any:
        return np.any(self, *args, **kwargs)

    def all(self, *args: Any, **kwargs: Any) -> Any:
        return np.all(self, *args, **kwargs)

    def nonzero(self) -> Any:
        return np.nonzero(self)

    def searchsorted(self, *args: Any, **kwargs: Any) -> Any:
        return np.searchsorted(self, *args, **kwargs)

    def argpartition(self, *args: Any, **kwargs: Any) -> Any:
        return np.argpartition(self, *args, **kwargs)

    def take(self, *args: Any, **kwargs: Any) -> Any:
        return np.take(self, *args, **kwargs)

    def compress(self, *args: Any, **kwargs: Any) -> Any:
        return np.compress(*args[:1], self, *args[1:], **kwargs)

    @property
    def mT(self) -> Any:
        return np.swapaxes(self, -1, -2)

    @property
    def real(self) -> Any:
        return self  # traced values are real

    @property
    def imag(self) -> Any:
        return np.zeros(self.shape)

    @property
    def flat(self) -> Any:
        return np.ravel(self)  # iterating and reading x.flat[i] (assigning is refused)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def copy(self) -> Any:
        """A handle on the same equation: an array of its own for in-place changes (numpy's
        copy), the same node for the record."""
        handle = object.__new__(type(self))
        for slot in type(self).__slots__:
            setattr(handle, slot, getattr(self, slot))
        if type(self.value) is np.ndarray:
            handle.value = self.value.copy()  # memory of its own, as numpy's copy has
            self.tape.note_copy(handle)
        return handle

    __copy__ = copy

    def __deepcopy__(self, memo: dict) -> Any:
        return self.copy()

    # A Python float's own questions.  is_integer answers for the number, with a guard
    # as for a comparison; the exact ratio and hex text give the number back whole
    # (fractions and statistics rebuild it from them), so only a print(...) gets them.
    def is_integer(self) -> bool:
        result = _is_integer(_number(self))  # a float's method: an array has none
        if not self.tape.closed:
            self.tape.guard(_is_integer, (self,), {}, result)
        return result

    def as_integer_ratio(self) -> tuple[int, int]:
        if makes_only_text(sys._getframe(1)):
            return _number(self).as_integer_ratio()
        raise leak_error("as_integer_ratio", self)

    def hex(self) -> str:
        if makes_only_text(sys._getframe(1)):
            return _number(self).hex()
        raise leak_error("hex", self)

    # numpy's in-place methods: a traced array cannot change, so they say what to write
    def sort(self, *args: Any, **kwargs: Any) -> None:
        raise in_place_method("sort", "x = np.sort(x)")

    def partition(self, *args: Any, **kwargs: Any) -> None:
        raise in_place_method("partition", "x = np.partition(x, k)")

    def fill(self, *args: Any, **kwargs: Any) -> None:
        raise in_place_method("fill", "x = np.full_like(x, value)")

    def put(self, *args: Any, **kwargs: Any) -> None:
        raise in_place_method("put", "np.where, or build the array with np.stack")

    def resize(self, *args: Any, **kwargs: Any) -> None:
        raise in_place_method("resize", "x = np.resize(x, shape)")

    def dot(self, other: Any) -> Any:
        return np.dot(self, other)

    def conjugate(self) -> Any:
        # Traced values are real (complex inputs are refused): numpy's object loops call
        # this (np.var([a, b]) does), and it is the identity.
        return self

    conj = conjugate

    def clip(self, *args: Any, **kwargs: Any) -> Any:
        return np.clip(self, *args, **kwargs)

    def round(self, *args: Any, **kwargs: Any) -> Any:
        return np.round(self, *args, **kwargs)

    def trace(self, *args: Any, **kwargs: Any) -> Any:
        return np.trace(self, *args, **kwargs)

    def diagonal(self, *args: Any, **kwargs: Any) -> Any:
        return np.diagonal(self, *args, **kwargs)

    def repeat(self, *args: Any, **kwargs: Any) -> Any:
        return np.repeat(self, *args, **kwargs)

    # -- what numpy's loops over object arrays call (np.log(np.array([a, b])) calls a.log())
    exp = _object_loop(np.exp)
    expm1 = _object_loop(np.expm1)
    exp2 = _object_loop(np.exp2)
    log = _object_loop(np.log)
    log1p = _object_loop(np.log1p)
    log2 = _object_loop(np.log2)
    log10 = _object_loop(np.log10)
    sqrt = _object_loop(np.sqrt)
    cbrt = _object_loop(np.cbrt)
    sin = _object_loop(np.sin)
    cos = _object_loop(np.cos)
    tan = _object_loop(np.tan)
    arcsin = _object_loop(np.arcsin)
    arccos = _object_loop(np.arccos)
    arctan = _object_loop(np.arctan)
    sinh = _object_loop(np.sinh)
    cosh = _object_loop(np.cosh)
    tanh = _object_loop(np.tanh)
    arcsinh = _object_loop(np.arcsinh)
    arccosh = _object_loop(np.arccosh)
    arctanh = _object_loop(np.arctanh)
    arctan2 = _object_loop(np.arctan2)
    hypot = _object_loop(np.hypot)
    logaddexp = _object_loop(np.logaddexp)

    # -- operators in place: numpy changes the array, so the old value is superseded ------
    __iadd__ = _in_place("add")
    __isub__ = _in_place("sub")
    __imul__ = _in_place("mul")
    __itruediv__ = _in_place("truediv")
    __ipow__ = _in_place("pow")
    __imod__ = _in_place("mod")
    __ifloordiv__ = _in_place("floordiv")
    __imatmul__ = _in_place("matmul")
