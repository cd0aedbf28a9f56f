"""Derivatives as functions: tg.grad (composed), tg.hessian, tg.hvp, tg.jvp.

Checked against HIPS autograd (an independent autodiff) to 1e-8 on scalar,
2-D and array functions, and the Hessian's classification on the textbook
critical points.
"""

from __future__ import annotations

import numpy as np
import pytest

import tracegraph as tg

autograd = pytest.importorskip("autograd")
import autograd.numpy as anp  # noqa: E402

RNG = np.random.default_rng(7)
W = RNG.normal(size=(3, 4))
B = RNG.normal(size=4)

# (tracegraph function, the same written with autograd.numpy, inputs)
FUNCTIONS = {
    "scalar": (lambda x: np.sin(x) * x ** 3 + np.exp(-x) / (1.0 + x * x),
               lambda x: anp.sin(x) * x ** 3 + anp.exp(-x) / (1.0 + x * x),
               {"x": 0.7}),
    "two variables": (lambda x, y: np.log(1.0 + x * x + y ** 4) * np.tanh(x - y),
                      lambda x, y: anp.log(1.0 + x * x + y ** 4) * anp.tanh(x - y),
                      {"x": 0.3, "y": -1.2}),
    "array layer": (lambda v, c: np.sum(tg.sigmoid(v @ W + B) ** 2) * c + np.sum(v ** 3),
                    lambda v, c: anp.sum((1 / (1 + anp.exp(-(anp.dot(v, W) + B)))) ** 2) * c
                    + anp.sum(v ** 3),
                    {"v": RNG.normal(size=3), "c": 1.5}),
    "softmax cross-entropy": (
        lambda z: tg.softmax_cross_entropy(z.reshape(2, 3), np.array([0, 2])),
        lambda z: -anp.sum(anp.array([[1.0, 0, 0], [0, 0, 1.0]]) * (
            z.reshape(2, 3) - anp.log(anp.sum(anp.exp(z.reshape(2, 3)), axis=1,
                                              keepdims=True)))) / 2,
        {"z": RNG.normal(size=6)}),
    "indexing and reductions": (
        lambda x: np.sum(x[np.array([0, 2, 2])] ** 2) * np.max(x) + np.mean(x) ** 2,
        lambda x: anp.sum(x[np.array([0, 2, 2])] ** 2) * anp.max(x) + anp.mean(x) ** 2,
        {"x": np.array([0.5, -1.0, 2.0, 0.25])}),
}


def _flat(inputs):
    return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in inputs.values()])


def _autograd_hessian(reference, inputs):
    names = list(inputs)
    shapes = [np.shape(inputs[n]) for n in names]
    sizes = [int(np.prod(s)) for s in shapes]

    def on_flat(flat):
        parts, start = {}, 0
        for name, shape, size in zip(names, shapes, sizes):
            piece = flat[start:start + size]
            parts[name] = piece.reshape(shape) if shape else piece[0]
            start += size
        return reference(**parts)

    return autograd.hessian(on_flat)(_flat(inputs)), autograd.grad(on_flat)(_flat(inputs))


@pytest.mark.parametrize("case", FUNCTIONS)
def test_hessian_and_gradient_agree_with_autograd(case):
    fn, reference, inputs = FUNCTIONS[case]
    h = tg.hessian(fn, **inputs)
    expected, gradient = _autograd_hessian(reference, inputs)
    np.testing.assert_allclose(h.matrix, expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(h.gradient, gradient, rtol=1e-8, atol=1e-10)
    assert h.matrix.shape == (len(h.labels), len(h.labels))


@pytest.mark.parametrize("case", FUNCTIONS)
def test_hvp_agrees_with_autograd_and_needs_no_hessian(case):
    fn, reference, inputs = FUNCTIONS[case]
    v = {name: RNG.normal(size=np.shape(value)) if np.ndim(value) else 0.8
         for name, value in inputs.items()}
    product = tg.hvp(fn, v, **inputs)
    expected, _ = _autograd_hessian(reference, inputs)
    np.testing.assert_allclose(_flat(product), expected @ _flat(v), rtol=1e-8, atol=1e-10)
    assert set(product) == set(inputs)
    for name, value in inputs.items():
        assert np.shape(product[name]) == np.shape(value)


@pytest.mark.parametrize("case", FUNCTIONS)
def test_composed_grad_is_the_second_derivative(case):
    fn, reference, inputs = FUNCTIONS[case]
    first = list(inputs)[0]
    if np.ndim(inputs[first]):
        pytest.skip("composition needs a scalar first derivative")
    second = tg.grad(tg.grad(fn, first), first)(**inputs)
    expected = autograd.grad(autograd.grad(reference, 0), 0)
    assert second == pytest.approx(expected(*inputs.values()), rel=1e-8, abs=1e-10)


def test_third_derivative_by_composition():
    f = lambda x: np.sin(x) * np.exp(x)  # noqa: E731
    third = tg.grad(tg.grad(tg.grad(f, "x"), "x"), "x")(x=0.4)
    g = lambda x: anp.sin(x) * anp.exp(x)  # noqa: E731
    assert third == pytest.approx(autograd.grad(autograd.grad(autograd.grad(g)))(0.4), rel=1e-9)


@pytest.mark.parametrize("case", FUNCTIONS)
def test_jvp_agrees_with_autograd(case):
    fn, reference, inputs = FUNCTIONS[case]
    tangents = {name: RNG.normal(size=np.shape(value)) if np.ndim(value) else -0.6
                for name, value in inputs.items()}
    value, slope = tg.jvp(fn, tangents, **inputs)
    expected_value = reference(**inputs)
    _, gradient = _autograd_hessian(reference, inputs)
    assert value == pytest.approx(float(expected_value), rel=1e-12)
    assert slope == pytest.approx(float(gradient @ _flat(tangents)), rel=1e-8, abs=1e-10)


def test_jvp_of_an_array_function_is_the_jacobian_times_the_tangent():
    fn = lambda x: np.tanh(W.T @ x) * x[0]  # noqa: E731
    reference = lambda x: anp.tanh(anp.dot(W.T, x)) * x[0]  # noqa: E731
    x = RNG.normal(size=3)
    t = RNG.normal(size=3)
    value, slope = tg.jvp(fn, {"x": t}, x=x)
    np.testing.assert_allclose(value, reference(x), rtol=1e-12)
    np.testing.assert_allclose(slope, autograd.jacobian(reference)(x) @ t, rtol=1e-8, atol=1e-12)


def test_grad_returns_a_bare_value_for_a_name_and_a_dict_for_a_list_or_none():
    f = lambda w, b: np.sum(w ** 2) * b  # noqa: E731
    w = np.array([1.0, 2.0])
    assert tg.grad(f, "b")(w=w, b=3.0) == 5.0
    assert list(tg.grad(f, ["b"])(w=w, b=3.0)) == ["b"]
    both = tg.grad(f)(w=w, b=3.0)
    assert both["w"].tolist() == [6.0, 12.0] and both["b"] == 5.0
    assert list(tg.grad(f)(w=w, b=tg.constant(3.0))) == ["w"]


def test_grad_of_an_unknown_input_says_which_inputs_exist():
    with pytest.raises(tg.TracegraphError, match="'z' is not a traced input.*x"):
        tg.grad(lambda x: x * x, "z")(x=1.0)
    with pytest.raises(tg.TracegraphError, match="not a traced input") as caught:
        tg.grad(lambda x: np.sum(np.array(x) ** 2), "x")(x=[1.0, 2.0])
    assert "'x' is a list" in caught.value.hint and "np.array" in caught.value.hint


def test_grad_of_an_array_function_asks_for_a_scalar():
    with pytest.raises(tg.NotDifferentiatedError, match="scalar"):
        tg.grad(lambda x: x * 2.0, "x")(x=np.ones(2))


def test_a_trace_of_the_gradient_is_the_backward_pass_drawn_as_a_graph():
    f = lambda x, w: tg.sigmoid(x * w)  # noqa: E731
    t = tg.trace(tg.grad(f, "w"), x=2.0, w=0.5)
    s = 1 / (1 + np.exp(-1.0))
    assert t.value == pytest.approx(s * (1 - s) * 2.0)
    # d/dx of dS/dw = S(1−S) + x·w·S(1−S)(1−2S), read off the backward pass's own graph
    assert t.grads["x"] == pytest.approx(s * (1 - s) + 1.0 * s * (1 - s) * (1 - 2 * s))
    ops = {data["op"] for _, data in t.graph.nodes(data=True)}
    assert "multiply" in ops and "sigmoid" in ops
    assert "∂" in t.to_dot()


def test_closures_over_an_outer_value_are_differentiated_through():
    # d/dy [d/dx (x·y)] = 1: the inner trace sees y as a constant of the outer one.
    def outer(y):
        return tg.grad(lambda x: x * y, "x")(x=3.0)
    assert tg.grad(outer, "y")(y=2.0) == 1.0


@pytest.mark.parametrize(("fn", "point", "expected"), [
    (lambda x, y: x ** 2 + y ** 2, (0.0, 0.0), "minimum"),
    (lambda x, y: -(x ** 2) - 3 * y ** 2, (0.0, 0.0), "maximum"),
    (lambda x, y: x ** 2 - y ** 2, (0.0, 0.0), "saddle point"),
    (lambda x, y: x ** 4 + y ** 4, (0.0, 0.0), "inconclusive"),
    (lambda x, y: x ** 4 - y ** 4, (0.0, 0.0), "inconclusive"),
    (lambda x, y: x ** 3 - 3 * x * y ** 2, (0.0, 0.0), "inconclusive"),
    (lambda x, y: x ** 2 + y ** 2, (1.0, 0.0), "not a critical point"),
    (lambda x, y: x ** 2 - y ** 4, (0.0, 0.0), "inconclusive"),
    (lambda x, y: x ** 2 * y, (0.0, 0.0), "inconclusive"),
])
def test_classification_of_critical_points(fn, point, expected):
    assert tg.hessian(fn, x=point[0], y=point[1]).classify() == expected


def test_saddle_with_a_zero_eigenvalue_is_still_a_saddle():
    h = tg.hessian(lambda x, y, z: x ** 2 - y ** 2 + z ** 4, x=0.0, y=0.0, z=0.0)
    assert h.classify() == "saddle point"


@pytest.mark.parametrize(("fn", "point", "message"), [
    # sqrt(-1): NaN slope; every comparison with NaN is False, so it was called a zero
    # gradient and "inconclusive", with eigenvalues 0, 0 from LAPACK
    (lambda x, y: np.sqrt(x) + y * y, (-1.0, 0.0), "the gradient is not finite"),
    # sqrt at 0: an infinite slope was "not a critical point"
    (lambda x, y: np.sqrt(x) + y * y, (0.0, 0.0), "the gradient is not finite"),
    # a zero gradient with an infinite second derivative: x^1.5 at 0
    (lambda x, y: x ** 1.5 + y * y, (0.0, 0.0), "the Hessian is not finite"),
])
@pytest.mark.filterwarnings("ignore::tracegraph.NonFiniteWarning")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_point_without_finite_derivatives_is_not_classified(fn, point, message):
    h = tg.hessian(fn, x=point[0], y=point[1])
    assert not np.all(np.isfinite(h.matrix))
    assert np.isnan(h.eigenvalues).all() and len(h.eigenvalues) == 2
    with pytest.raises(tg.TracegraphError, match=message):
        h.classify()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_non_finite_hessian_away_from_a_critical_point_is_still_not_critical():
    # the gradient (0, 1) decides; x^1.5's infinite curvature at 0 does not matter
    h = tg.hessian(lambda x, y: x ** 1.5 + y, x=0.0, y=0.0)
    assert h.gradient.tolist() == [0.0, 1.0] and h.matrix[0, 0] == np.inf
    assert h.classify() == "not a critical point"


def test_hessian_rows_follow_keyword_order_and_skip_constants():
    f = lambda a, W, c: np.sum(W ** 2) * a ** 2 + c * a  # noqa: E731
    h = tg.hessian(f, wrt=["W", "a"], a=1.0, W=np.ones((1, 2)), c=tg.constant(2.0))
    assert h.labels == ["a", "W[0,0]", "W[0,1]"] and h.names == ["a", "W"]
    assert h.block("W", "a").shape == (1, 2) and h.block("W", "W").shape == (1, 2, 1, 2)
    np.testing.assert_allclose(h.block("a", "a"), 4.0)
    assert h.gradient.tolist() == [2 * 2.0 * 1.0 + 2.0, 2.0, 2.0]


def test_hvp_treats_missing_names_as_zero_directions():
    f = lambda x, y: x ** 2 * y + y ** 3  # noqa: E731
    assert tg.hvp(f, {"y": 1.0}, x=1.0, y=2.0) == {"x": 2.0, "y": 12.0}


def test_jvp_inside_a_trace_is_differentiated_through():
    # reverse over forward: d/dx of f'(x)·1 is f''(x)
    f = lambda x: tg.jvp(lambda y: np.sin(y) * y ** 2, {"y": 1.0}, y=x)[1]  # noqa: E731
    reference = autograd.grad(autograd.grad(lambda y: anp.sin(y) * y ** 2))
    assert tg.grad(f, "x")(x=0.5) == pytest.approx(reference(0.5), rel=1e-12)
    h = tg.hessian(f, x=0.5)
    assert h.matrix[0, 0] == pytest.approx(autograd.grad(reference)(0.5), rel=1e-12)


def test_jvp_of_an_array_function_inside_a_trace_is_differentiated_through():
    def f(x):
        _, slope = tg.jvp(lambda y: np.tanh(y @ W), {"y": np.ones(3)}, y=x)
        return np.sum(slope ** 2)
    v = RNG.normal(size=3)
    reference = autograd.grad(lambda y: anp.sum(
        autograd.make_jvp(lambda z: anp.tanh(anp.dot(z, W)))(y)(anp.ones(3))[1] ** 2))
    np.testing.assert_allclose(tg.grad(f, "x")(x=v), reference(v), rtol=1e-10)


def test_traced_directions_of_hvp_and_jvp_are_differentiated_through():
    # H·v and J·t are linear in the direction: d/dx of f''(2)·x is f''(2)
    g = lambda y: y ** 3  # noqa: E731
    second = autograd.grad(autograd.grad(g))(2.0)
    assert tg.grad(lambda x: tg.hvp(g, {"y": x}, y=2.0)["y"], "x")(x=1.0) == \
        pytest.approx(second)
    assert tg.grad(lambda x: tg.jvp(g, {"y": x}, y=2.0)[1], "x")(x=1.0) == \
        pytest.approx(autograd.grad(g)(2.0))
    w = np.array([0.5, -1.5])
    assert tg.grad(lambda x: np.sum(tg.jvp(lambda y: y ** 3, {"y": x * w}, y=w)[1]), "x")(
        x=1.0) == pytest.approx(float(np.sum(3 * w ** 3)))


def test_a_hessian_of_traced_values_is_refused_rather_than_given_no_derivative():
    # its matrix is plain numbers: used inside a trace, its derivative would silently be 0
    with pytest.raises(tg.TracegraphError, match="tg.hessian"):
        tg.grad(lambda x: tg.hessian(lambda y: y ** 4, y=x).matrix[0, 0] * x, "x")(x=2.0)
