"""Chain-rule diagrams: an annotated trace drawn with Graphviz.

Each value is a box with its name, the expression it computes, its value
and its gradient dLoss/dnode (the box's colour shows the gradient's
magnitude on a log scale); each edge carries the local derivative
∂child/∂parent as formula and number and what flows back along it
(upstream × local).  Large graphs are summarised past a node budget.
See docs/diagrams.md.

:func:`build_diagram` / :func:`to_dot` are pure (DOT text, no subprocess);
:func:`render`, :func:`svg` and :func:`mimebundle` run Graphviz's ``dot``
for images.

Example:
    >>> import tracegraph as tg
    >>> from tracegraph.diagram import to_dot
    >>> def neuron(w1, x1, w2, x2, w3, x3, gold):
    ...     A = tg.name(w1 * x1, "A"); B = tg.name(w2 * x2, "B"); C = tg.name(w3 * x3, "C")
    ...     G = tg.name(A + B + C, "G")
    ...     S = tg.name(tg.sigmoid(G), "S")
    ...     return tg.name((gold - S) ** 2, "Loss")
    >>> t = tg.trace(neuron, w1=0.5, x1=1.0, w2=-0.3, x2=2.0, w3=0.8, x3=0.5, gold=1.0)
    >>> dot = to_dot(t)
    >>> "G = A + B + C" in dot and "∂S/∂G = S·(1 − S) = 0.2445" in dot
    True
"""

from .dot import Diagram, build_diagram, graph_of, to_dot
from .options import DiagramOptionError, DiagramOptions
from .output import html, mimebundle, render, svg

__all__ = [
    "Diagram", "DiagramOptionError", "DiagramOptions", "build_diagram", "graph_of", "html", "mimebundle",
    "render", "svg", "to_dot",
]
