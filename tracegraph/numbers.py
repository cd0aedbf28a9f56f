"""Numbers as text: the one place tracegraph decides how a value is written.

Tables, diagrams, claim reports and formulas all format numbers through
these functions, so ``0.2445`` reads the same in ``tracegraph explain``, on a
diagram's edge and in a check report.

Example:
    >>> format_number(0.19661193), format_number(2.0), format_number(-1.5e-9)
    ('0.1966', '2', '-1.5e-09')
    >>> pretty_number(-1.5e-9, 3), value_summary(np.arange(6.0))
    ('−1.5e−09', '6-vector, ‖·‖ = 7.416')
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

DEFAULT_PRECISION = 4
"""Significant digits used when nobody asks for another number."""

SMALL_ARRAY = 4
"""Arrays with at most this many elements are written out in full in summaries."""


def format_number(value: Any, precision: int = DEFAULT_PRECISION) -> str:
    """A scalar as short ASCII text: ``0.1966``, ``2``, ``1.2e-08``, ``nan``, ``inf``.

    Whole numbers below 1e15 are written without a decimal point.

    Example:
        >>> format_number(0.19661193), format_number(3.0), format_number(float("-inf"))
        ('0.1966', '3', '−inf')
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "−inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{precision}g}"


def pretty_number(value: Any, precision: int = DEFAULT_PRECISION) -> str:
    """:func:`format_number` with a true minus sign (``−``), for diagrams and formulas.

    Example:
        >>> pretty_number(-0.25)
        '−0.25'
    """
    return format_number(value, precision).replace("-", "−")


def formula_constant(value: float) -> str:
    """A constant inside a formula: ``2`` for 2.0, ``0.5``, ``1e-08`` (``%g``, no padding).

    Example:
        >>> formula_constant(2.0), formula_constant(0.001)
        ('2', '0.001')
    """
    return str(int(value)) if float(value).is_integer() else f"{float(value):g}"


EXACT_COUNT_BELOW = 10 ** 24
"""Counts from this size on are written as a power of ten (a path count can have
thousands of digits, more than Python will even turn into text)."""


def count_text(n: int) -> str:
    """A count with thousands separators, or about a power of ten when it is huge.

    Example:
        >>> count_text(1204), count_text(6 * 10 ** 4012)
        ('1,204', '≈6.0 × 10^4012')
    """
    if n < EXACT_COUNT_BELOW:
        return f"{n:,}"
    exponent = math.floor(math.log10(n))
    mantissa = 10 ** (math.log10(n) - exponent)
    if mantissa >= 9.95:  # rounds up to 10.0
        mantissa, exponent = 1.0, exponent + 1
    return f"≈{mantissa:.1f} × 10^{exponent}"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, singular for 1: the one place English plurals are made.

    Example:
        >>> counted(1, "input"), counted(3, "claim"), counted(12_400, "path")
        ('1 input', '3 claims', '12,400 paths')
    """
    return f"{count_text(n)} {noun if n == 1 else plural or noun + 's'}"


def shape_text(shape: Iterable[int]) -> str:
    """``4×3`` for a shape, ``scalar`` for ``()``.

    Example:
        >>> shape_text((4, 3)), shape_text(())
        ('4×3', 'scalar')
    """
    shape = tuple(shape)
    return "×".join(map(str, shape)) if shape else "scalar"


def distinct_summaries(first: Any, second: Any, precision: int = DEFAULT_PRECISION
                       ) -> tuple[str, str]:
    """:func:`value_summary` of two values that differ, with as many more digits as it
    takes for the texts to differ too (a claim of 0.3 next to a true 0.30004 must not
    read "claimed 0.3, true 0.3").

    Example:
        >>> distinct_summaries(0.3, 0.30004)
        ('0.3', '0.30004')
        >>> distinct_summaries(1.0, 2.0)
        ('1', '2')
    """
    texts = value_summary(first, precision), value_summary(second, precision)
    digits = precision
    while texts[0] == texts[1] and digits < 17:
        digits += 1
        texts = value_summary(first, digits), value_summary(second, digits)
    return texts


def value_summary(value: Any, precision: int = DEFAULT_PRECISION) -> str:
    """A value in a table cell: a number, a short list, or ``shape, ‖·‖ = norm``.

    Example:
        >>> value_summary(0.5), value_summary(np.array([1.0, 2.0])), value_summary(None)
        ('0.5', '[1, 2]', '—')
    """
    if value is None:
        return "—"
    array = np.asarray(value)
    if array.dtype.kind not in "fiub":
        return type(value).__name__
    if array.ndim == 0:
        return format_number(array, precision)
    if array.size <= SMALL_ARRAY:
        return "[" + ", ".join(format_number(v, precision) for v in array.ravel()) + "]"
    norm = format_number(np.linalg.norm(array.astype(float).ravel()), precision)
    shape = f"{array.shape[0]}-vector" if array.ndim == 1 else shape_text(array.shape)
    return f"{shape}, ‖·‖ = {norm}"
