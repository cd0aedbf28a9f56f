"""numpy's own arguments, read the way numpy reads them: one place for every adapter.

numpy functions mark "not given" with the private sentinel ``np._NoValue``
(``np.sum(x, keepdims=<no value>)``) and with documented defaults
(``where=True``, ``casting="same_kind"``).  The adapters of the derivative
table accept all of those as "left at the default" and refuse, with a
message naming the function, only values that would change the result in a
way that is not traced.

Example:
    >>> import numpy as np
    >>> given(np._NoValue), given(True, True), given(False, True)
    (False, False, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import deep_value_of, normalize_axis, plain_value
from ..core.var import Var, astype
from ..errors import UnsupportedOperationError

NO_VALUE = getattr(np, "_NoValue", object())
"""numpy's "argument not given" sentinel."""


def plain_contents(x: Any) -> Any:
    """``x`` without any traced value, also inside lists, tuples and object arrays, and
    through every level of tracing (a nested trace's values are themselves traced).

    Example:
        >>> plain_contents([1.0, (2.0,)])
        [1.0, (2.0,)]
    """
    value = deep_value_of(x)
    while has_traced(value):
        value = deep_value_of(value)
    return value


def has_traced(*values: Any) -> bool:
    """True when any value is traced, or a list/tuple/object array holding a traced value.

    Example:
        >>> has_traced(1.0, [2.0, (3.0,)]), has_traced(np.ones(2))
        (False, False)
    """
    pending = list(values)
    while pending:
        value = pending.pop()
        if type(value) is Var:
            return True
        if isinstance(value, (list, tuple)):
            pending.extend(value)
        elif isinstance(value, np.ndarray) and value.dtype == object:
            pending.extend(value.ravel().tolist())
    return False


def given(value: Any, *defaults: Any) -> bool:
    """True when ``value`` is neither numpy's "not given" sentinel nor one of ``defaults``.

    Example:
        >>> given(None, None), given("same_kind", "same_kind"), given(2)
        (False, False, True)
    """
    if value is NO_VALUE:
        return False
    for default in defaults:
        if value is default:
            return False
        if isinstance(default, str) and isinstance(value, str) and value == default:
            return False
    return True


def flag(value: Any) -> bool:
    """A boolean option such as ``keepdims`` (numpy's sentinel counts as False).

    Example:
        >>> flag(np._NoValue), flag(1)
        (False, True)
    """
    return False if value is NO_VALUE else bool(value)


def axis_param(axis: Any) -> Any:
    """``axis`` as None, an int or a tuple of ints.

    Example:
        >>> axis_param(np._NoValue), axis_param([0, -1])
        (None, (0, -1))
    """
    return None if axis is NO_VALUE else normalize_axis(axis)


def where_mask(function: str, where: Any) -> np.ndarray | None:
    """A ``where=`` argument as a plain boolean mask, or None when left at numpy's default.

    Example:
        >>> where_mask("np.sum", True) is None, where_mask("np.sum", [True, False]).tolist()
        (True, [True, False])
    """
    if not given(where, True, None):
        return None
    if type(where) is Var:
        raise UnsupportedOperationError(
            f"{function}(..., where=<traced value>)",
            reason="a mask has no gradient, so it cannot be a traced value",
            hint="build the mask from plain values, or from a comparison (x > 0), which "
            "gives a plain mask")
    mask = np.asarray(where)
    if mask.dtype != bool:
        raise TypeError(f"{function}: where= must be a boolean mask, got dtype {mask.dtype}")
    return mask


def cast_to_dtype(function: str, x: Any, dtype: Any) -> Any:
    """``x`` converted for a ``dtype=`` argument: float dtypes are traced (a cast node),
    others refused because they round away or complexify the gradient.

    Example:
        >>> cast_to_dtype("np.sum", 1.5, None)
        1.5
        >>> try:
        ...     cast_to_dtype("np.sum", 1.5, int)
        ... except UnsupportedOperationError as err:
        ...     print(err.operation)
        np.sum(..., dtype=int64)
    """
    if not given(dtype, None):
        return x
    target = np.dtype(dtype)
    if target.kind != "f":
        what = {"c": "a complex dtype (tracegraph differentiates real values only)",
                "b": "a boolean dtype, which has no gradient"}.get(
            target.kind, "an integer dtype, which rounds the result, so it has no gradient")
        raise UnsupportedOperationError(
            f"{function}(..., dtype={target.name})", reason=f"{what}",
            hint="drop dtype= (or pass a float dtype such as np.float64)")
    if type(x) is not Var:
        return np.asarray(x, dtype=target) if np.ndim(x) else target.type(x)
    if np.result_type(plain_value(x)) == target:
        return x
    return astype(x, dtype=target)


def reject_out(function: str, out: Any) -> None:
    """Refuse ``out=`` (an in-place write the trace cannot see).

    Example:
        >>> reject_out("np.sum", None)
    """
    if given(out, None):
        raise UnsupportedOperationError(
            f"{function}(..., out=)", reason="writing into an existing array is not traced",
            hint="drop out= and use the return value")
