"""np.linalg and the products as users call them: numpy's signatures, defaults,
result types (named tuples), exact values, gradients against central differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracegraph as tg
from tracegraph.rules import decompositions

from rule_cases import numeric_gradient


def assert_traces_like_numpy(f, x, *, rtol=1e-5, atol=1e-7):
    expected = np.asarray(f(x))
    cotangent = np.random.default_rng(1).normal(size=expected.shape)
    t = tg.trace(lambda x: np.sum(f(x) * cotangent), x=x)
    inner = tg.trace(lambda x: f(x), x=x)
    np.testing.assert_array_equal(inner.value, expected)
    np.testing.assert_allclose(t.grads["x"], numeric_gradient(f, x, cotangent),
                               rtol=rtol, atol=atol)
    return inner


# --------------------------------------------------------------------------- norms

VECTOR_ORDS = [None, 2, 1, math.inf, -math.inf, 0, 3, 0.5, -1.5]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_norm_of_every_ord_and_axis(data):
    ndim = data.draw(st.integers(1, 3), label="ndim")
    shape = tuple(data.draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    rng = np.random.default_rng(data.draw(st.integers(0, 1000), label="seed"))
    x = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    matrix = ndim >= 2 and data.draw(st.booleans(), label="matrix")
    keepdims = data.draw(st.booleans(), label="keepdims")
    if matrix:
        axes = data.draw(st.permutations(range(ndim)), label="axes")[:2]
        axis = (axes[0] - ndim, axes[1]) if data.draw(st.booleans()) else tuple(axes)
        ord_ = data.draw(st.sampled_from(MATRIX_ORDS), label="ord")
        if ndim == 2 and data.draw(st.booleans(), label="axis None"):
            axis = None
    else:
        axis = data.draw(st.integers(-ndim, ndim - 1), label="axis") if ndim > 1 or \
            data.draw(st.booleans()) else None
        ord_ = data.draw(st.sampled_from(VECTOR_ORDS), label="ord")
    f = lambda x: np.linalg.norm(x, ord=ord_, axis=axis, keepdims=keepdims)
    kink = REGISTRY_KINKS.get(ord_)
    if kink is not None and kink(x, axis if axis is not None else (0, 1), matrix) < 1e-3:
        return
    assert_traces_like_numpy(f, x)


def _tie_distance(x, axis, matrix):
    # the competing sums (or entries) of max/min norms must not tie
    moved = np.moveaxis(np.abs(x), axis, (-2, -1)) if matrix else np.abs(x)
    values = np.sort(np.concatenate([np.sum(moved, axis=-1).ravel(),
                                     np.sum(moved, axis=-2).ravel()])) if matrix \
        else np.sort(moved.ravel())
    return float(np.min(np.diff(values))) if values.size > 1 else math.inf


def _singular_gap(x, axis, matrix):
    if not matrix:
        return math.inf
    s = np.linalg.svd(np.moveaxis(x, axis, (-2, -1)), compute_uv=False)
    gaps = np.diff(np.sort(s, axis=-1), axis=-1)
    return float(min(np.min(s), np.min(gaps) if gaps.size else math.inf))


REGISTRY_KINKS = {1: _tie_distance, -1: _tie_distance, math.inf: _tie_distance,
                  -math.inf: _tie_distance, 2: _singular_gap, -2: _singular_gap,
                  "nuc": _singular_gap}


def test_norm_refuses_what_numpy_refuses():
    with pytest.raises(ValueError, match="Invalid norm order 'nuc' for vectors"):
        tg.trace(lambda x: np.linalg.norm(x, "nuc"), x=np.ones(3))
    with pytest.raises(ValueError, match="Invalid norm order for matrices"):
        tg.trace(lambda x: np.linalg.norm(x, 3), x=np.ones((2, 2)))
    with pytest.raises(ValueError, match="Improper number of dimensions"):
        tg.trace(lambda x: np.linalg.norm(x, 1), x=np.ones((2, 2, 2)))


def test_norm_orders_are_drawn_with_their_order():
    t = tg.trace(lambda A: np.linalg.norm(A, "nuc") + np.linalg.norm(A[0], np.inf),
                 A=np.array([[3.0, 0.0], [0.0, -4.0]]))
    exprs = {d["expr"] for _, d in t.graph.nodes(data=True) if d["kind"] != "input"}
    assert "‖A‖nuc" in exprs and any(e.endswith("‖∞") for e in exprs)
    np.testing.assert_allclose(t.grads["A"], [[1.0 + 1.0, 0.0], [0.0, -1.0]])


def test_array_api_norms():
    x = np.array([[3.0, -4.0], [1.0, 2.0]])
    assert_traces_like_numpy(lambda x: np.linalg.vector_norm(x, ord=1, axis=(0, 1)), x)
    assert_traces_like_numpy(lambda x: np.linalg.matrix_norm(x, ord="nuc"), x)
    assert_traces_like_numpy(lambda x: np.linalg.vector_norm(x), x)


# --------------------------------------------------------------------------- decompositions


def _symmetric(n, seed=0):
    a = np.random.default_rng(seed).normal(size=(n, n))
    return a + a.T


def test_eigh_returns_numpys_named_tuple_of_two_nodes():
    A = _symmetric(3)
    with tg.Tracer() as tracer:
        result = np.linalg.eigh(tracer.input("A", A))
        assert type(result).__name__ == "EighResult"
        w, V = result
        assert (w.op, V.op) == ("eigh_values", "eigh_vectors")
        np.testing.assert_array_equal(result.eigenvalues.value, np.linalg.eigh(A).eigenvalues)
        np.testing.assert_array_equal(V.value, np.linalg.eigh(A).eigenvectors)


def test_eigh_reads_one_triangle_and_symmetric_inputs_get_symmetric_gradients():
    A = _symmetric(3)
    t = tg.trace(lambda A: np.linalg.eigh(A)[0][-1], A=A)
    assert np.all(np.triu(t.grads["A"], 1) == 0.0)  # numpy ignores the upper triangle
    t = tg.trace(lambda A: np.linalg.eigh(A, UPLO="U")[0][-1], A=A)
    assert np.all(np.tril(t.grads["A"], -1) == 0.0)
    B = np.random.default_rng(3).normal(size=(3, 3))
    t = assert_traces_like_numpy(lambda B: np.linalg.eigh(B + B.T)[1] ** 3, B)
    gradient = tg.trace(lambda B: np.sum(np.linalg.eigh(B + B.T)[0] * [1.0, 2.0, 3.0]),
                        B=B).grads["B"]
    A = B + B.T
    V = np.linalg.eigh(A)[1]
    np.testing.assert_allclose(gradient, 2 * (V * [1.0, 2.0, 3.0]) @ V.T, atol=1e-12)
    assert t.graph.nodes["output"]["op"] == "power"


def test_eigh_at_a_repeated_eigenvalue_drops_the_coupling_terms():
    A = np.diag([1.0, 1.0, 3.0])
    # the projector onto the repeated eigenspace is well defined: its gradient exists
    def projector_weight(A):
        w, V = np.linalg.eigh(A)
        P = V[:, :2] @ V[:, :2].T
        return P[0, 2] * 1.0 + P[2, 2] * 2.0 + w[2]
    t = tg.trace(projector_weight, A=A)
    assert np.all(np.isfinite(t.grads["A"]))
    np.testing.assert_allclose(t.grads["A"], numeric_gradient(projector_weight, A, 1.0),
                               atol=1e-6)


def test_eigenvalues_repeated_up_to_rounding_count_as_repeated():
    # Q diag(1, 1, 3, 4) Qᵀ: numpy's two smallest eigenvalues differ by rounding (~1e-16),
    # and 1/(that) in the coupling terms swamped the gradient of the projector
    rng = np.random.default_rng(2)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    A = Q @ np.diag([1.0, 1.0, 3.0, 4.0]) @ Q.T
    weights = rng.normal(size=(4, 4))

    def projector(B):
        V = np.linalg.eigh(B + B.T)[1][:, :2]
        return np.sum((V @ V.T) * weights)
    t = tg.trace(projector, B=A / 2)
    np.testing.assert_allclose(t.grads["B"], numeric_gradient(projector, A / 2), atol=1e-6)


@pytest.mark.parametrize("singular_values", [[1.0, 1.0, 1.0], [3.0, 1.0, 1.0]])
def test_the_polar_factor_at_repeated_singular_values(singular_values):
    # U @ Vh is smooth wherever no two singular values sum to 0, repeated ones included
    # (an orthogonal matrix): only the coupling 1/(sⱼ − sᵢ) of equal values is dropped
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    A = Q @ np.diag(singular_values)
    weights = rng.normal(size=(3, 3))

    def polar(A):
        U, _, Vh = np.linalg.svd(A)
        return np.sum((U @ Vh) * weights)
    t = tg.trace(polar, A=A)
    np.testing.assert_allclose(t.grads["A"], numeric_gradient(polar, A), atol=1e-6)


def test_svd_values_and_one_shared_factorisation(monkeypatch):
    A = np.random.default_rng(0).normal(size=(4, 3))
    calls = []
    original = np.linalg.svd

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)
    monkeypatch.setattr(decompositions.np.linalg, "svd", counting)
    with tg.Tracer() as tracer:
        U, S, Vh = np.linalg.svd(tracer.input("A", A), full_matrices=False)
        loss = np.sum(U ** 3) + np.sum(S) + np.sum(Vh ** 3)
        trace = tracer.finish(loss)
    monkeypatch.setattr(decompositions.np.linalg, "svd", original)
    assert len(calls) == 2  # the user's call, then one factorisation shared by U, S, Vh
    reference = original(A, full_matrices=False)
    for got, want in zip((U, S, Vh), reference):
        np.testing.assert_array_equal(got.value, want)
    f = lambda A: sum(np.sum(p ** 3 if p.ndim == 2 else p)
                      for p in np.linalg.svd(A, full_matrices=False))
    np.testing.assert_allclose(trace.grads["A"], numeric_gradient(f, A, 1.0), rtol=1e-5,
                               atol=1e-7)


def test_svd_full_matrices_extra_columns_are_refused_only_when_used():
    A = np.random.default_rng(0).normal(size=(4, 2))
    t = tg.trace(lambda A: np.sum(np.linalg.svd(A)[0][:, :2] ** 3), A=A)  # default full
    assert t.grads["A"].shape == (4, 2)
    with pytest.raises(tg.UnsupportedOperationError, match="full_matrices=False"):
        _ = tg.trace(lambda A: np.sum(np.linalg.svd(A)[0] ** 3), A=A).grads


def test_svd_without_vectors_and_svdvals():
    A = np.random.default_rng(1).normal(size=(2, 3, 4))
    assert_traces_like_numpy(lambda A: np.linalg.svd(A, compute_uv=False), A)
    assert_traces_like_numpy(lambda A: np.linalg.svdvals(A), A)


def test_qr_modes():
    A = np.random.default_rng(2).normal(size=(4, 3))
    with tg.Tracer() as tracer:
        result = np.linalg.qr(tracer.input("A", A))
        assert type(result).__name__ == "QRResult"
        np.testing.assert_array_equal(result.Q.value, np.linalg.qr(A).Q)
    assert_traces_like_numpy(lambda A: np.linalg.qr(A)[0], A)
    assert_traces_like_numpy(lambda A: np.linalg.qr(A, mode="r"), A)
    assert_traces_like_numpy(lambda A: np.linalg.qr(A.T)[1], A)  # wide
    with pytest.raises(tg.UnsupportedOperationError, match="raw"):
        tg.trace(lambda A: np.sum(np.linalg.qr(A, mode="raw")[0]), A=A)


def test_slogdet_sign_is_plain_and_guarded():
    A = np.array([[0.0, 2.0], [1.0, 0.5]])  # det = -2
    with tg.Tracer() as tracer:
        x = tracer.input("A", A)
        sign, logabsdet = np.linalg.slogdet(x)
        assert sign == -1.0 and not tg.is_traced(sign)
        trace = tracer.finish(sign * logabsdet)
    assert trace.value == -math.log(2.0)
    np.testing.assert_allclose(trace.grads["A"], -np.linalg.inv(A).T)
    assert len(trace.tape.guards) == 1


def test_solve_inv_det_cholesky_pinv_on_stacks():
    rng = np.random.default_rng(4)
    A = rng.normal(size=(2, 3, 3)) + 3.0 * np.eye(3)
    b = rng.normal(size=3)
    assert_traces_like_numpy(lambda A: np.linalg.solve(A, b), A)
    assert_traces_like_numpy(lambda b: np.linalg.solve(A, b), b)
    assert_traces_like_numpy(lambda A: np.linalg.inv(A), A)
    assert_traces_like_numpy(lambda A: np.linalg.det(A), A)
    spd = A @ np.swapaxes(A, -1, -2)
    assert_traces_like_numpy(lambda S: np.linalg.cholesky(S), spd)
    assert_traces_like_numpy(lambda S: np.linalg.cholesky(S, upper=True), spd)
    assert_traces_like_numpy(lambda A: np.linalg.pinv(A[0, :2]), A)


# --------------------------------------------------------------------------- products


def test_np_dot_on_nd_arrays_follows_numpy_not_matmul():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 4, 2))
    t = assert_traces_like_numpy(lambda a: np.dot(a, b), a)
    assert t.value.shape == (2, 3, 5, 2)
    assert t.graph.nodes["output"]["expr"].startswith("dot(x, ")
    assert_traces_like_numpy(lambda b: np.dot(a, b), b)
    assert_traces_like_numpy(lambda a: np.inner(a, b[:, :, 0]), a)
    assert_traces_like_numpy(lambda a: np.dot(a[0, 0], b), a)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_einsum_every_form(data):
    sizes = {"i": 2, "j": 3, "k": 1, "l": 2}
    first = data.draw(st.text(alphabet="ijkl", max_size=3), label="first")
    second = data.draw(st.text(alphabet="ijkl", max_size=3), label="second")
    rng = np.random.default_rng(0)
    ellipsis = data.draw(st.booleans(), label="ellipsis")
    batch = (2,) if ellipsis else ()
    x = rng.normal(size=batch + tuple(sizes[c] for c in first))
    y = rng.normal(size=tuple(sizes[c] for c in second))
    lead = "..." if ellipsis else ""
    form = data.draw(st.sampled_from(["implicit", "explicit", "sublist"]), label="form")
    if form == "implicit":
        f = lambda x: np.einsum(f"{lead}{first},{second}", x, y)
    elif form == "explicit":
        letters = sorted(set(first + second))
        out = "".join(data.draw(st.permutations(letters), label="out")[
            :data.draw(st.integers(0, len(letters)), label="count")])
        f = lambda x: np.einsum(f"{lead}{first},{second}->{lead}{out}", x, y)
    else:
        code = {c: i for i, c in enumerate("ijkl")}
        sub = ([Ellipsis] if ellipsis else []) + [code[c] for c in first]
        f = lambda x: np.einsum(x, sub, y, [code[c] for c in second])
    assert_traces_like_numpy(f, x)


def test_einsum_node_and_formula_read_like_the_call():
    A, B = np.ones((2, 3)), np.ones((3, 4))
    t = tg.trace(lambda A, B: np.sum(np.einsum("ij,jk->ik", A, B)), A=A, B=B)
    node = next(n for n, d in t.graph.nodes(data=True) if d["op"] == "einsum")
    assert t.graph.nodes[node]["expr"] == "einsum('ij,jk->ik', A, B)"
    assert t.graph.edges["A", node, 0]["formula"] == "einsum('ik,jk->ij', ḡ, B)"
    np.testing.assert_array_equal(t.grads["A"], np.full((2, 3), 4.0))


def test_dot_formulas_name_the_users_values_not_the_rules_parameters():
    # np.dot(a, b): the edge to a read "ḡ ⋅ b over y's free axes", y being the rule's
    # own name for its second argument, which the user never wrote
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    t = tg.trace(lambda a, b: np.dot(a, b), a=a, b=b)
    formulas = {u: f for u, _, f in t.graph.edges(data="formula")}
    to_a, to_b = formulas["a"], formulas["b"]
    assert "b" in to_a and "a" in to_b
    assert not any(word in to_a + to_b for word in ("x's", "y's"))
    np.testing.assert_array_equal(t.grads["a"], b)


def test_trace_diagonal_kron_cross_outer_vdot():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 3, 2))
    assert_traces_like_numpy(lambda x: np.trace(x, 1, 0, -2), x)
    assert_traces_like_numpy(lambda x: np.diagonal(x, -1, 2, 0), x)
    assert_traces_like_numpy(lambda x: np.kron(x[0], np.arange(3.0)), x)
    assert_traces_like_numpy(lambda x: np.cross(x[:, :, 0], x[0, :, 1] + 1.0, axisa=0), x)
    assert_traces_like_numpy(lambda x: np.outer(x[0], x[1]), x)
    assert_traces_like_numpy(lambda x: np.vdot(x[0], x[1].T), x)
    with pytest.raises(tg.UnsupportedOperationError, match="3-vectors"):
        tg.trace(lambda x: np.sum(np.cross(x, x)), x=np.ones((2, 2)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_multi_dot_in_numpys_order(data):
    count = data.draw(st.integers(2, 5), label="count")
    dims = data.draw(st.lists(st.integers(1, 6), min_size=count + 1, max_size=count + 1))
    vector_first, vector_last = data.draw(st.booleans()), data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 1000), label="seed"))
    shapes = [(dims[k], dims[k + 1]) for k in range(count)]
    if vector_first:
        shapes[0] = (dims[1],)
    if vector_last:
        shapes[-1] = (dims[-2],)
    arrays = [rng.normal(size=shape) for shape in shapes]
    for k in range(count):  # each factor in turn is the traced one
        def f(x, k=k):
            return np.linalg.multi_dot(arrays[:k] + [x] + arrays[k + 1:])
        assert_traces_like_numpy(f, arrays[k])


@pytest.mark.parametrize("power", [-5, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 11])
def test_matrix_power_by_numpys_products(power):
    rng = np.random.default_rng(power + 20)
    x = rng.normal(size=(2, 3, 3)) * 0.5 + 2 * np.eye(3)
    inner = assert_traces_like_numpy(lambda x: np.linalg.matrix_power(x, power), x,
                                     rtol=1e-4, atol=1e-6)
    products = sum(eq.primitive is not None and eq.primitive.name == "matmul"
                   for eq in inner.tape.equations)
    exponent = abs(power)
    expected = {0: 0, 1: 0, 2: 1, 3: 2}.get(
        exponent, exponent.bit_length() - 1 + bin(exponent).count("1") - 1)
    assert products == expected
    with pytest.raises(TypeError, match="exponent must be an integer"):
        tg.trace(lambda x: np.linalg.matrix_power(x, 2.0), x=x)
    with pytest.raises(np.linalg.LinAlgError):
        tg.trace(lambda x: np.linalg.matrix_power(x, 2), x=x[..., :2])


# --------------------------------------------------------------------------- the array API's names


@pytest.mark.skipif(not hasattr(np, "vecdot"), reason="np.vecdot arrived with numpy 2")
@pytest.mark.parametrize("x_shape, y_shape, axis", [
    ((4,), (4,), -1), ((2, 3, 4), (3, 4), -1), ((3, 1, 4), (2, 4), -1), ((3, 2), (3, 1), 0),
    ((2, 3, 2), (2, 3, 2), 1), ((5,), (2, 5), -1),
])
def test_vecdot_like_numpy(x_shape, y_shape, axis):
    rng = np.random.default_rng(len(x_shape) + 3 * len(y_shape))
    x, y = rng.normal(size=x_shape), rng.normal(size=y_shape)
    for vecdot in (np.vecdot, np.linalg.vecdot):
        assert_traces_like_numpy(lambda x: vecdot(x, y, axis=axis), x)
        assert_traces_like_numpy(lambda y: vecdot(x, y, axis=axis), y)
    with pytest.raises(tg.UnsupportedOperationError, match="out="):
        tg.trace(lambda x: np.vecdot(x, y, axis=axis, out=np.empty(())), x=x)
    t = tg.trace(lambda x: np.sum(np.vecdot(x, y, axis=axis, casting="same_kind")), x=x)
    assert t.value == np.sum(np.vecdot(x, y, axis=axis))  # numpy's defaults are accepted


@pytest.mark.skipif(not hasattr(np, "cumulative_sum"), reason="arrived with numpy 2.1")
@pytest.mark.parametrize("function", ["cumulative_sum", "cumulative_prod"])
@pytest.mark.parametrize("shape, axis", [((5,), None), ((2, 3), 1), ((2, 3), -2), ((2, 0), 1)])
@pytest.mark.parametrize("include_initial", [False, True])
def test_array_api_running_sums_and_products(function, shape, axis, include_initial):
    x = np.random.default_rng(7).uniform(0.5, 1.5, size=shape)
    func = getattr(np, function)
    inner = assert_traces_like_numpy(
        lambda x: func(x, axis=axis, include_initial=include_initial), x)
    assert inner.value.shape == func(x, axis=axis, include_initial=include_initial).shape


def test_array_api_running_sum_needs_an_axis_for_matrices_like_numpy():
    if not hasattr(np, "cumulative_sum"):
        pytest.skip("arrived with numpy 2.1")
    x = np.ones((2, 3))
    with pytest.raises(ValueError):
        np.cumulative_sum(x)
    with pytest.raises(ValueError, match="axis must be given"):
        tg.trace(lambda x: np.sum(np.cumulative_sum(x)), x=x)


@pytest.mark.parametrize("fn, at", [
    (lambda A: np.sum(np.linalg.eigh(A)[0] ** 2), np.eye(2)),  # smooth, yet coupled
    (lambda A: np.sum(np.linalg.eigh(A)[1][:, :1] ** 2 * A), np.diag([1.0, 1.0, 3.0])),
    (lambda A: np.sum(np.linalg.svd(A)[1] ** 3), np.eye(2)),
])
def test_second_derivatives_at_repeated_eigenvalues_are_refused_not_silently_wrong(fn, at):
    # sum(eigvalsh(A)**2) is A's squared Frobenius norm (one triangle read): its Hessian in
    # A[1, 0] is 4, which dropping the coupling of the equal eigenvalues lost
    assert np.all(np.isfinite(tg.trace(fn, A=at).grads["A"]))  # first order: fine
    with pytest.raises(tg.UnsupportedOperationError, match="repeated eigenvalues"):
        tg.hessian(fn, A=at)
    apart = at + 0.1 * np.diag(np.arange(len(at)))  # off the repeat: exact again
    h = tg.hessian(fn, A=apart).matrix
    step = 1e-5
    for k in range(at.size):
        e = np.zeros(at.size)
        e[k] = step
        numeric = (tg.trace(fn, A=apart + e.reshape(at.shape)).grads["A"]
                   - tg.trace(fn, A=apart - e.reshape(at.shape)).grads["A"]).ravel() / (2 * step)
        np.testing.assert_allclose(h[:, k], numeric, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_whole_array_norm_is_numpys_number_to_the_bit(dtype):
    # np.linalg.norm(x) is sqrt(x·x) by BLAS dot, whose additions run in another order than
    # np.sum's: an ulp apart for about a third of these vectors before.
    rng = np.random.default_rng(3)
    for size in range(2, 60):
        x = rng.normal(size=size).astype(dtype)
        M = rng.normal(size=(3, size)).astype(dtype)
        for value, traced in [(np.linalg.norm(x), tg.trace(np.linalg.norm, x=x)),
                              (np.linalg.norm(M), tg.trace(np.linalg.norm, x=M))]:
            got = traced.tape.equations[traced.tape.output].value
            assert type(got) is type(value) and got == value, size
    t = tg.trace(lambda x: np.linalg.norm(x, keepdims=True) * 2.0, x=x)
    assert np.array_equal(t.value, np.linalg.norm(x, keepdims=True) * 2.0)
    assert np.allclose(tg.trace(np.linalg.norm, x=x.astype(float)).grads["x"],
                       x / np.linalg.norm(x.astype(float)))
