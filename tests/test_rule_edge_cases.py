"""Rules at their edges: NaNs, ties, zeros, singular matrices, empty indices and the
options that change what a rule reads (each case was once wrong)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tracegraph as tg

from rule_cases import numeric_gradient

# --------------------------------------------------------------------------- fmax / fmin


def test_fmax_and_fmin_ignore_nan_and_send_the_gradient_to_the_other_side():
    x, y = np.array([np.nan, 1.0, 3.0, 2.0]), np.array([2.0, np.nan, 1.0, 2.0])
    high = tg.trace(lambda x, y: np.sum(np.fmax(x, y) * np.arange(1.0, 5.0)), x=x, y=y)
    np.testing.assert_array_equal(tg.trace(lambda x, y: np.fmax(x, y), x=x, y=y).value,
                                  np.fmax(x, y))
    assert high.value == np.sum(np.fmax(x, y) * np.arange(1.0, 5.0))
    assert high.grads["x"].tolist() == [0.0, 2.0, 3.0, 2.0]     # tie: ½ of 4 each
    assert high.grads["y"].tolist() == [1.0, 0.0, 0.0, 2.0]
    low = tg.trace(lambda x, y: np.sum(np.fmin(x, y) * np.arange(1.0, 5.0)), x=x, y=y)
    assert low.value == np.sum(np.fmin(x, y) * np.arange(1.0, 5.0))
    assert low.grads["x"].tolist() == [0.0, 2.0, 0.0, 2.0]
    assert low.grads["y"].tolist() == [1.0, 0.0, 3.0, 2.0]
    assert tg.trace(lambda x: np.fmax(x, 0.0), x=0.0).grads["x"] == 0.5


# --------------------------------------------------------------------------- clip


def _clip_grads(x, lo, hi):
    return tg.trace(lambda x, lo, hi: np.sum(np.clip(x, lo, hi)), x=x, lo=lo, hi=hi).grads


def test_clip_with_crossed_bounds_is_hi_everywhere_as_in_numpy():
    x = np.array([0.5, 2.0, -2.0])
    assert tg.trace(lambda x: np.clip(x, 1.0, 0.0), x=x).value.tolist() == [0.0, 0.0, 0.0]
    grads = _clip_grads(x, 1.0, 0.0)
    assert grads["x"].tolist() == [0.0, 0.0, 0.0]
    assert grads["lo"] == 0.0 and grads["hi"] == 3.0


def test_clip_with_equal_bounds_does_not_depend_on_x():
    assert tg.trace(lambda x: np.clip(x, 0.5, 0.5), x=0.5).grads["x"] == 0.0
    assert _clip_grads(0.5, 0.5, 0.5) == {"x": 0.0, "lo": 0.5, "hi": 0.5}  # a tie of lo, hi
    grads = _clip_grads(np.array([0.2, 0.9]), 0.5, 0.5)
    assert grads["x"].tolist() == [0.0, 0.0]
    assert grads["lo"] == 0.5 and grads["hi"] == 1.5   # below: lo and hi tie; above: hi


def test_clip_still_shares_a_bound_with_x_when_the_bounds_are_apart():
    grads = _clip_grads(np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), 0.0, 1.0)
    assert grads["x"].tolist() == [0.0, 0.5, 1.0, 0.5, 0.0]
    assert grads["lo"] == 1.5 and grads["hi"] == 1.5


# --------------------------------------------------------------------------- full_like / full


def test_full_like_differentiates_a_traced_fill_value_and_not_x():
    w = np.arange(6.0).reshape(2, 3)
    t = tg.trace(lambda x, c: np.sum(np.full_like(x, c) * w), x=np.ones((2, 3)), c=2.0)
    assert t.value == 2.0 * 15.0
    assert t.grads["c"] == 15.0 and not np.any(t.grads["x"])
    row = tg.trace(lambda x, c: np.sum(np.full_like(x, c) * w), x=np.ones((2, 3)),
                   c=np.array([1.0, 2.0, 3.0]))          # broadcast: summed down the rows
    assert row.grads["c"].tolist() == [3.0, 5.0, 7.0]
    shaped = tg.trace(lambda x, c: np.sum(np.full_like(x, c, shape=(4,))), x=np.ones(2), c=1.5)
    assert shaped.value == 6.0 and shaped.grads["c"] == 4.0
    plain_fill = tg.trace(lambda x: np.sum(np.full_like(x, 3.0) * x), x=np.ones(2))
    assert plain_fill.grads["x"].tolist() == [3.0, 3.0]


def test_full_with_a_traced_number_and_full_like_of_a_plain_array_say_what_to_write():
    assert tg.trace(lambda c: np.sum(np.full((2, 2), c)), c=2.0).grads["c"] == 4.0
    with pytest.raises(tg.UnsupportedOperationError, match="np.full_like .*plain array") as info:
        tg.trace(lambda c: np.sum(np.full_like(np.ones(2), c)), c=2.0)
    assert "np.zeros(shape) + c" in str(info.value)
    with pytest.raises(tg.UnsupportedOperationError, match="np.full .*plain array"):
        tg.trace(lambda c: np.sum(np.full((2, 2), c, dtype=float)), c=2.0)


# --------------------------------------------------------------------------- one triangle read




HERMITIAN_READERS = {
    "pinv": lambda x: np.sum(np.linalg.pinv(x, hermitian=True) * np.array(
        [[1.0, 2.0, 0.5], [3.0, 4.0, -1.0], [0.0, 1.0, 2.0]])),
    "eigvalsh U": lambda x: np.sum(np.linalg.eigvalsh(x, UPLO="U") * np.array([1.0, 2.0, 3.0])),
    "eigh U": lambda x: np.sum(np.linalg.eigh(x, UPLO="U")[1][:, 0] ** 2 * np.arange(3.0)),
    "svd hermitian": lambda x: np.sum(np.linalg.svd(x, hermitian=True)[1] * np.arange(3.0)),
}


@pytest.mark.parametrize("name", sorted(HERMITIAN_READERS))
def test_hermitian_options_differentiate_what_numpy_reads_of_a_nonsymmetric_matrix(name):
    a = np.array([[2.0, 0.6, 0.1], [0.5, 1.0, 0.3], [0.0, 0.2, -3.0]])  # 0.1 off symmetric
    f = HERMITIAN_READERS[name]
    grads = tg.trace(lambda x: f(x), x=a).grads["x"]
    np.testing.assert_allclose(grads, numeric_gradient(f, a), atol=1e-6)


# --------------------------------------------------------------------------- prod, cumprod


@pytest.mark.parametrize("x, expected", [
    ([0.0, 2.0, 3.0], [[0.0, 3.0, 2.0], [3.0, 0.0, 0.0], [2.0, 0.0, 0.0]]),
    ([0.0, 0.0, 3.0], [[0.0, 3.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),
    ([0.0, 0.0, 0.0], [[0.0] * 3] * 3),
])
def test_second_derivatives_of_prod_at_zeros(x, expected):
    h = tg.hessian(lambda x: np.prod(x), x=np.array(x))
    np.testing.assert_array_equal(h.matrix, expected)


def test_second_derivatives_of_prod_over_axes_and_cumprod_at_zeros():
    x = np.array([[0.0, 2.0], [3.0, 0.0], [1.5, 0.5]])
    # Σ_j ∏_i x_ij: the columns' products, each a product of three entries
    h = tg.hessian(lambda x: np.sum(np.prod(x, axis=0)), x=x).matrix
    np.testing.assert_array_equal(h[0, [2, 4]], [1.5, 3.0])      # ∂²/∂x00∂x10 = x20 ...
    np.testing.assert_array_equal(h[3, [1, 5]], [0.5, 2.0])
    # Σ cumprod([0, 2, 3]) = x0 + x0 x1 + x0 x1 x2
    h = tg.hessian(lambda x: np.sum(np.cumprod(x)), x=np.array([0.0, 2.0, 3.0])).matrix
    np.testing.assert_array_equal(h, [[0.0, 4.0, 2.0], [4.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    h = tg.hessian(lambda x: np.sum(np.cumprod(x, axis=1)[:, -1]),
                   x=np.array([[0.0, 0.0, 2.0]])).matrix
    np.testing.assert_array_equal(h[0], [0.0, 2.0, 0.0])


# --------------------------------------------------------------------------- det, slogdet


@pytest.mark.parametrize("a, adjugate_t", [
    ([[1.0, 2.0], [2.0, 4.0]], [[4.0, -2.0], [-2.0, 1.0]]),
    ([[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]),
    ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
     [[-3.0, 6.0, -3.0], [6.0, -12.0, 6.0], [-3.0, 6.0, -3.0]]),
])
def test_det_of_a_singular_matrix_has_the_adjugate_as_gradient(a, adjugate_t):
    t = tg.trace(lambda a: np.linalg.det(a), a=np.array(a))
    assert t.value == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(t.grads["a"], adjugate_t, atol=1e-12)
    squared = tg.trace(lambda a: np.linalg.det(a) ** 2, a=np.array(a))
    np.testing.assert_allclose(squared.grads["a"], 0.0, atol=1e-12)


def test_det_of_a_batch_with_singular_matrices_and_its_second_derivatives():
    a = np.array([[[2.0, 1.0], [0.5, 3.0]], [[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]])
    t = tg.trace(lambda a: np.sum(np.linalg.det(a) * np.array([1.0, 2.0, 3.0])), a=a)
    np.testing.assert_allclose(t.grads["a"], [[[3.0, -0.5], [-1.0, 2.0]],
                                              [[8.0, -4.0], [-4.0, 2.0]], np.zeros((2, 2))],
                               atol=1e-12)
    # det [[a, b], [c, d]] = ad − bc: its Hessian is constant, at the zero matrix too
    h = tg.hessian(lambda a: np.linalg.det(a), a=np.zeros((2, 2))).matrix
    np.testing.assert_allclose(h, [[0, 0, 0, 1], [0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0]],
                               atol=1e-12)
    rank_one = np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 0.5])
    h = tg.hessian(lambda a: np.linalg.det(a), a=rank_one).matrix   # ∂²det/∂a00∂a11 = a22
    assert h[0, 4] == pytest.approx(rank_one[2, 2]) and h[4, 8] == pytest.approx(rank_one[0, 0])


def test_slogdet_of_a_singular_matrix_gives_minus_inf_and_a_flagged_gradient():
    with pytest.warns(tg.NonFiniteWarning):
        t = tg.trace(lambda a: np.linalg.slogdet(a)[1], a=np.array([[1.0, 2.0], [2.0, 4.0]]))
    assert t.value == -np.inf
    assert np.all(np.isinf(t.grads["a"]))


# --------------------------------------------------------------------------- norms at 0


@pytest.mark.parametrize("order", [3.0, 1.5, 0.5, -1.0, -1.5, 1.0, 2.0, np.inf, -np.inf])
def test_every_vector_norm_has_gradient_zero_at_a_zero_vector_row_and_entry(order):
    with np.errstate(divide="ignore"):  # numpy's own value for p < 0 divides by zero
        at_zero = tg.trace(lambda x: np.linalg.norm(x, order), x=np.zeros(3)).grads["x"]
        rows = tg.trace(lambda x: np.sum(np.linalg.norm(x, order, axis=1)),
                        x=np.array([[0.0, 0.0], [1.0, 2.0]])).grads["x"]
        entry = tg.trace(lambda x: np.linalg.norm(x, order), x=np.array([0.0, 1.0, 2.0]))
    assert at_zero.tolist() == [0.0, 0.0, 0.0]
    assert rows[0].tolist() == [0.0, 0.0] and np.all(np.isfinite(rows[1]))
    assert entry.grads["x"][0] == 0.0 and np.all(np.isfinite(entry.grads["x"]))


def test_matrix_norms_at_zero_singular_values_and_ties():
    for order in ("nuc", 2, -2):
        zero = tg.trace(lambda x, order=order: np.linalg.norm(x, order),
                        x=np.zeros((2, 2))).grads["x"]
        assert not np.any(zero), order
    rank_one = tg.trace(lambda x: np.linalg.norm(x, "nuc"), x=np.diag([2.0, 0.0])).grads["x"]
    assert rank_one.tolist() == [[1.0, 0.0], [0.0, 0.0]]      # U₁V₁ᵀ, the centre
    tied = tg.trace(lambda x: np.linalg.norm(x, 2), x=np.eye(2)).grads["x"]
    np.testing.assert_allclose(tied, 0.5 * np.eye(2))


# --------------------------------------------------------------------------- x·log y at x = 0


def test_xlogy_and_xlog1py_are_flat_in_y_where_x_is_zero():
    special = pytest.importorskip("scipy.special")
    with pytest.warns(tg.NonFiniteWarning), np.errstate(divide="ignore"):
        t = tg.trace(lambda x, y: np.sum(special.xlogy(x, y)), x=np.array([0.0, 0.0, 1.0]),
                     y=np.array([0.0, 2.0, 3.0]))
    assert t.grads["y"].tolist() == [0.0, 0.0, pytest.approx(1 / 3)]
    assert t.grads["x"][0] == -np.inf     # ∂/∂x = ln 0: x·ln 0 = −inf on both sides of 0
    with pytest.warns(tg.NonFiniteWarning), np.errstate(divide="ignore"):
        t = tg.trace(lambda x, y: special.xlog1py(x, y), x=0.0, y=-1.0)
    assert t.grads["y"] == 0.0 and t.grads["x"] == -np.inf
    h = tg.hessian(lambda x, y: np.sum(special.xlogy(x, y)), x=np.array([0.0]),
                   y=np.array([2.0])).matrix
    np.testing.assert_allclose(h, [[0.0, 0.5], [0.5, 0.0]])   # ∂²/∂x∂y = 1/y, also at x = 0


def test_kl_divergence_gives_no_gradient_to_q_where_p_is_zero():
    with pytest.warns(tg.NonFiniteWarning), np.errstate(divide="ignore"):
        t = tg.trace(lambda p, q: tg.kl_divergence(p, q), p=np.array([0.0, 0.0, 1.0]),
                     q=np.array([0.0, 0.5, 0.5]))
    assert t.value == pytest.approx(np.log(2.0))
    assert t.grads["q"].tolist() == [0.0, 0.0, -2.0]
    assert t.grads["p"][:2].tolist() == [np.inf, -np.inf]   # KL(h‖0) = inf; ln 0 = −inf


# --------------------------------------------------------------------------- empty index


def test_an_empty_list_index_selects_nothing_as_in_numpy():
    x = np.arange(5.0)
    t = tg.trace(lambda x: np.sum(x[[]]) + x[0], x=x)
    assert t.value == 0.0 and t.grads["x"].tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert tg.trace(lambda x: x[[]] * 2.0, x=x).backward(np.zeros(0)).value.shape == (0,)
    m = np.arange(6.0).reshape(2, 3)
    t = tg.trace(lambda m: np.sum(m[:, []]) + np.sum(m[[[]]]) + m[1, 2], m=m)
    assert t.value == 5.0 and t.grads["m"].tolist() == [[0.0] * 3, [0.0, 0.0, 1.0]]
    assert t.graph.number_of_nodes() and t.to_dot()


# --------------------------------------------------------------------------- empty arrays

EMPTY_REDUCTIONS = {
    "var": np.var, "std": np.std, "median": np.median, "diff": np.diff, "mean": np.mean,
}


@pytest.mark.parametrize("name", sorted(EMPTY_REDUCTIONS))
@pytest.mark.parametrize("shape, axis", [((0,), 0), ((3, 0), -1), ((0, 3), 0), ((3, 0), None)],
                         ids=["(0,)", "(3,0) axis -1", "(0,3) axis 0", "(3,0) all"])
def test_a_rule_on_an_empty_array_gives_numpys_value_and_an_empty_gradient(name, shape, axis):
    # var/std divided by a zero count in Python (ZeroDivisionError), median indexed the
    # missing middle element, diff sent back one element too many
    f = EMPTY_REDUCTIONS[name]
    kwargs = {} if name == "diff" and axis is None else {"axis": axis}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = f(np.ones(shape), **kwargs)
        t = tg.trace(lambda x: f(x, **kwargs), x=np.ones(shape))
        t.backward(np.ones(np.shape(expected)) if np.ndim(expected) else 1.0)
    np.testing.assert_array_equal(t.value, expected)
    assert t.grads["x"].shape == shape


def test_a_quantile_along_an_axis_of_length_3_of_an_empty_array_is_empty():
    t = tg.trace(lambda x: np.quantile(x, 0.3, axis=0, keepdims=True), x=np.ones((3, 0)))
    assert t.value.shape == (1, 0) and t.backward(np.ones((1, 0))).grads["x"].shape == (3, 0)


def test_diff_of_a_higher_order_than_the_length_is_empty_and_constant():
    x = np.array([1.0, 4.0])
    t = tg.trace(lambda x: np.sum(np.diff(x, n=3)) + np.sum(x), x=x)
    assert t.value == 5.0 and np.diff(x, n=3).shape == (0,)
    assert t.grads["x"].tolist() == numeric_gradient(lambda v: np.sum(np.diff(v, n=3)) + np.sum(v),
                                                     x).round(6).tolist()


# --------------------------------------------------------------------------- sum over pairs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, axis, keepdims", [
    ((5, 2), 1, False), ((5, 2), -1, True), ((3, 4, 2), 2, False), ((3, 4, 2), -1, True),
    ((2, 2), 0, False), ((0, 2), 1, False)])
def test_a_sum_over_a_last_axis_of_length_2_has_numpys_bits_and_gradient(dtype, shape, axis,
                                                                          keepdims):
    # the fast path adds the two columns; the values must stay numpy's, -0.0 and NaN too
    rng = np.random.default_rng(7)
    x = rng.normal(size=shape).astype(dtype) * dtype(1e3)
    flat = x.reshape(-1)
    if flat.size >= 4:
        flat[:4] = [-0.0, -0.0, np.nan, 1.0]
    t = tg.trace(lambda x: np.sum(x, axis=axis, keepdims=keepdims), x=x)
    expected = np.sum(x, axis=axis, keepdims=keepdims)
    assert t.value.dtype == expected.dtype and t.value.shape == expected.shape
    np.testing.assert_array_equal(t.value, expected)
    assert np.array_equal(np.signbit(t.value), np.signbit(expected))
    weights = np.arange(1.0, expected.size + 1).reshape(expected.shape)
    grad = tg.trace(lambda x: np.sum(np.sum(x, axis=axis, keepdims=keepdims) * weights),
                    x=x).grads["x"]
    np.testing.assert_array_equal(grad, np.broadcast_to(
        weights if keepdims else np.expand_dims(weights, axis), shape))
