"""tracegraph: see and check derivatives.

Trace plain Python/numpy code into an annotated networkx DAG - forward value
and gradient on every node, local derivative and upstream×local on every
edge - and render the chain rule as a diagram.

Example:
    >>> import numpy as np
    >>> import tracegraph as tg
    >>> def neuron(w1, x1, w2, x2, w3, x3, gold):
    ...     A = w1 * x1; B = w2 * x2; C = w3 * x3
    ...     S = tg.sigmoid(A + B + C)
    ...     return (gold - S) ** 2
    >>> t = tg.trace(neuron, w1=0.5, x1=1.0, w2=-0.3, x2=2.0, w3=0.8, x3=0.5, gold=1.0)
    >>> round(t.value, 4), round(t.grads["w1"], 4)
    (0.1811, -0.2081)
"""

from . import rules as _rules  # noqa: F401  (fills the derivative table)
from .calculus import Hessian, grad, hessian, hvp, jvp
from .check import check, numeric_check
from .core import Var, constant, is_traced, name, scope, value_of
from .descent import Comparison, Descent, compare, descend
from .diagram import Diagram, DiagramOptions, build_diagram, render, to_dot
from .errors import (
    ForeignTraceError,
    GraphvizNotFoundError,
    NonFiniteWarning,
    NotDifferentiatedError,
    ScriptError,
    TracedValueLeakError,
    TracegraphError,
    UnsupportedOperationError,
)
from .extend import defprimitive, pass_through, primitive, primitives, unregister
from .ops import (
    binary_cross_entropy,
    cross_entropy,
    kl_divergence,
    log_softmax,
    logsumexp,
    mse,
    relu,
    sigmoid,
    softmax,
    softmax_cross_entropy,
)
from .trace import Node, Trace, Tracer, trace

__version__ = "0.2.0"

__all__ = [
    "Hessian", "grad", "hessian", "hvp", "jvp",
    "Diagram", "DiagramOptions", "build_diagram", "check", "numeric_check", "render", "to_dot",
    "ForeignTraceError", "GraphvizNotFoundError", "Node", "ScriptError", "NonFiniteWarning", "NotDifferentiatedError", "Trace",
    "TracedValueLeakError", "Tracer", "TracegraphError", "UnsupportedOperationError", "Var",
    "Comparison", "Descent", "binary_cross_entropy", "compare", "constant", "cross_entropy", "descend", "is_traced", "kl_divergence",
    "log_softmax", "logsumexp", "mse", "name", "defprimitive", "pass_through", "primitive", "primitives", "relu", "scope",
    "sigmoid", "softmax", "softmax_cross_entropy", "trace", "unregister", "value_of",
]
