"""Comparing a claimed value with the true one: ``exact``, ``close`` or ``wrong``.

Tolerances follow the precision of the numbers compared: a derivation in
float32 (or float16) is held to that dtype's precision, not float64's.

Example:
    >>> compare(0.2445, 0.244458, rtol=1e-6, atol=1e-9, accept_rounded=True).verdict
    'close'
    >>> compare(1.0, 1.000002, 1e-6, 1e-9, False).verdict
    'wrong'
    >>> compare(1.0, 1.000002, 1e-6, 1e-9, False, precision="float32").verdict
    'close'
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core import Var
from ..verdicts import CLOSE, EXACT, WRONG

_EXACT_ULPS = 4
LOW_PRECISION_ULPS = 128
"""A derivation in float32 or float16 may differ from the true value by this many units
in the last place of its dtype (its rounding errors add up along the chain)."""
LOW_PRECISION_SPREAD_ULPS = 16
"""...and an element by this many units of the array's largest element (an element summed
from large terms carries their rounding), not more: a wrong small element stays wrong."""
_MIN_ROUNDED_DIGITS = 3
_MAX_ROUNDED_DIGITS = 12


def claim_value(value: Any) -> Any:
    """A claim as a float or float ndarray, or ``None`` when it is not a number.

    Example:
        >>> claim_value(2), claim_value("x"), claim_value([1, 2]).tolist()
        (2.0, None, [1.0, 2.0])
    """
    if type(value) is Var:
        value = value.value
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return None
    if array.dtype.kind not in "fiu":
        return None
    array = array.astype(float)
    return float(array) if array.ndim == 0 else array


def precision_of(*values: Any) -> str:
    """The lowest floating-point precision among ``values`` (dtype names, arrays,
    numbers): ``"float64"``, ``"float32"`` or ``"float16"``.

    Example:
        >>> import numpy as np
        >>> precision_of(1.0, np.ones(2, dtype=np.float32), "float64")
        'float32'
    """
    lowest = np.dtype(np.float64)
    for value in values:
        if type(value) is Var:
            value = value.value
        dtype = np.dtype(value) if isinstance(value, str) else getattr(value, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype.itemsize < lowest.itemsize:
            lowest = dtype
    return lowest.name


def _significant_digits(value: float, written: str | None = None) -> int:
    """How many significant digits a number has as written (``"0.2500"`` → 4), or else
    in the shortest repr of ``value`` (``0.2445`` → 4)."""
    text = (written if written is not None else repr(abs(value))).lstrip("+-")
    mantissa = text.lower().split("e")[0]
    digits = mantissa.replace(".", "").replace("_", "").lstrip("0")
    return len(digits if "." in mantissa else digits.rstrip("0"))


def agrees_to_written_digits(claimed: float, expected: float, written: str | None = None
                             ) -> bool:
    """True when a short decimal claim (``0.2445``) is within one unit of its last digit
    of the true value: rounded, truncated, or rounded from rounded numbers by hand.

    ``written`` is the number as the file wrote it (``"0.2500"``: four digits, where the
    float ``0.25`` has two).  A claim needs at least three significant digits.

    Example:
        >>> agrees_to_written_digits(0.2445, 0.244458), agrees_to_written_digits(0.2, 0.24)
        (True, False)
        >>> agrees_to_written_digits(0.25, 0.2499938)            # the float has 2 digits
        False
        >>> agrees_to_written_digits(0.25, 0.2499938, "0.2500")  # as written, 4
        True
    """
    if not (math.isfinite(claimed) and math.isfinite(expected)) or claimed == 0.0:
        return False
    digits = _significant_digits(claimed, written)
    if not _MIN_ROUNDED_DIGITS <= digits <= _MAX_ROUNDED_DIGITS:
        return False
    unit = 10.0 ** (math.floor(math.log10(abs(claimed))) - digits + 1)
    return abs(claimed - expected) <= unit * (1 + 1e-9)


def _written_texts(written: tuple[str, ...] | None, shape: tuple[int, ...]) -> Any:
    """The written text of each element (``None`` where unknown): one text for all, or
    one per element in C order."""
    if not written:
        return None
    if len(written) == 1:
        return np.full(shape, written[0], dtype=object)
    if len(written) == math.prod(shape):
        return np.array(written, dtype=object).reshape(shape)
    return None


@dataclass(frozen=True)
class Comparison:
    """How a claim compares: the verdict and the largest differences.

    Example:
        >>> c = compare([1.0, 2.5], [1.0, 2.0], rtol=1e-6, atol=1e-9, accept_rounded=False)
        >>> c.verdict, c.max_abs_diff, c.max_rel_diff, c.worst_index
        ('wrong', 0.5, 0.25, (1,))
    """

    verdict: str
    max_abs_diff: float
    max_rel_diff: float
    worst_index: tuple[int, ...] | None
    rounded_digits: int | None


def compare(claimed: Any, expected: Any, rtol: float, atol: float, accept_rounded: bool,
            precision: str = "float64", written: tuple[str, ...] | None = None) -> Comparison:
    """Grade ``claimed`` (already in ``expected``'s shape, or broadcastable) against it.

    ``exact`` within 4 units in the last place of ``precision``; ``close``
    within ``atol + rtol·|true|`` - for float32/float16 at least 128 units in the
    last place of that dtype, relative to the element and to the array's
    largest value - or, with ``accept_rounded``, when a number written with 3
    or more significant digits is the true value rounded or truncated.

    Example:
        >>> compare([1.0, 2.0 + 1e-7], [1.0, 2.0], 1e-6, 1e-9, False).verdict
        'close'
        >>> compare(0.2445, 0.244458, 1e-6, 1e-9, accept_rounded=True).rounded_digits
        4
    """
    eps = float(np.finfo(np.dtype(precision)).eps)
    e = np.asarray(expected, dtype=float)
    c = np.broadcast_to(np.asarray(claimed, dtype=float), e.shape)
    both_nan = np.isnan(c) & np.isnan(e)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(both_nan | (c == e), 0.0, np.abs(c - e))
        diff = np.where(np.isnan(diff), np.inf, diff)
        # An infinite difference (inf claimed for 2, 2 for a true inf, -inf for inf) is
        # never within a tolerance, even one that is itself infinite.
        finite_diff = np.isfinite(diff)
        magnitude = np.abs(e)
        rel = np.where(diff == 0.0, 0.0,
                       np.divide(diff, magnitude, out=np.full(e.shape, np.inf),
                                 where=magnitude > 0))
        rel = np.where(finite_diff, rel, np.inf)
        exact = np.asarray(finite_diff & (diff <= _EXACT_ULPS * eps *
                                          np.maximum(np.abs(c), magnitude)))
        if eps > float(np.finfo(float).eps):
            rtol = max(rtol, LOW_PRECISION_ULPS * eps)
            finite = magnitude[np.isfinite(magnitude)]
            atol = max(atol, LOW_PRECISION_SPREAD_ULPS * eps *
                       float(np.max(finite, initial=0.0)))
        tolerance = atol + rtol * magnitude
        close = np.asarray(exact | (finite_diff & (diff <= tolerance)))
        badness = diff / np.where(tolerance > 0, tolerance, 1.0)
    rounded_digits = None
    texts = _written_texts(written, c.shape)
    if accept_rounded and written != () and not close.all():
        for index in np.ndindex(*e.shape):
            if not close[index] and not agrees_to_written_digits(
                    float(c[index]), float(e[index]), None if texts is None else texts[index]):
                break
        else:
            close = np.ones(e.shape, dtype=bool)
            rounded_digits = min(
                _significant_digits(float(c[index]), None if texts is None else texts[index])
                for index in np.ndindex(*e.shape))
    verdict = EXACT if exact.all() else CLOSE if close.all() else WRONG
    worst = None
    if e.ndim:
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(badness)), e.shape))
    return Comparison(verdict, float(diff.max(initial=0.0)), float(rel.max(initial=0.0)),
                      worst, rounded_digits)
