"""The core: it only records.

- :mod:`.var`        :class:`Primitive`, recording (:func:`apply`), and :class:`Var`,
  the traced value that is also one equation of the record
- :mod:`.record`     :class:`Tape`, the public record, with its walks and replay
- :mod:`.registry`   primitives by name and the numpy routes
- :mod:`.arrays`     shape helpers (``unbroadcast``) shared by rules and autodiff
- :mod:`.scope`      the active trace and ``tg.scope``
- :mod:`.constants`  ``tg.constant`` markers
- :mod:`.leaks`      errors for values that would leave the trace
- :mod:`.printing`   conversions that only make text (``print(float(loss))``)

Example:
    >>> from tracegraph.core import Tape
    >>> tape = Tape(); x = tape.leaf("x", 2.0); y = x * 3.0
    >>> y.value, y.primitive.name, y.inputs[0] is x
    (6.0, 'multiply', True)
"""

from .arrays import (
    as_python_scalar,
    broadcast_view,
    normalize_axis,
    read_only_copy,
    shape_of,
    unbroadcast,
)
from .constants import constant, is_constant, unwrap_constant
from .primitive import PrimitiveRule, no_gradient
from .pullback import (
    SPARSE_FACTOR,
    Scattered,
    contribution,
    strong_zero_contribution,
    strong_zero_pullback,
)
from .record import Guard, ScopeSpan, Tape, apply_with_value
from .registry import FUNCTION_ROUTES, PASS_THROUGH, REGISTRY, UFUNC_ROUTES
from .scope import activate, active_tape, scope
from .var import (
    Primitive,
    Var,
    apply,
    deep_value_of,
    guarded,
    is_traced,
    name,
    numpy_name,
    pack_values,
    plain_value,
    value_of,
)

__all__ = [
    "FUNCTION_ROUTES", "Guard", "PASS_THROUGH", "Primitive", "PrimitiveRule", "REGISTRY",
    "SPARSE_FACTOR", "Scattered", "ScopeSpan", "Tape", "UFUNC_ROUTES", "Var", "activate",
    "active_tape", "apply", "apply_with_value", "as_python_scalar",
    "broadcast_view", "constant", "contribution", "deep_value_of", "guarded", "is_constant",
    "is_traced", "name", "no_gradient", "normalize_axis", "numpy_name", "pack_values",
    "plain_value", "read_only_copy",
    "scope", "shape_of", "strong_zero_contribution", "strong_zero_pullback",
    "unbroadcast", "unwrap_constant", "value_of",
]
