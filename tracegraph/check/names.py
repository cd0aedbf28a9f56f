"""Reading a claim's name: the derivative ``dS_dG``, ``d2y_dx2`` or ``∂²y/∂x∂z`` stands for.

A claim names a derivative of one value with respect to one value (first
order: ``dS_dG``, ``"dS/dG"``, ``("S", "G")``) or two (second order:
``d2y_dx2`` is ∂²y/∂x², ``d2y_dx_dz`` is ∂²y/∂x∂z; also ``"d²y/dx²"``,
``"∂²y/∂x∂z"`` and ``("y", "x", "z")``).  Underscores make the written forms
ambiguous when a name itself contains ``_d`` (``dx_dy_dz``), so every
reading is returned and the caller keeps those naming real values.

Example:
    >>> [r.text() for r in claim_readings("d2y_dx2")], claim_readings("dS_dG")[0].wrt
    (['∂²y/∂x²'], ('G',))
    >>> is_claim_name("dθ_dt"), is_claim_name("d2y_dx2"), is_claim_name("ddot")
    (True, True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..formula import operand


@dataclass(frozen=True)
class Reading:
    """One reading of a claim's name: d ``of`` / d ``wrt[0]`` (d ``wrt[1]``).

    Example:
        >>> Reading("y", ("x", "z")).text(), Reading("S", ("G",)).order
        ('∂²y/∂x∂z', 1)
    """

    of: str
    wrt: tuple[str, ...]

    @property
    def order(self) -> int:
        """1 for a first derivative, 2 for a second one."""
        return len(self.wrt)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the reading mentions: ``of`` first."""
        return (self.of, *self.wrt)

    def text(self) -> str:
        """``dS/dG`` for first order; ``∂²y/∂x²`` or ``∂²y/∂x∂z`` for second order."""
        return derivative_text(self.of, self.wrt)


def derivative_text(of: str, wrt: tuple[str, ...]) -> str:
    """How reports write a derivative: ``dS/dG``, ``∂²y/∂x²``, ``∂²y/∂x∂z``.

    Example:
        >>> derivative_text("S", ("G",)), derivative_text("y", ("x", "x"))
        ('dS/dG', '∂²y/∂x²')
    """
    if len(wrt) == 1:
        return f"d{of}/d{wrt[0]}"
    first, second = (operand(name) for name in wrt)
    bottom = f"∂{first}²" if wrt[0] == wrt[1] else f"∂{first}∂{second}"
    return f"∂²{operand(of)}/{bottom}"


def _sides(text: str, *, strict: bool) -> list[tuple[str, str]]:
    """Every split of ``Y_dX`` at ``_d`` into (Y, X), both non-empty."""
    pairs = []
    for match in re.finditer("_d", text):
        left, right = text[: match.start()], text[match.end():]
        if _acceptable(left, strict) and _acceptable(right, strict):
            pairs.append((left, right))
    return pairs


def _acceptable(name: str, strict: bool) -> bool:
    # A file's claim is a Python name, so its parts are identifiers; keys given from
    # Python may name graph ids ("y#2", "n5"), which never start with a digit either.
    if strict:
        return name.isidentifier()
    return bool(name) and not name[0].isdigit()


def _underscore_readings(text: str, strict: bool) -> list[Reading]:
    readings = []
    if text.startswith("d2"):
        for of, tail in _sides(text[2:], strict=False):
            if not _acceptable(of, strict):
                continue
            if tail.endswith("2") and _acceptable(tail[:-1], strict):
                readings.append(Reading(of, (tail[:-1], tail[:-1])))
            for first, second in _sides(tail, strict=strict):
                readings.append(Reading(of, (first, second)))
    if text.startswith("d"):
        readings.extend(Reading(of, (wrt,)) for of, wrt in _sides(text[1:], strict=strict))
    return readings


_SECOND_TOP = re.compile(r"^(?:[d∂]²|d2)\s*(.+)$")
_SQUARED_BOTTOM = re.compile(r"^[d∂]\s*(.+?)\s*²$")
_MIXED_BOTTOM = re.compile(r"^∂\s*(.+?)\s*∂\s*(.+)$|^d\s*(\S+?)\s+d\s*(\S+)$")


def _slash_readings(text: str) -> list[Reading]:
    readings = []
    for match in re.finditer("/", text):
        top, bottom = text[: match.start()].strip(), text[match.end():].strip()
        second = _SECOND_TOP.match(top)
        if second:
            of = second.group(1).strip()
            squared = _SQUARED_BOTTOM.match(bottom)
            mixed = _MIXED_BOTTOM.match(bottom)
            if squared:
                readings.append(Reading(of, (squared.group(1), squared.group(1))))
            elif mixed:
                first, other = mixed.group(1) or mixed.group(3), mixed.group(2) or mixed.group(4)
                readings.append(Reading(of, (first.strip(), other.strip())))
            continue
        if len(top) > 1 and len(bottom) > 1 and top[0] in "d∂" and bottom[0] in "d∂":
            readings.append(Reading(top[1:].strip(), (bottom[1:].strip(),)))
    return readings


def claim_readings(key: Any, *, strict: bool = False) -> list[Reading]:
    """Every reading of a claim key, in a stable order (second-order readings first).

    ``key`` is a string (``"dS_dG"``, ``"dS/dG"``, ``"∂S/∂G"``, ``"d2y_dx2"``,
    ``"d2y_dx_dz"``, ``"d²y/dx²"``, ``"∂²y/∂x∂z"``) or a tuple of names
    (``("S", "G")``, ``("y", "x", "z")``).  With ``strict`` every part must be
    a Python identifier (the names of a file).

    Example:
        >>> [r.names for r in claim_readings("dx_dy_dz")]
        [('x', 'y_dz'), ('x_dy', 'z')]
        >>> [r.names for r in claim_readings("∂²f/∂x∂y")], claim_readings(("S", "G"))[0].wrt
        ([('f', 'x', 'y')], ('G',))
    """
    if isinstance(key, tuple):
        if len(key) not in (2, 3) or not all(isinstance(part, str) for part in key):
            raise TypeError(f"a claim key tuple must be (of, wrt) or (of, wrt, wrt2) node names, "
                            f"got {key!r}")
        return [Reading(key[0], tuple(key[1:]))]
    if not isinstance(key, str):
        raise TypeError(f"a claim key must be 'dY/dX', 'dY_dX', 'd2Y_dX2' or ('Y', 'X'), "
                        f"got {key!r}")
    text = key.strip()
    readings = _slash_readings(text) if "/" in text else _underscore_readings(text, strict)
    return list(dict.fromkeys(readings))


def is_claim_name(name: str) -> bool:
    """True when a file's variable name reads as a derivative claim (``dS_dG``, ``dθ_dt``,
    ``d2y_dx2``, ``d2f_dx_dy``); ``dx``, ``ddot`` or ``d_loss`` do not.

    Example:
        >>> is_claim_name("dLoss_dw1"), is_claim_name("dx")
        (True, False)
    """
    if not name.startswith("d") or "_d" not in name:  # most names: no parse needed
        return False
    return bool(name.isidentifier() and claim_readings(name, strict=True))
