"""Inputs declared without a gradient (``grads={"y": None}``) work end to end.

Regression: the one-input fast path of the backward pass once called the
``None`` VJP (TypeError), and a two-input rule with ``"y": None`` gave right
gradients but crashed the graph and ``tracegraph explain`` (exit 70).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import tracegraph as tg
from tracegraph.cli import app
from tracegraph.core import REGISTRY

from rule_cases import rule_case


@tg.primitive(grads={"x": None}, name="test_stopgrad")
def stopgrad(x):
    """x, with no gradient passed back (a user's stop-gradient)."""
    return x


@tg.primitive(grads={"x": (lambda g, out, x, y: g * y, "{y}"), "y": None}, name="test_scaled")
def scaled(x, y):
    """x · y, differentiated in x only."""
    return x * y


def test_a_one_input_rule_without_gradient_traces_and_differentiates():
    t = tg.trace(lambda x: stopgrad(x) * x, x=2.0)
    assert t.value == 4.0 and t.grads == {"x": 2.0}
    stopped = [d for _, _, d in t.graph.edges(data=True) if d["formula"] == "no gradient"]
    assert len(stopped) == 1 and stopped[0]["contribution"] == 0.0
    assert "no gradient" in t.to_dot()


def test_a_two_input_rule_with_one_input_without_gradient_builds_its_graph():
    t = tg.trace(lambda x, y: scaled(x, y) + y, x=2.0, y=3.0)
    assert t.grads == {"x": 3.0, "y": 1.0}
    edges = {(u, k): d for u, _, k, d in t.graph.in_edges(keys=True, data=True)
             if t.graph.nodes[_]["op"] == "test_scaled"}
    assert edges[("y", 1)]["formula"] == "no gradient"
    assert edges[("y", 1)]["contribution"] == 0.0 and edges[("y", 1)]["local"] is None
    assert edges[("x", 0)]["local"] == 3.0
    assert "no gradient" in t.to_dot()


def test_explain_shows_the_input_without_gradient(tmp_path):
    path = tmp_path / "scaled.py"
    path.write_text(
        "import tracegraph as tg\n"
        "@tg.primitive(grads={'x': (lambda g, out, x, y: g * y, '{y}'), 'y': None},\n"
        "              name='test_scaled_file', replace=True)\n"
        "def scaled(x, y):\n"
        "    return x * y\n"
        "x = 2.0\ny = 3.0\n"
        "z = scaled(x, y) + y\n")
    result = CliRunner().invoke(app, ["explain", str(path)])
    assert result.exit_code == 0, result.output
    assert "no gradient" in result.stdout
    tg.unregister("test_scaled_file")


NO_GRADIENT = [p.name for p in tg.primitives() if not all(p.differentiable)]


@pytest.mark.parametrize("name", NO_GRADIENT)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_rule_with_inputs_without_gradient_builds_its_graph(name, data):
    prim = REGISTRY[name]
    args, params = rule_case(prim, data)
    tracer = tg.Tracer()
    with tracer:
        traced = [tracer.input(f"a{i}", arg)
                  if isinstance(arg, float) or (isinstance(arg, np.ndarray)
                                                and arg.dtype.kind == "f") else arg
                  for i, arg in enumerate(args)]
        out = prim(*traced, **params)
        t = tracer.finish(np.sum(out * 1.0))
    for i, arg in enumerate(args):
        position = 0 if prim.variadic else i
        if f"a{i}" in t.grads and not prim.differentiable[position]:
            assert not np.any(t.grads[f"a{i}"]), f"{name}: input {i} got a gradient"
    graph = t.graph
    assert any(d["formula"] == "no gradient" for _, _, d in graph.edges(data=True)) or \
        all(f"a{i}" not in t.grads for i in range(len(args))
            if not prim.differentiable[0 if prim.variadic else i])
    assert t.to_dot()
