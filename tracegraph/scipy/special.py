"""``scipy.special`` for traced values: logsumexp, softmax, log_softmax, polygamma.

Every other name is scipy.special's own (``special.erf is scipy.special.erf``):
its ufuncs already trace.  Importing this module declares their rules.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> from tracegraph.scipy import special
    >>> t = tg.trace(lambda a: special.logsumexp(a), a=np.zeros(2))
    >>> round(t.value, 4), t.grads["a"].tolist()
    (0.6931, [0.5, 0.5])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as _scipy_special

from ..core import normalize_axis
from ..errors import UnsupportedOperationError
from ..rules import scipy_special as _rules
from ..rules.arguments import has_traced, plain_contents
from ..rules.neural import LOG_SOFTMAX, LOGSUMEXP, SOFTMAX
from ..rules.reductions import reduced_axes

__all__ = ["logsumexp", "softmax", "log_softmax", "polygamma"]


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:
    """``scipy.special.logsumexp``: log Σ b·exp(a) over ``axis``; derivative b·exp(a − out).

    Weights ``b`` must be positive when traced values are involved.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> t = tg.trace(lambda a: logsumexp(a, b=np.array([1.0, 3.0])), a=np.zeros(2))
        >>> round(t.value, 4), np.round(t.grads["a"], 6).tolist()
        (1.3863, [0.25, 0.75])
    """
    if not has_traced(a, b):
        return _scipy_special.logsumexp(a, axis=axis, b=b, keepdims=keepdims,
                                        return_sign=return_sign)
    if b is not None:
        if np.any(np.asarray(plain_contents(b)) <= 0):
            raise UnsupportedOperationError(
                "scipy.special.logsumexp with weights b ≤ 0",
                reason="a signed sum is not traced", hint="pass positive weights b")
        a = a + np.log(b)
    result = LOGSUMEXP(a, axis=normalize_axis(axis), keepdims=bool(keepdims))
    if return_sign:
        return result, np.ones(np.shape(plain_contents(result)))
    return result


def _over_axes(prim: Any, x: Any, axis: Any) -> Any:
    """A softmax-like primitive over ``axis`` (None: every element; a tuple: those axes)."""
    shape = np.shape(plain_contents(x))
    if axis is not None and isinstance(normalize_axis(axis), int):
        return prim(x, axis=int(axis))
    axes = reduced_axes(len(shape), normalize_axis(axis))
    if not shape:
        return prim(np.reshape(x, (1,)), axis=0)[0]
    order = [k for k in range(len(shape)) if k not in axes] + list(axes)
    moved = np.transpose(x, order)
    flat = np.reshape(moved, np.shape(plain_contents(moved))[: len(shape) - len(axes)] + (-1,))
    result = np.reshape(prim(flat, axis=-1), np.shape(plain_contents(moved)))
    return np.transpose(result, list(np.argsort(order)))


def softmax(x: Any, axis: Any = None) -> Any:
    """``scipy.special.softmax``: exp(x)/Σ exp(x) over ``axis`` (scipy's default: all elements).

    Example:
        >>> import numpy as np
        >>> softmax(np.zeros(4)).tolist()
        [0.25, 0.25, 0.25, 0.25]
    """
    if not has_traced(x):
        return _scipy_special.softmax(x, axis=axis)
    return _over_axes(SOFTMAX, x, axis)


def log_softmax(x: Any, axis: Any = None) -> Any:
    """``scipy.special.log_softmax``: x − logsumexp(x) over ``axis`` (default: all elements).

    Example:
        >>> import numpy as np
        >>> [round(v, 4) for v in log_softmax(np.zeros(2)).tolist()]
        [-0.6931, -0.6931]
    """
    if not has_traced(x):
        return _scipy_special.log_softmax(x, axis=axis)
    return _over_axes(LOG_SOFTMAX, x, axis)


def polygamma(n: Any, x: Any) -> Any:
    """``scipy.special.polygamma``: ψ⁽ⁿ⁾(x), the n-th derivative of digamma; n a plain integer.

    Example:
        >>> import tracegraph as tg
        >>> t = tg.trace(lambda x: polygamma(0, x), x=1.0)
        >>> round(t.value, 6), round(t.grads["x"], 6)    # ψ(1) = −γ, ψ′(1) = π²/6
        (-0.577216, 1.644934)
    """
    _rules.refuse_traced("scipy.special.polygamma", "n", n)
    if not has_traced(x):
        return _scipy_special.polygamma(n, x)
    order = np.asarray(n)
    if order.ndim or order != np.round(order):
        raise UnsupportedOperationError(
            "scipy.special.polygamma with an array of orders n on a traced x",
            hint="call it once per order: polygamma(k, x)")
    return _rules.POLYGAMMA(x, n=int(order))


def __getattr__(name: str) -> Any:
    # Everything else is scipy.special's own (its ufuncs trace by themselves).
    return getattr(_scipy_special, name)
