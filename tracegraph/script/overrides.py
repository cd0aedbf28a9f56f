"""Overrides: new values for a file's inputs (``overrides=`` of :func:`load_script`).

A value replaces an input before anything is computed; it must keep the
input's shape (nothing is broadcast silently).  :func:`parse_override`
reads the ``NAME=VALUE`` text form the command line takes.

Example:
    >>> parse_override("w1=0.5"), apply_override("w1", 1.0, 2)
    (('w1', 0.5), 2.0)
"""

from __future__ import annotations

import ast
import difflib
from pathlib import Path
from typing import Any

import numpy as np

from ..core import shape_of
from ..errors import OverrideError, display_path, mention
from ..numbers import shape_text


def parse_override(text: str) -> tuple[str, Any]:
    """Parse override text ``NAME=VALUE``: a number or a (nested) list of numbers.

    Lists become float arrays; ``nan`` and ``inf`` are accepted.

    Example:
        >>> parse_override("w1=0.5")
        ('w1', 0.5)
        >>> name, value = parse_override("x = [1, 2.5]")
        >>> name, value.tolist()
        ('x', [1.0, 2.5])
    """
    name, sep, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    example = f"e.g. {mention('override', 'w1=0.5')} or {mention('override', 'x=[1.0, 2.5]')}"
    if not sep or not name or not raw:
        raise OverrideError(f"{mention('override', repr(text))} is not NAME=VALUE ({example})")
    if not name.isidentifier():
        raise OverrideError(f"{mention('override', repr(text))}: {name!r} is not a Python name "
                            f"({example})")
    return name, _parse_value(name, raw, example)


def _parse_value(name: str, raw: str, example: str) -> Any:
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        try:
            return float(raw)  # nan, inf, -inf
        except ValueError:
            value = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _finite_as_written(name, raw, value)
    if isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError, OverflowError):
            array = None
        if array is not None and all_numbers(value):
            return _finite_as_written(name, raw, array)
    raise OverrideError(f"{mention('override', f'{name}={raw}')}: the value must be a number or "
                        f"a list of numbers ({example})")


def _finite_as_written(name: str, raw: str, value: Any) -> Any:
    """``value``, unless a number too large for a float turned into inf (``1e400``):
    only a written ``inf`` means infinity."""
    if "inf" not in raw.lower() and not np.all(np.isfinite(value)):
        raise OverrideError(
            f"{mention('override', f'{name}={raw}')}: a number is too large for a float "
            f"(it would be inf); write inf to mean infinity, or a number below 1.8e308")
    return value


def all_numbers(value: Any) -> bool:
    """True for a number or a (nested) list or tuple of numbers (bools are not numbers).

    Example:
        >>> all_numbers([1, [2.5, 3]]), all_numbers([1, True])
        (True, False)
    """
    if isinstance(value, (list, tuple)):
        return all(all_numbers(item) for item in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def apply_override(name: str, original: Any, new: Any) -> Any:
    """``new`` in place of ``original``, refusing a change of shape (never broadcast silently).

    Example:
        >>> apply_override("w1", 1.0, 2)
        2.0
        >>> try:
        ...     apply_override("x", np.zeros(2), 0.5)
        ... except OverrideError as err:
        ...     print(err.message)
        override x: x is an array of shape 2 in the file, but the new value is a scalar
    """
    if shape_of(new) != shape_of(original):
        raise OverrideError(
            f"{mention('override', name)}: {name} is {_describe_shape(original)} in the file, "
            f"but the new value is {_describe_shape(new)}",
            hint="give a value of the same shape, e.g. "
            + mention("override", f"{name}={_example_literal(original)}"))
    if isinstance(original, float) and isinstance(new, int):
        return float(new)
    return new


def unknown_override(name: str, path: Path, settable: list[str]) -> OverrideError:
    """The error for an override of ``name``, which is not one of the ``settable`` inputs.

    Example:
        >>> err = unknown_override("w", Path("neuron.py"), ["w1", "x1"])
        >>> print(err.message); print(err.hint)
        override w: 'w' is not an input of neuron.py; its inputs are: w1, x1
        did you mean override w1=...?
    """
    listed = ", ".join(settable) if settable else "(none)"
    close = difflib.get_close_matches(name, settable, n=1)
    hint = f"did you mean {mention('override', close[0] + '=...')}?" if close else (
        "only inputs can be replaced: top-level names first bound to a number or "
        "float array (or the keys of the `inputs` dict)")
    return OverrideError(f"{mention('override', name)}: {name!r} is not an input of "
                         f"{display_path(path)}; its inputs are: {listed}", hint=hint)


def _describe_shape(value: Any) -> str:
    shape = shape_of(value)
    return "a scalar" if not shape else "an array of shape " + shape_text(shape)


def _example_literal(value: Any) -> str:
    if not shape_of(value):
        return "0.5"
    return repr(np.zeros(shape_of(value)).tolist()).replace(" ", "")
