"""Every example runs with plain python, traces to the right values and gradients (computed
here by hand, independently of tracegraph) and renders cleanly."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tracegraph.cli import app
from tracegraph.script import load_script

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MINE = ["neuron", "linear_regression", "logistic_regression", "mlp", "kl_divergence",
        "mds_cities", "rosenbrock"]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("name", MINE)
def test_runs_with_plain_python(name):
    done = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True,
                          text=True, encoding="utf-8", timeout=120, cwd=EXAMPLES.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


@pytest.mark.parametrize("name", MINE)
def test_renders_cleanly_without_graphviz(tmp_path, name):
    out = tmp_path / f"{name}.dot"
    result = CliRunner().invoke(app, ["render", str(EXAMPLES / f"{name}.py"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    assert out.read_text(encoding="utf-8").startswith("digraph")


@pytest.mark.needs_dot
@pytest.mark.parametrize("name", MINE)
def test_renders_to_svg(tmp_path, name):
    out = tmp_path / f"{name}.svg"
    result = CliRunner().invoke(app, ["render", str(EXAMPLES / f"{name}.py"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "</svg>" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [["explain"], ["paths", "--from", "{first}"], ["export"]])
@pytest.mark.parametrize("name", MINE)
def test_every_command_on_every_example(name, command):
    path = EXAMPLES / f"{name}.py"
    first = next(iter(load_script(path).inputs))
    args = [part.format(first=first) for part in command]
    result = CliRunner().invoke(app, [args[0], str(path), *args[1:]])
    assert result.exit_code == 0, result.output


def test_neuron():
    result = load_script(EXAMPLES / "neuron.py")
    t = result.trace
    x1, x2, x3, w1, w2, w3, gold = 1.0, 2.0, 0.5, 0.5, -0.3, 0.8, 1.0
    g = w1 * x1 + w2 * x2 + w3 * x3
    s = 1 / (1 + math.exp(-g))
    assert [t[n].value for n in ("A", "B", "C")] == [0.5, pytest.approx(-0.6), 0.4]
    assert t["G"].value == pytest.approx(g) and t["S"].value == pytest.approx(s)
    assert t.value == pytest.approx((gold - s) ** 2)
    dloss_dg = -2 * (gold - s) * s * (1 - s)
    assert t.grads == pytest.approx({"x1": dloss_dg * w1, "x2": dloss_dg * w2,
                                     "x3": dloss_dg * w3, "w1": dloss_dg * x1,
                                     "w2": dloss_dg * x2, "w3": dloss_dg * x3,
                                     "gold": 2 * (gold - s)})
    assert {"A", "B", "C", "G", "S", "Loss"} <= set(t.graph)


def test_linear_regression_and_its_update_rule():
    t = load_script(EXAMPLES / "linear_regression.py").trace
    pred = 0.5 * 1.0 + -0.2 * 2.0 + 0.1 * 3.0
    assert t.value == pytest.approx((3.0 - pred) ** 2)
    dloss_dparam = -2 * (3.0 - pred) * 2.0
    assert t.grads["param"] == pytest.approx(dloss_dparam)
    done = subprocess.run([sys.executable, str(EXAMPLES / "linear_regression.py")],
                          capture_output=True, text=True, timeout=120)
    lines = done.stdout.splitlines()
    assert lines[1].startswith(f"step 1: param = {-0.2 - 0.001 * dloss_dparam:.5f}")
    losses = [float(line.split("Loss = ")[1].split()[0]) for line in lines]
    assert losses == sorted(losses, reverse=True) and len(losses) == 5


def test_logistic_regression_gradient_is_x_transpose_p_minus_y():
    result = load_script(EXAMPLES / "logistic_regression.py")
    X, w, b = result.inputs["X"], result.inputs["w"], result.inputs["b"]
    y = np.array([1, 0, 0, 1])
    p = sigmoid(X @ w + b)
    assert result.trace.value == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    np.testing.assert_allclose(result.trace.grads["w"], X.T @ (p - y) / 4)
    assert result.trace.grads["b"] == pytest.approx(np.mean(p - y))
    assert "y" not in result.trace.grads  # integer labels are data


def test_mlp_gradients_by_hand():
    result = load_script(EXAMPLES / "mlp.py")
    v = result.inputs
    labels = np.array([0, 2, 1, 2])
    pre = v["X"] @ v["W1"] + v["b1"]
    h1 = np.maximum(pre, 0)
    logits = h1 @ v["W2"] + v["b2"]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    onehot = np.eye(3)[labels]
    assert result.trace.value == pytest.approx(-np.mean(np.log(probs[np.arange(4), labels])))
    dlogits = (probs - onehot) / 4
    grads = result.trace.grads
    np.testing.assert_allclose(grads["b2"], dlogits.sum(axis=0))
    np.testing.assert_allclose(grads["W2"], h1.T @ dlogits)
    dpre = (dlogits @ v["W2"].T) * (pre > 0)
    np.testing.assert_allclose(grads["W1"], v["X"].T @ dpre)
    assert {"h1", "logits", "loss", "out"} <= set(result.trace.graph)


def test_kl_divergence_gradient_is_q_minus_p():
    result = load_script(EXAMPLES / "kl_divergence.py")
    p, logits = result.inputs["p"], result.inputs["logits"]
    q = np.exp(logits) / np.exp(logits).sum()
    assert result.trace.value == pytest.approx(np.sum(p * np.log(p / q)))
    np.testing.assert_allclose(result.trace.grads["logits"], q - p, atol=1e-12)
    np.testing.assert_allclose(result.trace.grads["p"], np.log(p / q) + 1)


def read_cities():
    with open(EXAMPLES / "data" / "european_cities.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def test_the_cities_data():
    cities = read_cities()
    assert len(cities) == 34
    assert len({c["name"] for c in cities}) == 34
    for city in cities:
        assert 35 < float(city["latitude"]) < 61 and -10 < float(city["longitude"]) < 60
        assert int(city["population"]) > 1_000_000
    assert {"Moscow", "London", "Istanbul", "Berlin", "Madrid", "Paris"} <= {
        c["name"] for c in cities}


def test_mds_distances_stress_and_gradient():
    result = load_script(EXAMPLES / "mds_cities.py")
    D, X = result.inputs["D"], result.inputs["X"]
    names = [c["name"] for c in read_cities()]
    km = {(a, b): 1000 * D[names.index(a), names.index(b)] for a, b in [
        ("London", "Paris"), ("Moscow", "Saint Petersburg"), ("Madrid", "Moscow")]}
    assert km[("London", "Paris")] == pytest.approx(344, abs=5)
    assert km[("Moscow", "Saint Petersburg")] == pytest.approx(634, abs=5)
    assert km[("Madrid", "Moscow")] == pytest.approx(3440, abs=30)
    np.testing.assert_allclose(D, D.T)

    def stress(layout):
        return sum((D[m, n] - np.hypot(*(layout[m] - layout[n]))) ** 2
                   for m in range(34) for n in range(m + 1, 34))

    assert X.shape == (34, 2)
    assert result.trace.value == pytest.approx(stress(X))
    grad = result.trace.grads["X"]
    for m, k in [(0, 0), (7, 1), (33, 0)]:
        step = np.zeros_like(X)
        step[m, k] = 1e-6
        numeric = (stress(X + step) - stress(X - step)) / 2e-6
        assert grad[m, k] == pytest.approx(numeric, rel=1e-5)


def _mds_module():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import mds_cities
    finally:
        sys.path.remove(str(EXAMPLES))
    return mds_cities


def test_mds_takes_the_number_of_cities():
    mds = _mds_module()
    names, D, X = mds.problem(6)
    assert names == ["Istanbul", "Moscow", "London", "Saint Petersburg", "Berlin", "Madrid"]
    assert D.shape == (6, 6) and X.shape == (6, 2)
    full = mds.problem(34)
    np.testing.assert_array_equal(full[1], load_script(EXAMPLES / "mds_cities.py").inputs["D"])
    done = subprocess.run([sys.executable, str(EXAMPLES / "mds_cities.py"), "15"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("15 cities, armijo") and len(done.stdout.splitlines()) == 16


@pytest.mark.slow
def test_seed_003_table_gap_grows_with_dimension(tmp_path):
    """The 6/15/34 table: GD's evaluations to 99 % stay small, Nelder–Mead's grow."""
    gif = tmp_path / "mds.gif"
    done = subprocess.run([sys.executable, str(EXAMPLES / "mds_cities.py"), "--table", str(gif)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[2:5]]
    assert [row[0] for row in rows] == ["6", "15", "34"]
    count = [[None if c == "—" else int(c.replace(",", "")) for c in row[2:5]] for row in rows]
    gradient = [row[0] for row in count]
    assert all(g is not None and g < 500 for g in gradient)
    adaptive = [row[2] for row in count]
    assert all(a is not None for a in adaptive) and adaptive[0] < adaptive[1] < adaptive[2]
    gaps = [a - g for a, g in zip(adaptive, gradient)]
    assert gaps[0] < gaps[1] < gaps[2]  # the gap grows with dimension
    assert adaptive[2] / gradient[2] > 3 * adaptive[0] / gradient[0]
    assert count[0][1] is not None and count[2][1] is None  # plain Nelder–Mead gives out
    assert gif.stat().st_size < 300_000


def test_seed_001_optimizers_which_converge_which_oscillate(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / "optimizers.py"),
                           str(tmp_path / "opt.png")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    verdicts = {}
    problem = None
    for line in done.stdout.splitlines():
        if line and not line.startswith(" "):
            problem = line.split(":")[0]
        elif line.strip() and not line.strip().startswith("optimizer"):
            name, steps, loss, *rest = line.split()
            verdicts[problem, name] = " ".join(rest)
    assert verdicts["quadratic", "gd"] == "converged"
    assert verdicts["quadratic", "momentum"] == "converged, oscillates"
    assert verdicts["quadratic", "nesterov"].startswith("diverged at step")
    assert verdicts["rosenbrock", "gd"] == "crawls"
    assert verdicts["rosenbrock", "momentum"] == "converged"
    assert verdicts["rosenbrock", "rmsprop"] == "crawls, oscillates"
    assert (tmp_path / "opt_quadratic.png").exists() and (tmp_path / "opt_rosenbrock.png").exists()
