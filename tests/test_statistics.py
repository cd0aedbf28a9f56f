"""Reductions and statistics as users call them: numpy's signatures and defaults, values equal
to numpy's, gradients equal to finite differences, and clear refusals."""

from __future__ import annotations

import numpy as np
import pytest

import tracegraph as tg
from tracegraph.testing import assert_gradients_numeric

X = np.array([[0.3, -1.2, 2.0], [1.5, 0.7, -0.4]])
MASK = np.array([[True, False, True], [True, True, False]])


def traced_value(fn, **inputs):
    return tg.trace(fn, **inputs).value


@pytest.mark.parametrize("fn", [
    lambda x: np.sum(x, where=MASK),
    lambda x: np.sum(x, axis=1, initial=2.0),
    lambda x: np.sum(x, dtype=np.float64, keepdims=True),
    lambda x: np.mean(x, axis=0, where=MASK),
    lambda x: np.max(x, axis=1, where=MASK, initial=-5.0),
    lambda x: np.min(x, initial=0.0),
    lambda x: np.var(x, axis=1, ddof=1),
    lambda x: np.var(x, correction=1),
    lambda x: np.std(x, axis=0, keepdims=True),
    lambda x: np.std(x, where=MASK),
    lambda x: x.var(axis=-1),
    lambda x: np.prod(x, axis=0),
    lambda x: np.prod(x, where=MASK, initial=2.0),
    lambda x: np.cumsum(x),
    lambda x: np.cumsum(x, axis=-1),
    lambda x: np.cumprod(x, axis=0),
    lambda x: np.add.reduce(x),
    lambda x: np.add.accumulate(x, axis=1),
    lambda x: np.multiply.reduce(x, axis=1),
    lambda x: np.maximum.reduce(x, axis=0),
    lambda x: np.average(x, axis=1, weights=[1.0, 2.0, 3.0]),
    lambda x: np.average(x, weights=np.abs(X) + 0.5),
    lambda x: np.median(x, axis=0),
    lambda x: np.percentile(x, [10, 90], axis=1),
    lambda x: np.quantile(x, 0.3, method="midpoint", keepdims=True),
    lambda x: np.ptp(x, axis=1),
    lambda x: np.diff(x),
    lambda x: np.diff(x, n=2, axis=1, prepend=0.0, append=[[1.0], [2.0]]),
], ids=lambda fn: "")
def test_values_match_numpy_and_gradients_match_differences(fn):
    np.testing.assert_allclose(traced_value(fn, x=X), fn(X), rtol=1e-12)
    assert_gradients_numeric(lambda x: np.sum(np.sin(fn(x))), x=X)


def test_numpy_defaults_are_accepted_as_written():
    no_value = np._NoValue
    for fn in (lambda x: np.sum(x, axis=None, dtype=None, out=None, keepdims=no_value,
                                initial=no_value, where=True),
               lambda x: np.mean(x, None, None, None, no_value, where=no_value),
               lambda x: np.var(x, None, None, None, 0, no_value, where=no_value,
                                mean=no_value, correction=no_value),
               lambda x: np.max(x, None, None, no_value, no_value, True),
               lambda x: np.median(x, None, None, False, False),
               lambda x: np.quantile(x, 0.5, None, None, False, "linear", False, weights=None),
               lambda x: np.cumsum(x, None, None, None),
               lambda x: np.average(x, None, None, False, keepdims=no_value),
               lambda x: np.round(x, 0, None),
               lambda x: np.clip(x, -1.0, 1.0, None),
               lambda x: np.nan_to_num(x, True, 0.0, None, None)):
        np.testing.assert_allclose(traced_value(lambda x: np.sum(fn(x)), x=X), np.sum(fn(X)))


def test_prod_and_cumprod_are_exact_with_zeros():
    x = np.array([2.0, 0.0, 3.0, 4.0])
    assert tg.trace(lambda x: np.prod(x), x=x).grads["x"].tolist() == [0.0, 24.0, 0.0, 0.0]
    two = np.array([0.0, 2.0, 0.0])
    assert tg.trace(lambda x: np.prod(x), x=two).grads["x"].tolist() == [0.0, 0.0, 0.0]
    t = tg.trace(lambda x: np.sum(np.cumprod(x) * np.array([1.0, 2.0, 3.0, 4.0])), x=x)
    # d/dx1 of 1·x0 + 2·x0x1 + 3·x0x1x2 + 4·x0x1x2x3 at x1 = 0: 2·2 + 3·2·3 + 4·2·3·4
    assert t.grads["x"].tolist() == [1.0, 118.0, 0.0, 0.0]


def test_average_returns_the_weight_total_and_differentiates_the_weights():
    def loss(x, w):
        avg, total = np.average(x, axis=1, weights=w, returned=True)
        return np.sum(avg * total)
    assert_gradients_numeric(loss, x=X, w=np.array([0.5, 1.0, 2.0]))
    avg, total = np.average(X, axis=1, weights=[0.5, 1.0, 2.0], returned=True)
    value = tg.trace(loss, x=X, w=np.array([0.5, 1.0, 2.0])).value
    assert value == pytest.approx(np.sum(avg * total))


def test_nan_reductions_ignore_nans_and_give_them_no_gradient():
    x = np.array([1.0, np.nan, 3.0])
    t = tg.trace(lambda x: np.nansum(x) + np.nanmean(x), x=x)
    assert t.value == pytest.approx(6.0) and t.grads["x"].tolist() == [1.5, 0.0, 1.5]


def test_median_of_an_even_count_splits_between_the_middle_elements():
    t = tg.trace(lambda x: np.median(x), x=np.array([4.0, 1.0, 3.0, 2.0]))
    assert t.value == 2.5 and t.grads["x"].tolist() == [0.0, 0.0, 0.5, 0.5]


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "nearest", "midpoint",
                                    "hazen", "weibull", "median_unbiased", "normal_unbiased",
                                    "inverted_cdf", "averaged_inverted_cdf",
                                    "closest_observation", "interpolated_inverted_cdf"])
def test_every_quantile_method_matches_numpy(method):
    x = np.array([0.3, -1.2, 2.0, 1.5, 0.7, -0.4, 0.1])
    q = np.array([0.05, 0.4, 0.77])
    np.testing.assert_allclose(traced_value(lambda x: np.quantile(x, q, method=method), x=x),
                               np.quantile(x, q, method=method))
    assert_gradients_numeric(lambda x: np.sum(np.quantile(x, q, method=method) ** 2), x=x)


@pytest.mark.parametrize("call, message", [
    (lambda x: np.sum(x, dtype=np.int64), r"np.sum\(\.\.\., dtype=int64\).*rounds"),
    (lambda x: np.mean(x, dtype=np.complex128), "complex"),
    (lambda x: np.sum(x, out=np.zeros(3)), r"np.sum\(\.\.\., out=\)"),
    (lambda x: np.var(x, mean=np.zeros((2, 1))), r"np.var\(\.\.\., mean=\)"),
    (lambda x: np.percentile(x, 50, weights=np.ones_like(X), method="inverted_cdf"),
     "weights="),
])
def test_arguments_that_are_not_traced_are_refused_by_name(call, message):
    with pytest.raises(tg.UnsupportedOperationError, match=message):
        tg.trace(lambda x: np.sum(call(x)), x=X)


def test_a_float32_dtype_is_a_cast_node():
    t = tg.trace(lambda x: np.sum(x, dtype=np.float32), x=X)
    assert "astype" in [d["op"] for _, d in t.graph.nodes(data=True)]
    assert t.grads["x"].dtype == np.float64 and t.grads["x"].tolist() == np.ones((2, 3)).tolist()


def test_a_traced_where_mask_is_refused():
    with pytest.raises(tg.UnsupportedOperationError, match="where=<traced value>"):
        tg.trace(lambda x: np.sum(x, where=x), x=X)


def test_complex_inputs_are_still_refused():
    with pytest.raises(tg.TracegraphError, match="complex"):
        tg.trace(lambda x: np.var(x), x=np.array([1.0 + 1.0j, 2.0]))
