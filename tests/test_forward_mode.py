"""Forward mode drawn: every node's tangent in the graph, the ``tangent`` show mode, and
``tracegraph render FILE --tangent NAME`` (seed 001: forward and reverse mode compared)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import tracegraph as tg
from tracegraph.calculus import tangent_graph
from tracegraph.cli import app
from tracegraph.diagram import to_dot
from tracegraph.diagram.labels import Labels
from tracegraph.diagram.options import SHOW_MODES, DiagramOptions
from tracegraph.graph import from_json, to_json

NEURON = Path(__file__).resolve().parent.parent / "examples" / "neuron.py"


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def small(w, x):
    G = tg.name(w * x, "G")
    return tg.name(tg.sigmoid(G) * w, "L")


def test_every_node_gets_its_tangent_and_the_output_s_is_the_directional_derivative():
    t = tg.trace(small, w=0.5, x=2.0)
    g = tangent_graph(t, {"w": 1.0})
    s = 1 / (1 + math.exp(-1.0))
    assert g.nodes["w"]["tangent"] == 1.0 and g.nodes["x"]["tangent"] == 0.0
    assert g.nodes["G"]["tangent"] == 2.0                      # dG/dw = x
    assert g.nodes["L"]["tangent"] == pytest.approx(s * (1 - s) * 2.0 * 0.5 + s)
    assert g.nodes["L"]["tangent"] == pytest.approx(t.grads["w"], rel=1e-12)  # = reverse mode
    assert g.graph["tangent_seed"] == {"w": 1.0}
    assert "tangent" not in t.graph.nodes["G"]  # only when asked
    both = tangent_graph(t, {"w": 1.0, "x": -2.0})
    expected = t.grads["w"] - 2.0 * t.grads["x"]
    assert both.nodes["L"]["tangent"] == pytest.approx(expected, rel=1e-12)
    back = from_json(to_json(g))
    assert back.nodes["G"]["tangent"] == 2.0 and back.graph["tangent_seed"] == {"w": 1.0}


def test_array_tangents_have_the_node_shapes():
    t = tg.trace(lambda w: np.sum(np.tanh(w) * 3.0), w=np.array([0.0, 1.0]))
    g = tangent_graph(t, {"w": np.array([1.0, 0.0])})
    assert np.shape(g.nodes["w"]["tangent"]) == (2,)
    assert g.nodes["output"]["tangent"] == pytest.approx(3.0)  # 3·(1 − tanh²(0))


def test_the_tangent_show_mode_labels_nodes_and_edges():
    # Reviewed by hand (w = 0.5, x = 2, tangent of w = 1): G = w·x moves by x = 2; σ(G) by
    # σ'(G)·2 = 0.3932; L = σ(G)·w by 0.5 × 0.3932 + 0.7311 × 1 = 0.9277 (= dL/dw).
    g = tangent_graph(tg.trace(small, w=0.5, x=2.0), {"w": 1.0})
    labels = Labels(g, DiagramOptions(show="tangent"))
    assert {node: labels.node_lines(node) for node in g} == {
        "w": [("value", "0.5"), ("∂w/∂w", "1")],
        "x": [("value", "2"), ("∂x/∂w", "0")],
        "G": [("G = w·x", ""), ("value", "1"), ("∂G/∂w", "2")],
        "n3": [("value", "0.7311"), ("∂σ(G)/∂w", "0.3932")],
        "L": [("L = σ(G)·w", ""), ("value", "0.3655"), ("∂L/∂w", "0.9277")],
    }
    assert {edge: labels.edge_lines(edge) for edge in g.edges(keys=True)} == {
        ("w", "G", 0): ["∂G/∂w = x = 2", "fwd: 2 × 1 = 2"],
        ("w", "L", 1): ["∂L/∂w = σ(G) = 0.7311", "fwd: 0.7311 × 1 = 0.7311"],
        ("x", "G", 1): ["∂G/∂x = w = 0.5", "fwd: 0.5 × 0 = 0"],
        ("G", "n3", 0): ["∂σ(G)/∂G = σ(G)·(1 − σ(G)) = 0.1966", "fwd: 0.1966 × 2 = 0.3932"],
        ("n3", "L", 0): ["∂L/∂σ(G) = w = 0.5", "fwd: 0.5 × 0.3932 = 0.1966"],
    }
    # "all" shows both modes side by side: ∂L/∂G (reverse) and ∂G/∂w (forward).
    assert Labels(g, DiagramOptions()).node_lines("G") == [
        ("G = w·x", ""), ("value", "1"), ("∂L/∂G", "0.09831"), ("∂G/∂w", "2")]
    general = Labels(tangent_graph(tg.trace(small, w=0.5, x=2.0), {"w": 2.0}),
                     DiagramOptions(show="tangent"))
    assert general.node_lines("G")[-1] == ("tangent", "4")


def test_the_tangent_diagram_says_how_to_read_it():
    g = tangent_graph(tg.trace(small, w=0.5, x=2.0), {"w": 1.0})
    dot = to_dot(g, show="tangent")
    assert "forward mode, tangents along w = 1 (other inputs 0)" in dot
    assert "fwd: local × the parent&#39;s tangent" in dot or "fwd: local × the parent's" in dot
    assert "∂L/∂G</TD>" not in dot  # no reverse-mode gradients in the boxes in this mode
    assert "∂G/∂w:&#10;  2" in dot  # the tooltip lists the tangent too
    assert "tangent" in SHOW_MODES
    plain = to_dot(tg.trace(small, w=0.5, x=2.0), show="tangent")  # no tangents: nothing extra
    assert "fwd:" not in plain and "forward mode" not in plain


def test_render_tangent_from_the_command_line(tmp_path):
    out = tmp_path / "t.dot"
    result = run("render", NEURON, "--tangent", "w1", "-o", out)
    assert result.exit_code == 0, result.output
    dot = out.read_text()
    assert "∂G/∂w1" in dot and "fwd: 1 × 1 = 1" in dot
    line = next(l for l in result.stdout.splitlines() if l.startswith("forward mode:"))
    assert line.startswith("forward mode: ∂Loss/∂w1 = -0.2081")
    assert line.endswith("reverse mode: -0.2081 (one pass for all inputs)  ✓ equal")
    mixed = run("render", NEURON, "--tangent", "w1", "--tangent", "x1=2", "-o", out)
    assert "forward mode: the derivative of Loss along the tangents = " in mixed.stdout
    assert "✓ equal" in mixed.stdout
    both = run("render", NEURON, "--tangent", "w1", "--show", "all", "-o", out)
    assert both.exit_code == 0 and "∂Loss/∂G" in out.read_text() and "∂G/∂w1" in out.read_text()


@pytest.mark.parametrize("args, message", [
    (["--show", "tangent"], "--show tangent needs the tangent to push forward"),
    (["--tangent", "w9"], "--tangent w9: 'w9' is not an input"),
    (["--tangent", "w1=abc"], "--tangent w1=abc: the tangent must be a number"),
    (["--tangent", "w1", "--backward"], "--tangent and --backward draw different graphs"),
    (["--tangent", "w1", "--show", "grads"], "--tangent with --show grads"),
])
def test_render_tangent_errors(tmp_path, args, message):
    result = run("render", NEURON, *args, "-o", tmp_path / "t.dot")
    assert result.exit_code == 2, result.output
    assert message in result.stderr


@pytest.mark.needs_dot
def test_render_tangent_as_an_image(tmp_path):
    out = tmp_path / "t.svg"
    assert run("render", NEURON, "--tangent", "w1", "-o", out).exit_code == 0
    assert "∂S/∂w1" in out.read_text(encoding="utf-8")


def test_render_tangent_has_a_default_name_of_its_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("render", NEURON, "-f", "dot").exit_code == 0
    plain = (tmp_path / "neuron.dot").read_text(encoding="utf-8")
    result = run("render", NEURON, "--tangent", "w1", "-f", "dot")
    assert result.exit_code == 0, result.output
    assert "∂S/∂w1" in (tmp_path / "neuron_tangent.dot").read_text(encoding="utf-8")
    assert (tmp_path / "neuron.dot").read_text(encoding="utf-8") == plain  # not replaced
