"""Second derivatives from the command line: ``tracegraph hessian`` and ``render --backward``."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import tracegraph as tg
from tracegraph.calculus import name_backward, trace_backward
from tracegraph.cli import app
from tracegraph.diagram.labels import Labels
from tracegraph.diagram.options import DiagramOptions
from tracegraph.graph import build_graph

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NEURON = EXAMPLES / "neuron.py"
CRITICAL = EXAMPLES / "critical_points.py"


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def matrix_of(markdown: str) -> tuple[list[str], np.ndarray]:
    """The row labels and numbers of the Hessian printed by ``hessian --markdown``."""
    rows = [line for line in markdown.splitlines() if line.startswith("| ")][1:]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    return [row[0] for row in cells], np.array([[float(c) for c in row[1:]] for row in cells])


def line_starting(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


# --------------------------------------------------------------------------- hessian


@pytest.mark.parametrize("function, matrix, eigenvalues, kind", [
    (None, [[2, 0], [0, -2]], "-2, 2", "saddle point"),             # the file's default: saddle
    ("bowl", [[2, 0], [0, 2]], "2, 2", "minimum"),
    ("dome", [[-2, 0], [0, -4]], "-4, -2", "maximum"),
    ("monkey_saddle", [[0, 0], [0, 0]], "0, 0", "inconclusive"),
    ("flat_saddle", [[0, 0], [0, 0]], "0, 0", "inconclusive"),
])
def test_hessian_classifies_the_critical_points_of_seed_004(function, matrix, eigenvalues, kind):
    args = ["hessian", CRITICAL, "--markdown"] + (["--function", function] if function else [])
    result = run(*args)
    assert result.exit_code == 0, result.output
    labels, found = matrix_of(result.stdout)
    assert labels == ["x", "y"]
    np.testing.assert_array_equal(found, matrix)
    assert f"eigenvalues: {eigenvalues}\n" in result.stdout
    assert line_starting(result.stdout, "gradient norm:").endswith("= 0")
    assert line_starting(result.stdout, "classification:").startswith(f"classification: {kind} (")


def test_hessian_away_from_a_critical_point_says_so():
    result = run("hessian", CRITICAL, "--function", "bowl", "--set", "x=1", "--set", "y=-2")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Hessian of bowl at x = 1, y = -2 (bowl = 5)")
    assert line_starting(result.stdout, "gradient norm:") == \
        f"gradient norm: ‖∇bowl‖ = {math.hypot(2, 4):.4g}"
    assert "classification: not a critical point (the gradient is not zero" in result.stdout


def test_hessian_where_the_derivative_is_nan_refuses_to_classify(tmp_path):
    path = write(tmp_path, "root.py", """\
        import numpy as np
        x = -1.0
        y = 0.0
        f = np.sqrt(x) + y * y
    """)
    result = run("hessian", path)
    assert result.exit_code == 4, result.output
    # LAPACK's eigenvalues of [[nan, 0], [0, 2]] were printed as 0, 0, and the NaN gradient
    # passed for zero: "inconclusive (the gradient is zero ...)"
    assert "eigenvalues: nan, nan\n" in result.stdout
    assert "classification:" not in result.stdout
    assert "cannot classify this point: the gradient is not finite (∂/∂x = nan)" in result.output


def test_hessian_of_the_neuron_is_the_outer_product_of_its_inputs():
    # Loss(G) = (gold − σ(G))², G = w·x: the Hessian in w is Loss''(G)·x xᵀ (rank one).
    result = run("hessian", NEURON, "--wrt", "w1,w2,w3", "--markdown", "--precision", "12")
    assert result.exit_code == 0, result.output
    x, w, gold = np.array([1.0, 2.0, 0.5]), np.array([0.5, -0.3, 0.8]), 1.0
    s = 1 / (1 + math.exp(-w @ x))
    second = 2 * (s * (1 - s)) ** 2 - 2 * (gold - s) * s * (1 - s) * (1 - 2 * s)
    labels, found = matrix_of(result.stdout)
    assert labels == ["w1", "w2", "w3"]
    np.testing.assert_allclose(found, second * np.outer(x, x), rtol=1e-10)
    gradient = -2 * (gold - s) * s * (1 - s) * x
    norm = float(line_starting(result.stdout, "gradient norm:").rsplit("= ", 1)[1])
    assert norm == pytest.approx(np.linalg.norm(gradient), rel=1e-10)
    assert "classification: not a critical point" in result.stdout


def test_hessian_labels_array_elements_and_summarises_big_matrices(tmp_path):
    path = write(tmp_path, "quad.py", """\
        import numpy as np
        w = np.array([1.0, -1.0, 0.5])
        loss = np.sum(w ** 2) + w[0] * w[1]
    """)
    result = run("hessian", path, "--markdown")
    assert result.exit_code == 0, result.output
    labels, found = matrix_of(result.stdout)
    assert labels == ["w[0]", "w[1]", "w[2]"]
    np.testing.assert_array_equal(found, [[2, 1, 0], [1, 2, 0], [0, 0, 2]])
    big = run("hessian", EXAMPLES / "mlp.py")
    assert big.exit_code == 0, big.output
    assert "50×50: too big to print (--all prints it" in big.stdout
    assert "… 26 more …" in line_starting(big.stdout, "eigenvalues:")
    everything = run("hessian", EXAMPLES / "mlp.py", "--all", "--markdown")
    labels, found = matrix_of(everything.stdout)
    assert len(labels) == 50 and labels[:2] == ["X[0,0]", "X[0,1]"]
    np.testing.assert_allclose(found, found.T, atol=1e-12)


def test_hessian_errors_name_the_option():
    error = run("hessian", NEURON, "--wrt", "w9")
    assert error.exit_code == 2 and "--wrt w9: 'w9' is not an input" in error.stderr
    array = run("hessian", EXAMPLES / "mlp.py", "--output", "logits")
    assert array.exit_code == 4 and "has shape (4, 3): it has no gradient" in array.stderr


# --------------------------------------------------------------------------- render --backward


def test_the_backward_pass_reads_like_the_chain_rule():
    # Nodes named after what they are (∂S/∂(x·2), not multiply#8), values on every node,
    # and the same local-derivative edge labels as any diagram.  Reviewed by hand: at
    # x = 0.5, S = σ(1) = 0.7311 and dS/dx = 2·S·(1 − S) = 0.3932.
    t = trace_backward(lambda x: tg.name(tg.sigmoid(x * 2.0), "S"), "x", x=0.5)
    graph = build_graph(t.tape)
    labels = Labels(graph, DiagramOptions())
    nodes = {node: labels.node_lines(node) for node in graph if not node.startswith("c")}
    edges = {edge: labels.edge_lines(edge) for edge in graph.edges(keys=True)
             if not edge[0].startswith("c")}
    assert nodes == SNAPSHOT_NODES
    assert edges == SNAPSHOT_EDGES
    assert t.value == pytest.approx(2 * 0.7310585786300049 * (1 - 0.7310585786300049))


SNAPSHOT_NODES = {
    "x": [("value", "0.5")],
    "n1": [("value", "1")],
    "S": [("S = σ(x·2)", ""), ("value", "0.7311")],
    "n3": [("value", "0.7311")],
    "n4": [("value", "0.2689")],
    "∂S/∂(x·2)": [("∂S/∂(x·2) = (1·S)·(1 − S)", ""), ("value", "0.1966")],
    "∂S/∂x": [("∂S/∂x = (∂S/∂(x·2))·2", ""), ("value", "0.3932")],
}
SNAPSHOT_EDGES = {
    ("x", "n1", 0): ["∂(x·2)/∂x = 2"],
    ("n1", "S", 0): ["∂S/∂(x·2) = S·(1 − S) = 0.1966"],
    ("S", "n3", 1): ["∂(1·S)/∂S = 1"],
    ("S", "n4", 1): ["∂(1 − S)/∂S = −1"],
    ("n3", "∂S/∂(x·2)", 0): ["∂(∂S/∂(x·2))/∂(1·S) = 1 − S = 0.2689"],
    ("n4", "∂S/∂(x·2)", 1): ["∂(∂S/∂(x·2))/∂(1 − S) = 1·S = 0.7311"],
    ("∂S/∂(x·2)", "∂S/∂x", 0): ["∂(∂S/∂x)/∂(∂S/∂(x·2)) = 2"],
}


def test_render_backward_draws_the_gradient_computation_of_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("render", NEURON, "--backward", "-f", "dot")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("wrote neuron_backward.dot: the backward pass of Loss, ")
    assert "  ∂Loss/∂w1 = -0.2081" in result.stdout
    dot = (tmp_path / "neuron_backward.dot").read_text()
    for node in ("∂Loss/∂S", "∂Loss/∂G", "∂Loss/∂(gold − S)", "∂Loss/∂w1", "∇Loss", ">S<",
                 ">G<"):
        assert node in dot
    assert "∂(∂Loss/∂w1)/∂(∂Loss/∂G) = x1 = 1" in dot  # a backward edge's local derivative
    assert "The backward pass of Loss" in dot
    assert "∂∇Loss/∂" not in dot and "box colour" not in dot  # values, no gradients
    assert "no gradients yet" not in dot and "no gradients yet" not in result.stderr
    one = run("render", NEURON, "--backward", "--wrt", "w1", "-o", tmp_path / "w1.dot")
    assert one.exit_code == 0, one.output
    w1 = (tmp_path / "w1.dot").read_text()
    assert "∂Loss/∂w1" in w1 and "∂Loss/∂x1" not in w1 and "∇Loss" not in w1


def test_render_backward_takes_the_diagram_options(tmp_path):
    out = tmp_path / "b.dot"
    result = run("render", NEURON, "--backward", "--focus", "∂Loss/∂G", "-o", out)
    assert result.exit_code == 0, result.output
    assert "only" in result.stderr or "focus" in result.stderr
    assert "∂Loss/∂w1" not in out.read_text()
    error = run("render", NEURON, "--backward", "--show", "grads", "-o", out)
    assert error.exit_code == 2 and "--backward --show grads" in error.stderr
    missing = run("render", NEURON, "--backward", "--focus", "∂Loss/∂Q", "-o", out)
    assert missing.exit_code == 2 and "did you mean" in missing.stderr


def test_render_backward_in_function_mode(tmp_path):
    out = tmp_path / "m.dot"
    result = run("render", CRITICAL, "--function", "monkey_saddle", "--set", "x=1",
                 "--backward", "-o", out)
    assert result.exit_code == 0, result.output
    assert "∇monkey_saddle" in out.read_text()
    assert "∂monkey_saddle/∂x = 3" in result.stdout  # 3x² − 3y² at (1, 0)


@pytest.mark.needs_dot
def test_render_backward_as_an_image(tmp_path):
    out = tmp_path / "neuron_backward.svg"
    result = run("render", NEURON, "--backward", "-o", out)
    assert result.exit_code == 0, result.output
    assert "∂Loss/∂S" in out.read_text(encoding="utf-8")


def test_name_backward_keeps_the_names_of_the_enclosing_trace():
    def inner(x):
        tracer = tg.Tracer(nested=True)
        with tracer:
            x = tracer.input("x", x)
            traced = name_backward(tracer.finish(tg.name(x * x, "y")))
        return traced.grads["x"]
    t = tg.trace(lambda x: inner(tg.name(x * 3.0, "mine")), x=2.0)
    names = {data["name"] for _, data in t.graph.nodes(data=True)}
    # The value given to the inner trace keeps its own name (not the inner "x").
    assert names - {None} == {"x", "mine", "∂y/∂x"}
    assert t.value == 12.0


def test_second_derivatives_of_a_file_that_traces_itself_are_refused_clearly(tmp_path):
    path = write(tmp_path, "self.py", """\
        import tracegraph as tg
        t = tg.trace(lambda x, y: x ** 2 * y, x=1.0, y=2.0)
    """)
    for args in (["hessian", path], ["render", path, "--backward", "-o", tmp_path / "b.dot"]):
        result = run(*args)
        assert result.exit_code == 2, result.output
        assert "traces itself (it calls tracegraph.trace), so tracegraph cannot run it again" \
            in result.stderr
        assert "Traceback" not in result.output


def test_a_file_reading_standard_input_is_told_why_it_reads_it_twice(tmp_path):
    path = write(tmp_path, "ask.py", "x = float(input('x? '))\ny = x ** 3\n")
    result = CliRunner().invoke(app, ["hessian", str(path)], input="2\n")
    assert result.exit_code == 3, result.output
    assert "EOFError" in result.stderr
    assert "second derivatives run the file once more" in result.stderr
    twice = CliRunner().invoke(app, ["hessian", str(path)], input="2\n2\n")
    assert twice.exit_code == 0, twice.output
    assert "| x | 12 |" in CliRunner().invoke(app, ["hessian", str(path), "--markdown"],
                                             input="2\n2\n").stdout  # 6x at x = 2


def test_hessian_keeps_the_files_prints_off_stdout(tmp_path):
    path = write(tmp_path, "talks.py", """
        x = 1.0
        y = 2.0
        f = x ** 2 * y
        print("f is", f)
    """)
    result = run("hessian", path, "--markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Hessian of f at x = 1, y = 2")
    assert "f is" not in result.stdout
    assert result.stderr.count("f is") == 1  # as python shows it: the second run is silent


def test_hessian_wrt_makes_an_int_or_a_default_argument_an_input_as_explain_does(tmp_path):
    power = write(tmp_path, "power.py", "a = 1.5\nk = 3\nf = a ** k\n")
    done = run("hessian", power, "--wrt", "k", "--markdown")
    assert done.exit_code == 0, done.output
    labels, matrix = matrix_of(done.stdout)
    assert labels == ["k"]
    assert matrix[0, 0] == pytest.approx(1.5 ** 3 * math.log(1.5) ** 2, rel=1e-3)
    defaults = write(tmp_path, "defaults.py", """
        inputs = {"a": 1.0, "b": 2.0}
        def f(a, b, k=3):
            return a ** k * b
    """)
    done = run("hessian", defaults, "--function", "f", "--wrt", "a,k", "--markdown")
    assert done.exit_code == 0, done.output
    labels, matrix = matrix_of(done.stdout)
    # f = a^k b at a = 1, b = 2, k = 3: f_aa = k(k-1)a^(k-2) b, f_ak = b a^(k-1)(1 + k ln a)
    assert labels == ["a", "k"]
    np.testing.assert_allclose(matrix, [[12.0, 2.0], [2.0, 0.0]], atol=1e-3)


def test_hessian_of_a_function_with_nothing_to_differentiate_is_refused(tmp_path):
    path = write(tmp_path, "none.py", "def f(a=1.0, b=2.0):\n    return a * b\n")
    done = run("hessian", path, "--function", "f")
    assert done.exit_code == 4
    assert "nothing to differentiate" in done.stderr
    assert "inconclusive" not in done.stdout


def test_render_tangent_of_an_array_input_does_not_call_the_sum_its_derivative(tmp_path):
    path = write(tmp_path, "w.py", """
        import numpy as np
        W = np.array([[1.0, 2.0], [0.5, 1.5]])
        loss = np.sum(np.tanh(W * 0.3) ** 2)
    """)
    done = run("render", path, "--tangent", "W", "-f", "dot", "-o", tmp_path / "w.dot")
    assert done.exit_code == 0, done.output
    line = next(line for line in done.stdout.splitlines() if line.startswith("forward mode"))
    assert line.startswith("forward mode: the derivative of loss with every element of W "
                           "moving at speed 1 = ")
