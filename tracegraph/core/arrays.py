"""Shape helpers shared by the derivative rules and the backward pass.

They work on plain numbers and arrays and, because they only call numpy
functions that dispatch, on traced values too (the backward pass of a
nested trace is itself traced).  ``unbroadcast`` lives here and nowhere else.

Example:
    >>> import numpy as np
    >>> unbroadcast(np.ones((4, 3)), (3,)).tolist()
    [4.0, 4.0, 4.0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_SMALL_BROADCAST = 1 << 16


def is_plain(value: Any) -> bool:
    """True for a plain number or ndarray (not a traced value).

    Example:
        >>> is_plain(1.0), is_plain(np.zeros(2))
        (True, True)
    """
    kind = type(value)
    return kind is float or kind is int or kind is np.ndarray or isinstance(
        value, (np.generic, int, float, complex, np.ndarray))


def shape_of(value: Any) -> tuple[int, ...]:
    """``np.shape`` without its overhead for the common float/ndarray cases.

    Example:
        >>> shape_of(1.0), shape_of(np.zeros((2, 3)))
        ((), (2, 3))
    """
    kind = type(value)
    if kind is float or kind is np.float64 or kind is int:
        return ()
    if kind is np.ndarray:
        return value.shape
    return np.shape(value)


def read_only_copy(array: np.ndarray) -> np.ndarray:
    """``array``'s contents as they are now, in an array nobody can change: ``array``
    itself when it already is one (read-only, owning its data), else a read-only copy.

    Example:
        >>> a = np.ones(2); kept = read_only_copy(a); a[0] = 5.0
        >>> kept.tolist(), kept.flags.writeable, read_only_copy(kept) is kept
        ([1.0, 1.0], False, True)
    """
    if array.base is None and not array.flags.writeable:
        return array
    kept = array.copy()
    kept.flags.writeable = False
    return kept


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added, so it has ``shape``.

    This is the only place broadcasting is undone; every VJP relies on it.

    Example:
        >>> unbroadcast(np.ones((4, 3)), (4, 1)).shape
        (4, 1)
    """
    grad_shape = shape_of(grad)
    if grad_shape == shape:
        return grad
    extra = len(grad_shape) - len(shape)
    # Only a broadcast is undone: a (3, 2) gradient for a (2, 3) input would reshape
    # without complaint, silently scrambling which element gets which number.
    if not _broadcasts_to(shape, grad_shape) and not _broadcasts_to(grad_shape, shape):
        raise ValueError(f"a gradient of shape {grad_shape} does not fit shape {shape}")
    if extra < 0:
        return broadcast_view(np.reshape(grad, (1,) * -extra + grad_shape), shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad_shape[extra + i] != 1)
    if axes:
        grad = np.sum(grad, axis=axes)
    if shape_of(grad) != shape:
        grad = np.reshape(grad, shape)
    return grad


def _broadcasts_to(small: tuple[int, ...], big: tuple[int, ...]) -> bool:
    if len(small) > len(big):
        return False
    return all(n == 1 or n == m for n, m in zip(small[::-1], big[::-1]))


def broadcast_view(array: Any, shape: tuple[int, ...]) -> Any:
    """``array`` broadcast to ``shape``, as cheaply as numpy allows.

    Results are materialised where that is cheap (one broadcast axis, or a
    small array): numpy's arithmetic on zero-stride views costs several times
    more than on contiguous arrays, and the VJPs downstream usually multiply
    a broadcast gradient more than once.  Large broadcasts along several axes
    stay read-only views.  A traced value is broadcast with ``np.broadcast_to``.

    Example:
        >>> broadcast_view(np.array([[1.0], [2.0]]), (2, 3)).tolist()
        [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    """
    if not is_plain(array):
        return array if shape_of(array) == shape else np.broadcast_to(array, shape)
    array = np.asarray(array)
    if array.shape == shape:
        return array
    if array.ndim == len(shape):
        differing = [i for i, (have, want) in enumerate(zip(array.shape, shape)) if have != want]
        if len(differing) == 1 and array.shape[differing[0]] == 1:
            axis = differing[0]
            return array.repeat(shape[axis], axis=axis)
    if math.prod(shape) <= _SMALL_BROADCAST:
        out = np.empty(shape, dtype=np.result_type(array, np.float64))
        out[...] = array
        return out
    return np.broadcast_to(array, shape)


def normalize_axis(axis: Any) -> Any:
    """``axis`` as ``None``, an int or a tuple of ints (lists become tuples).

    Example:
        >>> normalize_axis([0, 1]), normalize_axis(np.int64(1))
        ((0, 1), 1)
    """
    if axis is None or type(axis) is int:
        return axis
    if isinstance(axis, (list, tuple)):
        return tuple(int(a) for a in axis)
    return int(axis)


def as_python_scalar(value: Any) -> Any:
    """A real 0-d value (np.float64, 0-d array, int) as a Python float; others unchanged.

    Example:
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


def ufunc_operands(inputs: tuple, traced: type) -> tuple:
    """The operands of a numpy ufunc call (``np.divide(w, 0.0)``) as numpy sees them: when
    every ``traced`` operand holds a Python float, the plain Python numbers become
    ``np.float64``, so the rule computes with numpy's scalars as ``python FILE`` does (inf
    for a division by zero, a ``np.float64`` result) rather than with Python's floats
    (a ZeroDivisionError, a float), which the operators ``w / 0.0`` keep.

    Example:
        >>> class Box:
        ...     def __init__(self, value): self.value = value
        >>> [type(x).__name__ for x in ufunc_operands((Box(2.0), 0.0, 3), Box)]
        ['Box', 'float64', 'float64']
        >>> [type(x).__name__ for x in ufunc_operands((Box(np.float32(2)), 0.0), Box)]
        ['Box', 'float']
    """
    if not all(type(x.value) is float for x in inputs if type(x) is traced):
        return inputs
    return tuple(np.float64(x) if type(x) in (float, int) else x for x in inputs)
