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
    ConstantChangedError,
    ForeignTraceError,
    GraphvizNotFoundError,
    NonFiniteWarning,
    NotDifferentiatedError,
    RuleDeclarationError,
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
    "Comparison", "ConstantChangedError", "Descent", "Diagram", "DiagramOptions",
    "ForeignTraceError", "GraphvizNotFoundError", "Hessian", "Node", "NonFiniteWarning",
    "NotDifferentiatedError", "RuleDeclarationError", "ScriptError", "Trace",
    "TracedValueLeakError", "TracegraphError", "Tracer", "UnsupportedOperationError", "Var",
    "binary_cross_entropy", "build_diagram", "check",
    "compare", "constant", "cross_entropy", "defprimitive", "descend", "grad", "hessian", "hvp",
    "is_traced", "jvp", "kl_divergence", "log_softmax", "logsumexp", "mse", "name",
    "numeric_check", "pass_through", "primitive", "primitives", "relu", "render", "scope",
    "sigmoid", "softmax", "softmax_cross_entropy", "to_dot", "trace", "unregister", "value_of",
]
