"""Chain-rule diagrams as DOT text (no Graphviz needed): what each box and edge says.

Expected numbers are computed here by hand from the lecture's formulas (seed
002), never read back from tracegraph.
"""

from __future__ import annotations

import html
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import tracegraph as tg
from tracegraph.diagram import Diagram, DiagramOptionError, DiagramOptions, build_diagram, to_dot
from tracegraph.graph import from_json, to_json
from seed002 import neuron

# --------------------------------------------------------------------------- helpers


SEED = dict(w1=0.5, x1=1.0, w2=-0.3, x2=2.0, w3=0.8, x3=0.5, gold=1.0)


def label_of(statement: str) -> str:
    """The visible text of a DOT statement's HTML label, cells separated by spaces."""
    match = re.search(r"label=<(.*?)>(?:, | tooltip=|\];)", statement)
    assert match, statement
    text = re.sub(r"<BR[^>]*>", " / ", match.group(1))
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip().removesuffix(" /")


def node_statement(dot: str, node_id: str) -> str:
    found = [line for line in dot.splitlines()
             if re.match(rf'\s*(\{{ rank=sink; )?"{re.escape(node_id)}" \[', line)]
    assert len(found) == 1, (node_id, found)
    return found[0]


def edge_statements(dot: str, tail: str, head: str) -> list[str]:
    return [line for line in dot.splitlines() if line.strip().startswith(f'"{tail}" -> "{head}" ')]


def node_ids(dot: str) -> list[str]:
    return re.findall(r'^\s*(?:\{ rank=sink; )?"([^"]+)" \[label=', dot, flags=re.M)


def n(value: float) -> str:
    """4 significant digits with a true minus sign: how diagrams write numbers."""
    return f"{value:.4g}".replace("-", "−")


@pytest.fixture(scope="module")
def seed_trace():
    return tg.trace(neuron, **SEED)


@pytest.fixture(scope="module")
def seed_dot(seed_trace):
    return to_dot(seed_trace)


@pytest.fixture(scope="module")
def lecture():
    """The seed-002 numbers, by hand."""
    A, B, C = 0.5 * 1.0, -0.3 * 2.0, 0.8 * 0.5
    G = A + B + C
    S = 1 / (1 + math.exp(-G))
    loss = (1.0 - S) ** 2
    dS = -2 * (1.0 - S)
    dG = dS * S * (1 - S)
    return dict(A=A, B=B, C=C, G=G, S=S, Loss=loss, dS=dG / (S * (1 - S)), dG=dG,
                dlocal_S=S * (1 - S), dgold=2 * (1.0 - S))


# --------------------------------------------------------------------------- seed 002


def test_every_value_box_shows_name_op_expression_value_and_gradient(seed_dot, lecture):
    expected = {
        "A": ("multiply", "A = w1·x1", lecture["A"]),
        "B": ("multiply", "B = w2·x2", lecture["B"]),
        "C": ("multiply", "C = w3·x3", lecture["C"]),
        "G": ("add", "G = A + B + C", lecture["G"]),
        "S": ("sigmoid", "S = σ(G)", lecture["S"]),
        "Loss": ("output", "Loss = (gold − S)²", lecture["Loss"]),
    }
    for node, (tag, expression, value) in expected.items():
        text = label_of(node_statement(seed_dot, node))
        assert text.startswith(f"{node} {tag} {expression} ")
        assert f"value {n(value)}" in text
    dG = lecture["dG"]
    for node in ("A", "B", "C", "G"):
        assert f"∂Loss/∂{node} {n(dG)}" in label_of(node_statement(seed_dot, node))
    assert f"∂Loss/∂S {n(lecture['dS'])}" in label_of(node_statement(seed_dot, "S"))
    assert "∂Loss/∂Loss 1" in label_of(node_statement(seed_dot, "Loss"))


def test_inputs_show_their_gradients(seed_dot, lecture):
    dG = lecture["dG"]
    # d(w·x)/dw = x and d(w·x)/dx = w, from the lecture's table
    expected = {"w1": dG * 1.0, "x1": dG * 0.5, "w2": dG * 2.0, "x2": dG * -0.3,
                "w3": dG * 0.5, "x3": dG * 0.8, "gold": lecture["dgold"]}
    for name, grad in expected.items():
        text = label_of(node_statement(seed_dot, name))
        assert text.startswith(f"{name} input ")
        assert f"value {n(SEED[name])}" in text
        assert f"∂Loss/∂{name} {n(grad)}" in text


def test_edges_carry_the_lecture_table_as_formula_and_number(seed_dot, lecture):
    S, dS, dG = lecture["S"], lecture["dS"], lecture["dG"]
    expected = {
        ("w1", "A"): f"∂A/∂w1 = x1 = 1 / back: {n(dG)} × 1 = {n(dG)}",
        ("x2", "B"): f"∂B/∂x2 = w2 = −0.3 / back: {n(dG)} × (−0.3) = {n(dG * -0.3)}",
        ("A", "G"): f"∂G/∂A = 1 / back: {n(dG)} × 1 = {n(dG)}",
        ("G", "S"): f"∂S/∂G = S·(1 − S) = {n(S * (1 - S))} / back: {n(dS)} × "
                    f"{n(S * (1 - S))} = {n(dG)}",
        ("n13", "Loss"): f"∂Loss/∂(gold − S) = 2·(gold − S) = {n(2 * (1 - S))}",
    }
    for (tail, head), text in expected.items():
        (statement,) = edge_statements(seed_dot, tail, head)
        assert label_of(statement).startswith(text)


def test_scalar_literal_constants_are_not_boxes(seed_trace, seed_dot):
    constants = [node for node, data in seed_trace.graph.nodes(data=True)
                 if data["kind"] == "constant"]
    assert constants  # the 2 of (gold − S) ** 2
    for node in constants:
        assert node not in node_ids(seed_dot)
    assert set(node_ids(seed_dot)) == set(seed_trace.graph) - set(constants) | {"~legend"}


def test_inputs_output_and_operations_look_different(seed_dot):
    def border(node):
        return re.search(r'<TABLE BORDER="(\d)"[^>]* COLOR="(#\w+)"',
                         node_statement(seed_dot, node)).groups()

    assert border("w1") != border("G") != border("Loss") != border("w1")
    assert 'STYLE="rounded"' in node_statement(seed_dot, "w1")
    assert 'STYLE="rounded"' not in node_statement(seed_dot, "G")


def test_fan_out_shows_the_gradient_as_the_sum_of_edge_contributions():
    t = tg.trace(lambda x: tg.name(x * x + np.sin(x), "f"), x=3.0)
    text = label_of(node_statement(to_dot(t), "x"))
    # d(x·x)/dx per use = x = 3 each; d sin(x)/dx = cos 3
    total = 6 + math.cos(3.0)
    assert f"Σ back over 3 edges: 3 + 3 + ({n(math.cos(3.0))}) = {n(total)}" in text
    labels = [label_of(s) for s in edge_statements(to_dot(t, show="local"), "x", "n1")]
    assert labels == ["∂(x·x)/∂x (1 of 2) = x = 3", "∂(x·x)/∂x (2 of 2) = x = 3"]


# --------------------------------------------------------------------------- display options


@pytest.mark.parametrize("show, node_has, node_lacks, edge_text", [
    ("values", ["value 0.5744"], ["∂Loss/∂S"], None),
    ("grads", ["∂Loss/∂S"], ["value"], None),
    ("local", [], ["value", "∂Loss/∂S"], "∂S/∂G = S·(1 − S) = 0.2445"),
    ("flow", ["∂Loss/∂S"], ["value"], "∂S/∂G = S·(1 − S) = 0.2445 / back: −0.8511 × 0.2445 = "
                                       "−0.2081"),
    ("all", ["value 0.5744", "∂Loss/∂S"], [], "∂S/∂G = S·(1 − S) = 0.2445 / back:"),
])
def test_show_modes(seed_trace, show, node_has, node_lacks, edge_text):
    dot = to_dot(seed_trace, show=show)
    node = label_of(node_statement(dot, "S"))
    for text in node_has:
        assert text in node
    for text in node_lacks:
        assert text not in node
    (edge,) = edge_statements(dot, "G", "S")
    if edge_text is None:
        assert "label=" not in edge
    else:
        assert label_of(edge).startswith(edge_text)


def test_rankdir_precision_title_and_legend(seed_trace):
    dot = to_dot(seed_trace, rankdir="TB", precision=2, title="Seed 002: the neuron",
                 legend=False)
    assert "rankdir=TB" in dot
    assert "value 0.57" in label_of(node_statement(dot, "S"))
    assert "Seed 002: the neuron" in dot
    assert "~legend" not in dot
    assert '"~legend"' in to_dot(seed_trace)


def test_gradient_magnitude_picks_the_fill_on_a_log_scale():
    def fill(dot, node):
        return re.search(r'<TABLE[^>]* BGCOLOR="(#\w+)"', node_statement(dot, node)).group(1)

    # d/dx of x·a is a: gradients of 1e-9, 1, 1e6 and exactly 0
    t = tg.trace(lambda a, b, c, d: tg.name(a * 1e-9 + b + c * 1e6 + d * 0.0, "y"),
                 a=1.0, b=1.0, c=1.0, d=1.0)
    dot = to_dot(t)
    fills = [fill(dot, name) for name in "abcd"]
    assert len(set(fills)) == 4
    assert fills[3] == "#e0e0e0"  # zero has its own grey
    brightness = [sum(int(f[i:i + 2], 16) for i in (1, 3, 5)) for f in fills[:3]]
    assert brightness[0] > brightness[1] > brightness[2]  # vanishing pale, exploding dark


def test_nan_and_inf_are_unmistakable():
    with pytest.warns(tg.NonFiniteWarning), np.errstate(invalid="ignore"):
        t = tg.trace(lambda x: tg.name(np.sqrt(x) * 2.0, "y"), x=-1.0)
    dot = to_dot(t)
    statement = node_statement(dot, "y")
    assert "⚠ nan" in label_of(statement)
    assert 'COLOR="#ff2a2a"' in statement  # red border
    # d sqrt(x)/dx = 1/(2·sqrt(x)) is NaN at x = −1, and so is what flows back
    (edge,) = edge_statements(dot, "x", "n1")
    assert label_of(edge).startswith("⚠ NaN/inf / ∂(√x)/∂x = 1/(2·√x) = nan / back: 2 × nan = nan") and 'color="#ff2a2a"' in edge
    assert 'BGCOLOR="#ff2a2a"' in node_statement(dot, "x")  # its gradient is NaN


def test_marks_highlight_wrong_steps(seed_trace):
    marks = {("G", "S", 0): {"status": "wrong", "note": "wrote S instead of S(1 − S)"},
             "A": {"status": "correct", "note": ""}}
    dot = to_dot(seed_trace, marks=marks)
    (edge,) = edge_statements(dot, "G", "S")
    assert label_of(edge).startswith("✗ WRONG: wrote S instead of S(1 − S) / ∂S/∂G")
    assert 'color="#d7191c"' in edge and "penwidth=5" in edge
    assert "✓ correct" in label_of(node_statement(dot, "A"))
    assert "✗ WRONG" in label_of(node_statement(dot, "~legend"))


@pytest.mark.parametrize("options, message", [
    ({"show": "everything"}, "not a display mode"),
    ({"rankdir": "RL"}, "not a direction"),
    ({"precision": 0}, "significant digits"),
    ({"max_nodes": 2}, "node budget"),
    ({"legend": "no"}, "True or False"),
    ({"path": ("x1",)}, "pair of node ids"),
    ({"expand": [1]}, "scope names"),
    ({"marks": {"S": {"status": "bad"}}}, "needs a status"),
    ({"marks": {("G", "S"): {"status": "wrong"}}}, "neither a node id"),
    ({"colour": "red"}, "unknown diagram option: colour"),
])
def test_bad_options_say_what_and_how(seed_trace, options, message):
    with pytest.raises(DiagramOptionError, match=re.escape(message)) as err:
        build_diagram(seed_trace, **options)
    assert err.value.hint or "unknown" not in message


@pytest.mark.parametrize("options, message", [
    ({"focus": "Sx"}, "no node 'Sx'"),
    ({"path": ("Loss", "w1")}, "'w1' does not depend on 'Loss'"),
    ({"marks": {("G", "A", 0): {"status": "wrong"}}}, "no edge"),
])
def test_options_naming_missing_nodes_fail_clearly(seed_trace, options, message):
    with pytest.raises(DiagramOptionError, match=re.escape(message)) as err:
        build_diagram(seed_trace, **options)
    assert err.value.hint


def test_focus_suggests_close_names(seed_trace):
    with pytest.raises(DiagramOptionError, match="did you mean 'S'"):
        build_diagram(seed_trace, focus="s")


def test_options_object_and_overrides_combine(seed_trace):
    base = DiagramOptions(show="grads", precision=3)
    assert to_dot(seed_trace, base, legend=False) == to_dot(
        seed_trace, show="grads", precision=3, legend=False)
    assert base.show == "grads"  # overrides never change the options object


# --------------------------------------------------------------------------- arrays


@pytest.fixture(scope="module")
def mlp_trace():
    rng = np.random.default_rng(0)

    def mlp(W1, b1, W2, b2, X, Y):
        with tg.scope("layer1"):
            h = tg.name(np.tanh(X @ W1 + b1), "h")
        with tg.scope("layer2"):
            logits = tg.name(h @ W2 + b2, "logits")
        return tg.name(tg.softmax_cross_entropy(logits, Y), "loss")

    X = rng.normal(size=(8, 4))
    Y = np.eye(3)[rng.integers(0, 3, 8)]
    return tg.trace(mlp, W1=rng.normal(size=(4, 5)), b1=np.zeros(5),
                    W2=rng.normal(size=(5, 3)), b2=np.array([0.1, -0.2, 0.0]),
                    X=tg.constant(X), Y=tg.constant(Y))


def test_arrays_show_shape_dtype_and_summary(mlp_trace):
    dot = to_dot(mlp_trace)
    h = mlp_trace["h"].value
    grad = mlp_trace["h"].grad
    text = label_of(node_statement(dot, "h"))
    assert "8×5 float64" in text
    assert f"min {n(h.min())} · max {n(h.max())}" in text
    assert f"mean {n(h.mean())} · ‖·‖ {n(np.linalg.norm(h))}" in text
    assert f"∂loss/∂h min {n(grad.min())} · max {n(grad.max())}" in text


def test_small_arrays_are_written_out_and_tooltips_list_values(mlp_trace):
    dot = to_dot(mlp_trace)
    statement = node_statement(dot, "b2")
    assert "value [0.1, −0.2, 0]" in label_of(statement)
    tooltip = html.unescape(re.search(r'tooltip="([^"]*)"', node_statement(dot, "W1")).group(1))
    W1 = mlp_trace["W1"].value
    rows = [line.strip() for line in tooltip.split("\n")]
    assert "[" + ", ".join(n(v) for v in W1[2]) + "]" in rows


def test_array_edges_show_formula_and_contribution_norm(mlp_trace):
    dot = to_dot(mlp_trace)
    (edge,) = edge_statements(dot, "W1", "n4")
    contribution = mlp_trace.graph.edges["W1", "n4", 1]["contribution"]
    X = mlp_trace.constants["X"]
    upstream = mlp_trace.graph.nodes["n4"]["grad"]
    np.testing.assert_allclose(contribution, X.T @ upstream)  # what the formula says
    assert label_of(edge) == f"back = Xᵀ @ ḡ / back: ‖·‖ {n(np.linalg.norm(X.T @ upstream))}"


def test_named_array_constants_are_boxes_and_scopes_are_clusters(mlp_trace):
    dot = to_dot(mlp_trace)
    assert label_of(node_statement(dot, "X")).startswith("X constant 8×4 float64")
    assert 'STYLE="dashed"' in node_statement(dot, "X")
    assert "style=dashed" in edge_statements(dot, "X", "n4")[0]
    assert re.search(r"subgraph cluster_0 \{ label=<<I>layer1</I>>", dot)
    no_constants = to_dot(mlp_trace, show_constants=False)
    assert '"X" [' not in no_constants
    assert "2 constants not drawn" in build_diagram(mlp_trace, show_constants=False).notes[0]


# --------------------------------------------------------------------------- sources


def test_a_graph_read_back_from_json_draws_the_same_diagram(seed_trace, mlp_trace):
    for trace in (seed_trace, mlp_trace):
        graph = from_json(to_json(trace.graph))
        assert to_dot(graph) == to_dot(trace)


def test_json_nan_strings_are_read_as_nan():
    with pytest.warns(tg.NonFiniteWarning), np.errstate(invalid="ignore"):
        t = tg.trace(lambda x: np.sum(np.log(x)), x=np.array([1.0, -1.0]))
    graph = from_json(to_json(t.graph))
    assert "⚠ min 0 · max 0" not in to_dot(graph)
    assert to_dot(graph) == to_dot(t)


def test_diagram_reports_counts_and_not_differentiated_traces():
    t = tg.trace(lambda x: x * 2.0, x=np.ones(3))  # array output: no gradients yet
    d = build_diagram(t)
    assert isinstance(d, Diagram) and (d.node_count, d.edge_count) == (2, 1)
    assert any("t.backward(seed)" in note for note in d.notes)
    assert "∂" not in label_of(node_statement(d.dot, "x"))
    t.backward(np.ones(3))
    assert not build_diagram(t).notes


def test_trace_methods_use_the_diagram(seed_trace):
    assert seed_trace.to_dot(show="local") == to_dot(seed_trace, show="local")


def test_wrong_source_type_is_explained():
    with pytest.raises(TypeError, match="Trace or its graph"):
        to_dot({"not": "a trace"})


# --------------------------------------------------------------------------- determinism


def test_same_trace_gives_byte_identical_dot(seed_trace, mlp_trace):
    assert to_dot(seed_trace) == to_dot(seed_trace)
    assert to_dot(tg.trace(neuron, **SEED)) == to_dot(seed_trace)
    assert to_dot(mlp_trace, max_nodes=6) == to_dot(mlp_trace, max_nodes=6)


def test_dot_is_identical_across_processes_and_hash_seeds(tmp_path):
    script = tmp_path / "make_dot.py"
    script.write_text(
        "import sys, numpy as np, tracegraph as tg\n"
        "def f(x, W):\n"
        "    with tg.scope('a'):\n"
        "        h = np.tanh(x @ W)\n"
        "    for i in range(40):\n"
        "        h = np.tanh(h * 0.5 + 0.1)\n"
        "    return tg.name(np.sum(h * h), 'loss')\n"
        "t = tg.trace(f, x=np.ones((2, 3)), W=np.full((3, 2), 0.5))\n"
        "sys.stdout.write(t.to_dot(max_nodes=12, expand={'a'}))\n")
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outputs.add(subprocess.run([sys.executable, str(script)], capture_output=True,
                                   check=True, env=env, cwd=tmp_path).stdout)
    assert len(outputs) == 1
    (dot,) = outputs
    assert b"repeated steps" in dot and str(tmp_path).encode() not in dot


def test_snapshot_of_a_two_node_diagram():
    t = tg.trace(lambda x: tg.name(x * x, "y"), x=3.0)
    assert to_dot(t, legend=False) == SNAPSHOT_SQUARE


# Reviewed by hand: x = 3, y = x·x = 9; each use of x gets local ∂y/∂x = x = 3 and
# sends back 1 × 3; x's gradient 6 is their sum.
SNAPSHOT_SQUARE = '''\
digraph tracegraph {
  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.3, \
ranksep=0.5, pad=0.25, bgcolor="white", ordering=in];
  node [shape=plain, fontname="Helvetica", fontsize=10];
  edge [fontname="Helvetica", fontsize=9, color="#4d4d4d", arrowsize=0.7, \
decorate=true];
  "x" [label=<<TABLE BORDER="2" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" \
COLOR="#1b7837" BGCOLOR="#33a8c2" STYLE="rounded"><TR><TD ALIGN="LEFT" BGCOLOR="#d9f0d3">\
<FONT POINT-SIZE="12"><B>x</B></FONT></TD><TD ALIGN="RIGHT" BGCOLOR="#d9f0d3">\
<FONT POINT-SIZE="9">input</FONT></TD></TR><TR><TD ALIGN="LEFT">value</TD>\
<TD ALIGN="RIGHT">3</TD></TR><TR><TD ALIGN="LEFT">∂y/∂x</TD><TD ALIGN="RIGHT">6</TD></TR>\
<TR><TD ALIGN="LEFT" COLSPAN="2">Σ back over 2 edges: 3 + 3 = 6</TD></TR></TABLE>> \
tooltip="x (input, op input)&#10;value:&#10;  3&#10;∂y/∂x:&#10;  6"];
  "y" [label=<<TABLE BORDER="3" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" \
COLOR="#b35806" BGCOLOR="#41b6c4" STYLE="rounded"><TR><TD ALIGN="LEFT" BGCOLOR="#fee0b6">\
<FONT POINT-SIZE="12"><B>y</B></FONT></TD><TD ALIGN="RIGHT" BGCOLOR="#fee0b6">\
<FONT POINT-SIZE="9">output</FONT></TD></TR><TR><TD ALIGN="LEFT" COLSPAN="2">y = x·x</TD>\
</TR><TR><TD ALIGN="LEFT">value</TD><TD ALIGN="RIGHT">9</TD></TR><TR><TD ALIGN="LEFT">∂y/∂y\
</TD><TD ALIGN="RIGHT">1</TD></TR></TABLE>> tooltip="y (output, op multiply)&#10;y = x·x&#10;\
value:&#10;  9&#10;∂y/∂y:&#10;  1"];
  "x" -> "y" [label=<∂y/∂x (1 of 2) = x = 3<BR ALIGN="LEFT"/>back: 1 × 3 = 3\
<BR ALIGN="LEFT"/>>, tooltip="x → y (argument 0)&#10;  local ∂y/∂x: x&#10;  = 3&#10;  \
back (upstream × local):&#10;    3"];
  "x" -> "y" [label=<∂y/∂x (2 of 2) = x = 3<BR ALIGN="LEFT"/>back: 1 × 3 = 3\
<BR ALIGN="LEFT"/>>, tooltip="x → y (argument 1)&#10;  local ∂y/∂x: x&#10;  = 3&#10;  \
back (upstream × local):&#10;    3"];
}
'''


def test_focus_and_path_cannot_be_combined_and_errors_speak_pythons_words():
    t = tg.trace(lambda x: tg.name(x * 2.0, "y") * 3.0, x=1.0)
    with pytest.raises(DiagramOptionError,
                       match=r"focus='y' and path=\('x', 'y'\) cannot be combined"):
        t.to_dot(focus="y", path=("x", "y"))
    with pytest.raises(DiagramOptionError, match=r"^path=\('y', 'x'\): 'x' does not"):
        t.to_dot(path=("y", "x"))


def test_writing_a_diagram_follows_a_symlink_and_keeps_the_files_permissions(tmp_path):
    t = tg.trace(lambda x: x * 2.0, x=1.0)
    target = tmp_path / "real.dot"
    target.write_text("old")
    os.chmod(target, 0o640)
    link = tmp_path / "link.dot"
    link.symlink_to(target)
    t.render(str(link))
    assert link.is_symlink() and "digraph" in target.read_text()
    assert oct(target.stat().st_mode & 0o777) == oct(0o640)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.dot", "real.dot"]


def test_every_check_mark_reads_with_enough_contrast():
    from tracegraph.diagram.style import MARK_STYLES, NONFINITE_EDGE

    def luminance(colour):
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def contrast(a, b):
        low, high = sorted([luminance(a), luminance(b)])
        return (high + 0.05) / (low + 0.05)

    for status, mark in MARK_STYLES.items():
        text = "#ffffff" if mark.text == "white" else mark.text
        assert contrast(mark.colour, text) >= 4.5, status  # WCAG AA for text
    for status, mark in [*MARK_STYLES.items(), ("nan", NONFINITE_EDGE)]:
        assert contrast(mark.label_colour, "#ffffff") >= 4.5, status  # edge labels
