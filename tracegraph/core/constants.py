"""Constant markers: inputs that are shown in the graph but never differentiated.

Numbers and arrays are marked with value-like subclasses, so a marked value
keeps working in plain Python (``EPS = tracegraph.constant(1e-8)`` at the top
of an expression file also runs with ``python``).

Example:
    >>> import numpy as np
    >>> c = constant(np.ones(2))
    >>> is_constant(c), type(unwrap_constant(c)).__name__
    (True, 'ndarray')
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import TracegraphError, user_location


@dataclass(frozen=True)
class Constant:
    """Marks an object (not a number or array) as a constant input.

    Example:
        >>> marked = constant("labels")
        >>> marked, is_constant(marked), unwrap_constant(marked)
        (Constant(value='labels'), True, 'labels')
    """

    value: Any


class ConstantFloat(float):
    """A float marked as a constant input: behaves exactly like the float.

    Example:
        >>> eps = constant(0.5)
        >>> type(eps).__name__, isinstance(eps, float), eps * 2, type(eps * 2).__name__
        ('ConstantFloat', True, 1.0, 'float')
    """

    __slots__ = ()


class ConstantInt(int):
    """An int marked as a constant input: behaves exactly like the int.

    Example:
        >>> n = constant(3)
        >>> type(n).__name__, list(range(n)), n + 1
        ('ConstantInt', [0, 1, 2], 4)
    """

    __slots__ = ()


class ConstantArray(np.ndarray):
    """An array marked as a constant input: a view that behaves like the array.

    Example:
        >>> import numpy as np
        >>> data = np.array([1.0, 2.0])
        >>> X = constant(data)
        >>> type(X).__name__, float(X.sum()), np.shares_memory(X, data)
        ('ConstantArray', 3.0, True)
    """


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
    if getattr(value, "is_traced_value", False):  # a Var (core.var imports this module)
        raise TracegraphError(
            f"tracegraph.constant() got {value.label!r}, a value of the running trace; it "
            "marks an input as a constant when the trace starts, so it cannot take back a "
            "value that is already traced",
            node=value.label, location=user_location(),
            hint="mark the input itself: tg.trace(f, X=tg.constant(X)), or in an expression "
                 "file X = tg.constant(np.array(...)) where X is first bound")
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
        >>> is_constant(constant(2.0)), is_constant(2.0)
        (True, False)
    """
    return isinstance(value, (Constant, ConstantFloat, ConstantInt, ConstantArray))


def unwrap_constant(value: Any) -> Any:
    """The plain value behind a :func:`constant` marker (other values unchanged).

    Example:
        >>> type(unwrap_constant(constant(2.0))).__name__
        'float'
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


class IntBinding(int):
    """An int bound to a name in an expression file (``n = 5``): a constant, exactly the
    int Python has, until it meets a traced value in arithmetic (``total / n``); from
    then on it stands for an input of the trace, declared by ``declare(binding)``.

    Uses where Python needs an int (``range(n)``, ``x[k]``, ``np.arange(n)``, shapes,
    axes, exponents) never make it an input: they are piecewise constant in ``n``.

    Example:
        >>> n = IntBinding(5, "n", lambda binding: None)
        >>> n + 1, list(range(n))[-1], n.name, n.leaf is None
        (6, 4, 'n', True)
    """

    name: str
    leaf: Any

    def __new__(cls, value: int, name: str, declare: Any, depth: int = 0) -> IntBinding:
        binding = super().__new__(cls, value)
        binding.name = name
        binding.leaf = None
        binding._declare = declare
        binding.depth = depth  # 0: the file's own int; n: computed from it by n operators
        return binding

    def traced(self) -> Any:
        """The input this int stands for in the trace, declared on first use (``None``
        while the declaration is refused: the int is then a constant there)."""
        if self.leaf is None:
            self.leaf = self._declare(self)
        return self.leaf

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # numpy takes a Python int as a weak scalar (np.float32(1.25) * 3 stays float32)
        # only when its type is exactly int: as a subclass the file's int made it float64.
        # Traced values (and other array types) answer for themselves.
        outputs = kwargs.get("out") or ()
        for x in (*inputs, *(outputs if isinstance(outputs, tuple) else (outputs,))):
            if hasattr(type(x), "__array_ufunc__") and \
                    not isinstance(x, (np.ndarray, np.generic, IntBinding)):
                return NotImplemented
        plain = tuple(int(x) if isinstance(x, IntBinding) else x for x in inputs)
        return getattr(ufunc, method)(*plain, **kwargs)

    def __reduce__(self) -> Any:  # copies and pickles are plain ints
        return (int, (int(self),))


MAX_INT_DERIVATION = 32
"""Int arithmetic of a file's ints is followed this many operators deep (``a ** 2 - a % 3``
is 2); beyond it the result is a plain int."""


def _traced_or_int(value: Any) -> Any:
    if type(value) is IntBinding:
        leaf = value.traced()
        return int(value) if leaf is None else leaf
    return value


def _int_arithmetic(op: Callable[..., Any], reflected: bool = False) -> Callable[..., Any]:
    """An IntBinding's operator with ints: Python's int, as an IntBinding computed from
    the file's ints, so ``a ** 2 + x`` differentiates through ``a ** 2`` once it meets a
    traced value (it was a plain 4, and d/da missed that term)."""
    def method(self: IntBinding, *others: Any) -> Any:
        if any(type(o) not in (int, IntBinding) for o in others):
            return NotImplemented  # a float, an array, a traced value: theirs to compute
        operands = (*others, self) if reflected else (self, *others)
        result = op(*(int(o) for o in operands))
        depth = 1 + max(o.depth for o in operands if type(o) is IntBinding)
        if type(result) is not int or depth > MAX_INT_DERIVATION:
            return result  # 2 ** -1; a long chain of int steps is a count, not a formula

        def traced(_: IntBinding) -> Any:
            values = [_traced_or_int(o) for o in operands]
            return op(*values) if any(type(v) is not int for v in values) else None
        return IntBinding(result, self.name, traced, depth)
    method.__name__ = f"__{'r' if reflected else ''}{op.__name__.strip('_')}__"
    return method


for _op in (operator.add, operator.sub, operator.mul, operator.floordiv, operator.mod, pow):
    setattr(IntBinding, f"__{_op.__name__.strip('_')}__", _int_arithmetic(_op))
    setattr(IntBinding, f"__r{_op.__name__.strip('_')}__", _int_arithmetic(_op, True))
for _op in (operator.neg, operator.pos, operator.abs):
    setattr(IntBinding, f"__{_op.__name__.strip('_')}__", _int_arithmetic(_op))
