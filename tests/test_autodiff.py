"""The backward pass: fan-out, broadcasting, depth, threads, and derivatives between nodes."""

from __future__ import annotations

import gc
import math
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tracegraph as tg
from tracegraph import autodiff
from tracegraph.core import active_tape, unbroadcast


def test_fan_out_accumulates_every_use():
    t = tg.trace(lambda x: x * x * x + x, x=2.0)
    assert t.value == 10.0
    assert t.grads["x"] == 3 * 2.0 ** 2 + 1


def test_same_value_on_both_sides_of_an_operation_has_two_edges():
    t = tg.trace(lambda x: x * x, x=3.0)
    edges = t.graph.get_edge_data("x", "output")
    assert sorted(edges) == [0, 1]
    assert [edges[k]["contribution"] for k in (0, 1)] == [3.0, 3.0]
    assert t.graph.nodes["x"]["grad"] == 6.0


def test_gradients_for_every_input_in_one_pass():
    t = tg.trace(lambda a, b, c: a * b + b * c + c * a, a=1.0, b=2.0, c=3.0)
    assert t.grads == {"a": 5.0, "b": 4.0, "c": 3.0}


def test_unused_input_gets_a_zero_gradient_of_its_shape():
    t = tg.trace(lambda x, unused: np.sum(x), x=np.ones(3), unused=np.ones((2, 2)))
    np.testing.assert_array_equal(t.grads["unused"], np.zeros((2, 2)))


@pytest.mark.parametrize(("grad_shape", "target", "expected"), [
    ((4, 3), (3,), np.full(3, 4.0)),
    ((4, 3), (4, 1), np.full((4, 1), 3.0)),
    ((4, 3), (), 12.0),
    ((2, 4, 3), (1, 3), np.full((1, 3), 8.0)),
    ((3,), (3,), np.ones(3)),
])
def test_unbroadcast_sums_broadcast_axes(grad_shape, target, expected):
    np.testing.assert_array_equal(unbroadcast(np.ones(grad_shape), target), expected)


def test_broadcasting_gradients_have_each_inputs_shape():
    def f(row, col, scalar):
        return np.sum((row + col) * scalar)
    t = tg.trace(f, row=np.arange(3.0), col=np.arange(4.0).reshape(4, 1), scalar=2.0)
    assert t.grads["row"].shape == (3,)
    assert t.grads["col"].shape == (4, 1)
    np.testing.assert_array_equal(t.grads["row"], np.full(3, 8.0))
    np.testing.assert_array_equal(t.grads["col"], np.full((4, 1), 6.0))
    assert t.grads["scalar"] == pytest.approx(
        np.sum(np.arange(3.0)[None] + np.arange(4.0)[:, None]))


def test_returned_gradients_are_independent_writable_arrays():
    t = tg.trace(lambda a, b: np.sum(a + b), a=np.ones(3), b=np.ones(3))
    ga, gb = t.grads["a"], t.grads["b"]
    ga *= 10.0
    np.testing.assert_array_equal(gb, np.ones(3))


def test_a_million_operation_chain_has_no_recursion_limit():
    def chain(x):
        y = x
        for _ in range(1_000_000):
            y = y * 1.0000001
        return y
    t = tg.trace(chain, x=1.0)
    assert t.value == pytest.approx(1.0000001 ** 1_000_000, rel=1e-9)
    assert t.grads["x"] == pytest.approx(1.0000001 ** 1_000_000, rel=1e-9)


def test_deep_tanh_chain_gradient_matches_the_product_of_local_derivatives():
    n = 5_000
    def chain(x, w):
        y = x
        for _ in range(n):
            y = np.tanh(y * w + 0.1)
        return y
    t = tg.trace(chain, x=0.3, w=0.9)
    y, dx = 0.3, 1.0
    for _ in range(n):
        y = math.tanh(y * 0.9 + 0.1)
        dx *= (1 - y * y) * 0.9
    assert t.value == pytest.approx(y, rel=1e-12)
    assert t.grads["x"] == pytest.approx(dx, rel=1e-9)


def test_non_scalar_output_explains_how_to_differentiate():
    t = tg.trace(lambda x: x * 2.0, x=np.ones(3))
    with pytest.raises(tg.NotDifferentiatedError, match=r"(?s)shape \(3,\).*backward\(seed\)"):
        t.grads
    t.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(t.grads["x"], [2.0, 4.0, 6.0])


def test_seed_of_the_wrong_shape_is_refused():
    t = tg.trace(lambda x: x * 2.0, x=np.ones(3))
    with pytest.raises(tg.NotDifferentiatedError, match="seed has shape"):
        t.backward(np.ones(2))


def test_derivative_between_intermediate_nodes():
    def f(G, gold):
        S = tg.name(tg.sigmoid(G), "S")
        return (gold - S) ** 2
    t = tg.trace(f, G=0.3, gold=1.0)
    s = 1 / (1 + math.exp(-0.3))
    assert t.derivative("S", "G") == pytest.approx(s * (1 - s))
    assert t.derivative("f", "S") == pytest.approx(-2 * (1 - s))
    assert t.derivative("S", "gold") == 0.0
    assert not t.influences("S", "gold")


def test_traces_in_parallel_threads_never_mix():
    results: dict[int, tuple[float, float]] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            def f(x):
                with tg.scope(f"thread{k}"):
                    y = x
                    for _ in range(2_000):
                        y = np.sin(y) + x * 0.001
                return y
            t = tg.trace(f, x=0.1 * k)
            scopes = {d["scope"] for _, d in t.graph.nodes(data=True)} - {()}
            assert scopes == {(f"thread{k}",)}
            results[k] = (t.value, t.grads["x"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for k in range(8):
        t = tg.trace(lambda x: _sequential(x), x=0.1 * k)
        assert results[k] == pytest.approx((t.value, t.grads["x"]), rel=1e-12)


def _sequential(x):
    y = x
    for _ in range(2_000):
        y = np.sin(y) + x * 0.001
    return y


def test_a_finished_trace_leaves_no_global_state():
    t = tg.trace(lambda x: np.exp(x) * x, x=1.0)
    assert active_tape() is None
    tape_ref = weakref.ref(t.tape)
    del t
    gc.collect()
    assert tape_ref() is None


def test_values_of_a_finished_trace_cannot_be_extended():
    captured = []
    tg.trace(lambda x: captured.append(x) or x * 2.0, x=1.0)
    with pytest.raises(tg.ForeignTraceError, match="already finished"):
        captured[0] + 1.0


def test_values_from_two_traces_do_not_combine():
    with tg.Tracer() as outer:
        a = outer.input("a", 1.0)
        with tg.Tracer() as inner:
            b = inner.input("b", 2.0)
            with pytest.raises(tg.ForeignTraceError, match="different trace"):
                a * b


@pytest.mark.parametrize(("fn", "expected"), [
    (lambda x: np.sqrt(x), math.inf),
    (lambda x: np.log(x), math.inf),
    (lambda x: x ** 0.5, math.inf),
    (lambda x: np.sqrt(x) + x * 2.0, math.inf),
])
def test_scalar_rules_at_singular_points_give_flagged_infinities_not_crashes(fn, expected):
    with np.errstate(all="ignore"), pytest.warns(tg.NonFiniteWarning):
        t = tg.trace(fn, x=0.0)
    assert t.grads["x"] == expected
    assert t.graph.nodes["x"]["grad_nonfinite"]


def test_backward_can_release_intermediate_adjoints_without_changing_the_kept_ones():
    from tracegraph.autodiff import backward

    with tg.Tracer() as tr:
        x = tr.input("x", np.array([0.5, -1.0]))
        w = tr.input("w", 2.0)
        out = np.sum(np.tanh(x * w) * x)
    full = backward(tr.tape.equations, out.index, 1.0)
    lean = backward(tr.tape.equations, out.index, 1.0, keep=[x.index, w.index])
    np.testing.assert_array_equal(lean[x.index], full[x.index])
    assert lean[w.index] == full[w.index]
    released = [i for i in range(len(lean)) if i not in (x.index, w.index)]
    assert all(lean[i] is None for i in released)
    assert all(full[i] is not None for i in released)


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
                  elements=st.sampled_from([0.0, -1.5, 3.0, 1e200, -1e300, 6e4, 3e38, np.inf,
                                            -np.inf, np.nan])),
       st.sampled_from([np.float64, np.float32, np.float16, np.complex128]))
def test_is_finite_agrees_with_numpy_on_nan_inf_and_overflowing_squares(values, dtype):
    # The fast test is a sum of squares: huge finite elements overflow it and must be
    # rechecked exactly, never reported as NaN/inf.
    with np.errstate(over="ignore", invalid="ignore"):
        array = values.astype(dtype)
        assert autodiff.is_finite(array) == bool(np.isfinite(array).all())
        strided = array.T if array.ndim != 1 else array[::-1]
        assert autodiff.is_finite(strided) == bool(np.isfinite(strided).all())
        # past BLAS's threading threshold the fast test is numpy's sum; tile to reach it
        big = np.tile(array.reshape(-1), 20_001 // max(array.size, 1) + 1) if array.size else array
        assert autodiff.is_finite(big) == bool(np.isfinite(big).all())


def test_row_by_row_gradients_add_up_like_full_arrays():
    # A loop over a traced array's rows sends each row's gradient back as a sparse part
    # (core.Scattered), added when the backward pass reaches the array: same numbers as
    # adding full arrays, whatever else uses the array densely.
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 3))

    def f(X):
        rows = sum(np.sum(row ** 2) * (k + 1) for k, row in enumerate(X))
        return rows + np.sum(np.tanh(X)) + np.sum(X[2:5] * X[10:13]) + X[-1, 2] * X[0, 0]

    t = tg.trace(f, X=X)
    expected = 2 * X * np.arange(1, 41)[:, None] + (1 - np.tanh(X) ** 2)
    expected[2:5] += X[10:13]
    expected[10:13] += X[2:5]
    expected[-1, 2] += X[0, 0]
    expected[0, 0] += X[-1, 2]
    np.testing.assert_allclose(t.grads["X"], expected, rtol=1e-12)
    assert type(t.grads["X"]) is np.ndarray
    np.testing.assert_array_equal(t.graph.nodes["X"]["grad"], t.grads["X"])
    row = next(e for e in t.graph.out_edges("X", data=True) if e[2]["contribution"] is not None
               and np.count_nonzero(e[2]["contribution"]) == 3)
    assert type(row[2]["contribution"]) is np.ndarray and row[2]["contribution"].shape == (40, 3)
