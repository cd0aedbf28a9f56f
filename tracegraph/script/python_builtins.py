"""Python's ``max`` and ``min`` for expression files: ties share the gradient.

Python's ``max(a, b)`` compares and returns one of its arguments, so a traced
``m = max(a, b)`` with ``a == b`` would send the whole gradient to ``a`` (and to a
plain ``0.0`` in ``max(0.0, x)`` at ``x = 0``, none at all), against the convention
every other way of writing a maximum follows (docs/non-differentiable.md).  In an
expression file, ``max`` and ``min`` of traced numbers are recorded as one ``max``
(or ``min``) node over their arguments instead, with the same value; every other
call (keys, strings, arrays, no traced value, a NaN) is Python's own.

Example:
    >>> import tracegraph as tg
    >>> t = tg.trace(lambda a, b: 3 * traced_max(a, b), a=2.0, b=2.0)
    >>> t.value, t.grads
    (6.0, {'a': 1.5, 'b': 1.5})
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import Var, shape_of

_NOTHING = object()


def _extremum(builtin: Callable[..., Any], reduce: Callable[..., Any]) -> Callable[..., Any]:
    def extremum(*args: Any, key: Any = _NOTHING, default: Any = _NOTHING) -> Any:
        options = {k: v for k, v in (("key", key), ("default", default)) if v is not _NOTHING}
        if len(args) == 1 and key is _NOTHING:
            try:
                items = list(args[0])  # an iterable is read once, so keep what it gave
            except TypeError:
                return builtin(*args, **options)
            if _traced_numbers(items):
                return reduce(np.stack(items))
            return builtin(items, **options)
        if len(args) > 1 and not options and _traced_numbers(args):
            return reduce(np.stack(args))
        return builtin(*args, **options)
    extremum.__name__ = builtin.__name__
    extremum.__qualname__ = builtin.__qualname__
    extremum.__doc__ = builtin.__doc__
    return extremum


def _traced_numbers(items: Any) -> bool:
    """True for two or more numbers, at least one traced and one not a count (ints and
    int inputs stay Python's: ``range(max(n, 1))``), none NaN or bool."""
    if len(items) < 2:
        return False
    traced = fractional = False
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            return False
        if type(item) is Var:
            if shape_of(item.value) != ():
                return False
            traced = True
            value = item.value
            counts = item.index in item.tape.integer_leaves
        elif isinstance(item, (int, np.integer)):
            continue
        elif isinstance(item, (float, np.floating)):
            value, counts = item, False
        else:
            return False
        if math.isnan(value):
            return False  # Python's comparisons skip a NaN, numpy's propagate it
        fractional = fractional or not counts
    return traced and fractional


traced_max = _extremum(builtins.max, np.max)
traced_min = _extremum(builtins.min, np.min)


def file_builtins() -> dict[str, Any]:
    """The builtins an expression file runs with: Python's, with :func:`traced_max` and
    :func:`traced_min` for ``max`` and ``min``.

    Example:
        >>> file_builtins()["max"](1, 3, 2), file_builtins()["len"] is len
        (3, True)
    """
    names = dict(vars(builtins))
    names["max"], names["min"] = traced_max, traced_min
    return names
