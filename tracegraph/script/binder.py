"""The binder: what every assignment in a traced file reports to.

The transformed file (:func:`.source.compile_tree`) calls a :class:`Binder`
at each assignment with the name, the value and the line.  It declares
inputs, names nodes after the variables they are bound to, remembers the
hand-derived claims (``dS_dG = ...``, :data:`CLAIM_NAME`) and the candidates
for the output, and applies overrides.

Example:
    >>> import tracegraph as tg
    >>> tracer = tg.Tracer(); binder = Binder(tracer, {})
    >>> with tracer:
    ...     w = binder("w", 0.5, 1, True)
    ...     loss = binder("loss", w * w, 2, True)
    ...     claim = binder("dloss_dw", 2 * w, 3, True)
    >>> binder.inputs, loss.name, binder.claims["dloss_dw"].value
    ({'w': 0.5}, 'loss', 1.0)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core import Var, as_python_scalar, is_constant, shape_of
from ..core import name as name_value
from ..numbers import shape_text
from ..trace import Trace, Tracer
from .overrides import all_numbers, apply_override, unknown_override

CLAIM_NAME = re.compile(r"^d[A-Za-z0-9_]+_d[A-Za-z0-9_]+$")
"""Names of hand-derived derivative claims: ``dS_dG``, ``dLoss_dw1``."""


@dataclass(frozen=True)
class ClaimSource:
    """A hand-derived derivative written in the file, e.g. ``dS_dG = 0.2445`` on line 9.

    ``value`` is plain (a float or ndarray), even when the claim was computed
    from traced values (``dS_dG = S * (1 - S)``).

    Example:
        >>> ClaimSource("dS_dG", 0.2445, 9).name
        'dS_dG'
    """

    name: str
    value: Any
    lineno: int


@dataclass(frozen=True)
class Binding:
    """A traced value assigned to a top-level name: a possible output (``output=``).

    Example:
        >>> Binding("Loss", 12, ()).describe()
        'Loss (line 12, scalar)'
    """

    name: str
    lineno: int
    shape: tuple[int, ...]

    def describe(self) -> str:
        """``name (line N, scalar)`` or ``name (line N, shape 4×3)``."""
        size = "scalar" if not self.shape else "shape " + shape_text(self.shape)
        return f"{self.name} (line {self.lineno}, {size})"


def _plain(value: Any) -> Any:
    """A claim's value as a plain float / ndarray."""
    value = value.value if type(value) is Var else value
    if isinstance(value, (list, tuple)) and all_numbers(value):
        return np.asarray(value, dtype=float)
    return as_python_scalar(value)


def _is_input_value(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


class Binder:
    """Called by the transformed code at every assignment; names, declares inputs, records.

    With a ``tracer`` (script mode) the first top-level binding of a name to a
    number or float array declares an input; integer arrays and
    ``tracegraph.constant(...)`` values become named constants.  Without one,
    top-level numbers are only replaced by their ``--set`` overrides.
    """

    def __init__(self, tracer: Tracer | None, overrides: Mapping[str, Any]) -> None:
        self.tracer = tracer
        self.overrides = dict(overrides)
        self.used_overrides: set[str] = set()
        self.seen: set[str] = set()
        self.inputs: dict[str, Any] = {}
        self.settable: list[str] = []
        self.claims: dict[str, ClaimSource] = {}
        self.latest: dict[str, Var] = {}
        self.bindings: list[tuple[Binding, Var]] = []
        self.traces: list[tuple[str, Trace]] = []
        self._named_at_top: dict[int, Var] = {}
        self._auto_named: dict[int, Var] = {}

    def __call__(self, name: str, value: Any, lineno: int, top_level: bool) -> Any:
        if CLAIM_NAME.match(name):
            if top_level:
                self.claims[name] = ClaimSource(name, _plain(value), lineno)
            return value
        if top_level and name not in self.seen:
            self.seen.add(name)
            value = self._declare(name, value)
        if isinstance(value, Trace) and top_level:
            self.traces.append((name, value))
        if type(value) is not Var:
            return value
        self.latest[name] = value
        if top_level:
            self._name_at_top_level(name, value, lineno)
        elif value.name is None:
            name_value(value, name)
            self._auto_named[id(value)] = value
        return value

    def _declare(self, name: str, value: Any) -> Any:
        if is_constant(value):
            return self.tracer.constant(name, value) if self.tracer else value
        if not _is_input_value(value):
            if self.tracer is not None and isinstance(value, np.ndarray) and \
                    value.dtype.kind in "iub":
                return self.tracer.constant(name, value)
            return value
        self.settable.append(name)
        if name in self.overrides:
            value = apply_override(name, value, self.overrides[name])
            self.used_overrides.add(name)
        if self.tracer is None:
            return value
        self.inputs[name] = value
        return self.tracer.input(name, value)

    def _name_at_top_level(self, name: str, value: Var, lineno: int) -> None:
        # Top-level names win over names given automatically inside functions
        # (h1 = layer(x) renames layer's `out`), but an alias (S2 = S) never renames,
        # nor does it override a name the user gave with tracegraph.name().
        # Only a newly computed value is a candidate for the output, not an alias.
        key = id(value)
        if key in self._named_at_top:
            return
        if value.name is None or key in self._auto_named:
            name_value(value, name, replace=True)
            self._auto_named.pop(key, None)
        self._named_at_top[key] = value
        if value.primitive is not None:
            self.bindings.append((Binding(name, lineno, shape_of(value.value)), value))

    def check_overrides(self, path: Path) -> None:
        unused = [name for name in self.overrides if name not in self.used_overrides]
        if unused:
            raise unknown_override(unused[0], path, self.settable)
