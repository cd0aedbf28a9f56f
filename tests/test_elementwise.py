"""Elementwise and piecewise rules as users write them: aliases, operators, numpy's
keyword arguments, the drawn zero slope of steps, and the special points."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tracegraph as tg
from tracegraph.core import REGISTRY, UFUNC_ROUTES
from tracegraph.testing import assert_gradients_numeric

X = np.array([0.3, -0.8, 0.55])


@pytest.mark.parametrize("fn", [
    np.arcsin, np.arccos, np.arcsinh, np.arctanh, np.exp2, np.cbrt, np.sinc, np.deg2rad,
    np.radians, np.rad2deg, np.degrees, np.reciprocal,
    lambda x: np.arccosh(x + 2.0), lambda x: np.arctan2(x, 0.5 - x),
    lambda x: np.hypot(x, 2.0 * x + 1.0), lambda x: np.logaddexp(x, -x),
    lambda x: np.logaddexp2(2.0 * x, x), lambda x: np.log2(x + 1.0),
], ids=lambda fn: getattr(fn, "__name__", ""))
def test_values_match_numpy_and_gradients_match_differences(fn):
    assert np.allclose(tg.trace(lambda x: fn(x), x=X).backward(np.ones(3)).value, fn(X))
    assert_gradients_numeric(lambda x: np.sum(fn(x) ** 2), x=X)


def test_python_scalars_take_the_math_fast_path_and_agree_with_numpy():
    for fn in (np.arcsin, np.arctanh, np.cbrt, np.exp2, np.reciprocal):
        t = tg.trace(lambda x: fn(x), x=0.4)
        assert type(t.value) is float and t.value == pytest.approx(float(fn(np.float64(0.4))))


def test_mod_and_floor_divide_operators():
    t = tg.trace(lambda x, y: x % y + 3.0 * (x // y), x=7.5, y=2.0)
    assert t.value == 1.5 + 9.0
    assert t.grads == {"x": 1.0, "y": -3.0}          # ∂(x mod y)/∂y = −⌊x/y⌋; // adds 0
    negative = tg.trace(lambda x, y: x % y, x=7.5, y=-2.0)
    assert negative.value == 7.5 % -2.0 and negative.grads["y"] == 4.0
    c = tg.trace(lambda x, y: np.fmod(x, y), x=-7.5, y=2.0)
    assert c.value == -1.5 and c.grads == {"x": 1.0, "y": 3.0}


def test_divmod_gives_both_results():
    t = tg.trace(lambda x: np.sum(np.divmod(x, 2.0)[1] * 2.0), x=np.array([3.5, -1.0]))
    assert t.value == 2 * (1.5 + 1.0) and t.grads["x"].tolist() == [2.0, 2.0]


def test_steps_have_zero_slope_on_a_drawn_edge():
    t = tg.trace(lambda x: x * np.floor(x) + np.round(x, 1) + np.sign(x) + np.fix(x) + x // 1.0,
                 x=2.37)
    assert t.grads["x"] == 2.0    # only x·⌊x⌋ contributes, with slope ⌊x⌋
    ops = {d["op"] for _, d in t.graph.nodes(data=True)}
    assert {"floor", "round", "sign", "trunc", "floor_divide"} <= ops
    for parent, child, data in t.graph.out_edges("x", data=True):
        if t.graph.nodes[child]["op"] in ("floor", "round", "sign", "trunc", "floor_divide"):
            assert data["formula"] == "0"


def test_a_step_stops_nan_upstream_gradients():
    t = tg.trace(lambda x: np.floor(x) * np.inf, x=1.5)
    assert t.grads["x"] == 0.0


def test_round_with_decimals_is_drawn_with_them():
    t = tg.trace(lambda x: np.round(x, 2), x=1.23456)
    assert t.value == 1.23 and t.graph.nodes["output"]["expr"] == "round(x, 2)"


def test_heaviside_differentiates_in_its_value_at_zero():
    t = tg.trace(lambda x, h: np.sum(np.heaviside(x, h)), x=np.array([-1.0, 0.0, 2.0]), h=0.3)
    assert t.value == 1.3 and t.grads["h"] == 1.0 and t.grads["x"].tolist() == [0.0] * 3


def test_nan_to_num_passes_gradient_only_where_the_value_was_finite():
    x = np.array([1.0, np.nan, np.inf, -2.0])
    t = tg.trace(lambda x: np.sum(np.nan_to_num(x, posinf=5.0) * 2.0), x=x)
    assert t.value == 2.0 * (1.0 + 0.0 + 5.0 - 2.0)
    assert t.grads["x"].tolist() == [2.0, 0.0, 0.0, 2.0]


def test_sinc_is_smooth_at_zero():
    t = tg.trace(lambda x: np.sinc(x), x=0.0)
    assert t.value == 1.0 and t.grads["x"] == 0.0
    near = tg.trace(lambda x: np.sinc(x), x=1e-5).grads["x"]
    assert near == pytest.approx(-(math.pi ** 2) / 3 * 1e-5, rel=1e-9)


def test_singular_slopes_are_infinite_and_flagged():
    with pytest.warns(tg.NonFiniteWarning), np.errstate(divide="ignore"):
        assert tg.trace(lambda x: np.cbrt(x), x=0.0).grads["x"] == math.inf
    assert REGISTRY["cbrt"].kink(0.0) == 0.0   # so `tracegraph check` does not grade it


def test_convolve_and_correlate_match_numpy_in_every_mode():
    a, v = np.array([1.0, -2.0, 0.5, 3.0, 1.5]), np.array([0.5, 1.0, -1.0])
    for mode in ("full", "same", "valid"):
        for first, second in ((a, v), (v, a)):
            for fn in (np.convolve, np.correlate):
                got = tg.trace(lambda p, q: fn(p, q, mode), p=first, q=second)
                np.testing.assert_allclose(got.value, fn(first, second, mode))
                assert_gradients_numeric(lambda p, q: np.sum(np.tanh(fn(p, q, mode))),
                                         p=first, q=second)


def test_python_rounding_is_pythons_and_math_calls_name_the_numpy_replacement():
    # round is a step: Python's own number (2.675 rounds down in binary), slope 0
    rounded = tg.trace(lambda x: round(x, 2) + x, x=2.675)
    assert rounded.value == round(2.675, 2) + 2.675 and rounded.grads["x"] == 1.0
    with pytest.raises(tg.TracedValueLeakError) as info:
        tg.trace(lambda x: math.atan2(x, 1.0), x=1.5)
    assert "use np.arctan2(x, 1.0)" in str(info.value) and "use x.value" in str(info.value)


BINARY_UFUNCS = sorted((f for f in UFUNC_ROUTES if f.nin == 2 and f.signature is None),
                       key=lambda f: f.__name__)


@pytest.mark.parametrize("ufunc", BINARY_UFUNCS, ids=lambda f: f.__name__)
def test_every_routed_binary_ufuncs_outer_is_traced_like_numpys(ufunc):
    rng = np.random.default_rng(7)
    a = rng.uniform(0.6, 1.9, size=3)
    b = rng.uniform(0.6, 1.9, size=(2, 2))
    weights = rng.normal(size=(3, 2, 2))

    def f(a, b):
        return np.sum(ufunc.outer(a, b) * weights)

    t = tg.trace(f, a=a, b=b)
    with np.errstate(all="ignore"):
        expected = f(a, b)
    assert t.value == expected
    if not np.issubdtype(np.result_type(ufunc(a[0], b[0, 0])), np.floating):
        return  # a comparison or another gradient-free ufunc: the value is what counts
    for name, x in (("a", a), ("b", b)):
        numeric = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            up, down = x.copy(), x.copy()
            up[i] += 1e-6
            down[i] -= 1e-6
            args = {"a": a, "b": b, name: up}
            high = f(**args)
            args[name] = down
            numeric[i] = (high - f(**args)) / 2e-6
        np.testing.assert_allclose(t.grads[name], numeric, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{ufunc.__name__}.outer: d/d{name}")
