"""Every numpy shape function tracegraph routes, against numpy itself.

The registry-wide tests check each rule through its primitive; these check
the *routes* (the adapters from numpy's signatures, where np.moveaxis was
once silently the identity): on hypothesis-drawn shapes, axes (negative
ones too) and arguments, the traced value must equal numpy's exactly, and
the gradient of ⟨c, f(x)⟩ must equal what numpy gives for the same affine
map, Σᵢ ⟨c, f(eᵢ) − f(0)⟩ eᵢ (every function here is affine in x).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tracegraph as tg


def _pieces(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def assert_matches_numpy(f, x):
    """f traced at x: values equal numpy's, gradient equals the affine map's transpose."""
    expected = [np.asarray(p) for p in _pieces(f(x))]
    rng = np.random.default_rng(0)
    cotangents = [rng.normal(size=p.shape) for p in expected]
    seen = []

    def weighted(x):
        pieces = _pieces(f(x))
        seen.extend(tg.value_of(p) for p in pieces)
        return sum((np.sum(p * c) for p, c in zip(pieces, cotangents)), 0.0)

    t = tg.trace(weighted, x=x)
    assert len(seen) == len(expected)
    for got, want in zip(seen, expected):
        assert np.shape(got) == want.shape
        np.testing.assert_array_equal(got, want)
    def paired(point):
        return sum(np.sum(np.asarray(p) * c) for p, c in zip(_pieces(f(point)), cotangents))
    offset = paired(np.zeros(np.shape(x)))  # f may be affine (other operands are constants)
    gradient = np.zeros(np.shape(x))
    for index in np.ndindex(np.shape(x)):
        basis = np.zeros(np.shape(x))
        basis[index] = 1.0
        gradient[index] = paired(basis) - offset
    np.testing.assert_allclose(t.grads["x"] if np.ndim(x) else [t.grads["x"]],
                               gradient if np.ndim(x) else [gradient], atol=1e-12)


def _shape(draw, min_dims=0, max_dims=4, min_side=1, max_side=4):
    return draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                 max_side=max_side))


def _array(draw, shape):
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3, allow_subnormal=False)))


def _axis(draw, ndim):
    return draw(st.integers(-ndim, ndim - 1))


def _axes(draw, ndim, min_size=0):
    return draw(st.lists(st.integers(0, ndim - 1), min_size=min_size, max_size=ndim,
                         unique=True).map(lambda axes: [a - ndim if a % 2 else a
                                                        for a in axes]))


# Each case draws an input and returns (x, f) with f written as user code would be.

def case_moveaxis(draw):
    shape = _shape(draw, min_dims=1)
    source = _axes(draw, len(shape), min_size=1)
    destination = draw(st.permutations(range(len(shape))).map(lambda p: list(p[:len(source)])))
    return _array(draw, shape), lambda x: np.moveaxis(x, source, destination)


def case_swapaxes(draw):
    shape = _shape(draw, min_dims=1)
    a, b = _axis(draw, len(shape)), _axis(draw, len(shape))
    return _array(draw, shape), lambda x: np.swapaxes(x, a, b)


def case_rollaxis(draw):
    shape = _shape(draw, min_dims=1)
    axis = _axis(draw, len(shape))
    start = draw(st.integers(-len(shape), len(shape)))
    return _array(draw, shape), lambda x: np.rollaxis(x, axis, start)


def case_transpose(draw):
    shape = _shape(draw)
    axes = draw(st.none() | st.permutations(range(len(shape))).map(tuple))
    return _array(draw, shape), lambda x: np.transpose(x, axes) if axes else x.T


def case_expand_dims(draw):
    shape = _shape(draw, max_dims=3)
    count = draw(st.integers(1, 2))
    axes = _axes(draw, len(shape) + count, min_size=count)[:count]
    return _array(draw, shape), lambda x: np.expand_dims(x, tuple(axes))


def case_squeeze(draw):
    shape = tuple(draw(st.lists(st.sampled_from([1, 1, 2, 3]), max_size=4)))
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = draw(st.none() | st.lists(st.sampled_from(ones), unique=True).map(tuple)) \
        if ones else None
    return _array(draw, shape), lambda x: np.squeeze(x, axis=axis)


def case_reshape(draw):
    shape = _shape(draw)
    target = draw(st.permutations(shape).map(tuple))
    order = draw(st.sampled_from(["C", "F", "A"]))
    transposed = draw(st.booleans())
    return _array(draw, shape), lambda x: np.reshape(x.T if transposed else x, target,
                                                      order=order)


def case_ravel(draw):
    shape = _shape(draw)
    order = draw(st.sampled_from(["C", "F", "A", "K"]))
    view = draw(st.sampled_from(["plain", "transposed", "swapped"]))
    as_method = draw(st.booleans())

    def f(x):
        # Views change the memory layout, which orders "A" and "K" follow.
        if view == "transposed":
            x = x.T
        elif view == "swapped" and np.ndim(x):
            x = np.swapaxes(x, 0, -1)
        return x.flatten(order=order) if as_method else np.ravel(x, order=order)
    return _array(draw, shape), f


def case_atleast(draw):
    shape = _shape(draw, max_dims=3)
    function = draw(st.sampled_from([np.atleast_1d, np.atleast_2d, np.atleast_3d]))
    return _array(draw, shape), lambda x: function(x)


def case_broadcast(draw):
    shape = _shape(draw, max_dims=3)
    target = tuple(draw(st.lists(st.integers(1, 3), max_size=2))) + tuple(
        draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    if draw(st.booleans()):
        return _array(draw, shape), lambda x: np.broadcast_to(x, target)
    return _array(draw, shape), lambda x: np.broadcast_arrays(x, np.zeros(target))


def case_tile(draw):
    shape = _shape(draw, max_dims=3)
    reps = draw(st.integers(0, 3) | st.lists(st.integers(1, 3), min_size=1, max_size=4))
    return _array(draw, shape), lambda x: np.tile(x, reps)


def case_repeat(draw):
    shape = _shape(draw, min_dims=1, max_dims=3)
    axis = draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    length = int(np.prod(shape)) if axis is None else shape[axis]
    repeats = draw(st.integers(0, 3) | st.lists(st.integers(0, 3), min_size=length,
                                                  max_size=length))
    method = draw(st.booleans())
    return _array(draw, shape), lambda x: x.repeat(repeats, axis) if method \
        else np.repeat(x, repeats, axis=axis)


def case_split(draw):
    function = draw(st.sampled_from(["split", "array_split", "hsplit", "vsplit", "dsplit"]))
    min_dims = {"vsplit": 2, "dsplit": 3}.get(function, 1)
    shape = _shape(draw, min_dims=min_dims)
    axis = draw(st.integers(-len(shape), len(shape) - 1)) if "split" == function[-5:] and \
        function in ("split", "array_split") else None
    along = {"hsplit": 1 if len(shape) > 1 else 0, "vsplit": 0, "dsplit": 2}.get(
        function, axis)
    length = shape[along]
    if function == "array_split" or draw(st.booleans()):
        how = draw(st.integers(1, 4) if function == "array_split" else
                   st.lists(st.integers(-length, length + 1), max_size=3))
    else:
        how = draw(st.sampled_from([d for d in range(1, length + 1) if length % d == 0]))
    if function in ("split", "array_split"):
        return _array(draw, shape), lambda x: getattr(np, function)(x, how, axis=axis)
    return _array(draw, shape), lambda x: getattr(np, function)(x, how)


def case_flip(draw):
    function = draw(st.sampled_from(["flip", "fliplr", "flipud"]))
    shape = _shape(draw, min_dims=2 if function == "fliplr" else 1)
    if function == "flip":
        axis = draw(st.none() | st.integers(-len(shape), len(shape) - 1)
                    | st.just(tuple(_axes(draw, len(shape)))))
        return _array(draw, shape), lambda x: np.flip(x, axis)
    return _array(draw, shape), lambda x: getattr(np, function)(x)


def case_roll(draw):
    shape = _shape(draw, min_dims=1)
    if draw(st.booleans()):
        shift = draw(st.integers(-5, 5))
        return _array(draw, shape), lambda x: np.roll(x, shift)
    axes = _axes(draw, len(shape), min_size=1)
    shifts = draw(st.lists(st.integers(-5, 5), min_size=len(axes), max_size=len(axes)))
    return _array(draw, shape), lambda x: np.roll(x, shifts, axis=axes)


def case_rot90(draw):
    shape = _shape(draw, min_dims=2)
    axes = draw(st.permutations(range(len(shape))).map(lambda p: (p[0], p[1] - len(shape))))
    k = draw(st.integers(-5, 5))
    return _array(draw, shape), lambda x: np.rot90(x, k, axes)


def case_pad(draw):
    shape = _shape(draw, min_dims=1, max_dims=3, min_side=2)
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    width = draw(st.integers(0, 3) | st.tuples(st.integers(0, 2), st.integers(0, 2))
                 | st.just(tuple((i % 2, 2 - i % 3) for i in range(len(shape)))))
    if mode == "constant":
        value = draw(st.floats(-2, 2))
        return _array(draw, shape), lambda x: np.pad(x, width, constant_values=value)
    return _array(draw, shape), lambda x: np.pad(x, width, mode=mode)


def case_take(draw):
    shape = _shape(draw, min_dims=1)
    axis = draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    length = int(np.prod(shape)) if axis is None else shape[axis]
    mode = draw(st.sampled_from(["raise", "wrap", "clip"]))
    bound = length if mode == "raise" else 2 * length
    indices = draw(st.integers(-bound, bound - 1) | st.lists(st.integers(-bound, bound - 1),
                                                             max_size=5)
                                .map(lambda picks: np.array(picks, dtype=np.intp)))
    return _array(draw, shape), lambda x: np.take(x, indices, axis=axis, mode=mode)


def case_take_along_axis(draw):
    shape = _shape(draw, min_dims=1)
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(draw(st.sampled_from([1, n])) for n in shape)
    index_shape = index_shape[:axis % len(shape)] + (draw(st.integers(0, 4)),) + \
        index_shape[axis % len(shape) + 1:]
    indices = draw(hnp.arrays(np.intp, index_shape,
                              elements=st.integers(-shape[axis], shape[axis] - 1)))
    return _array(draw, shape), lambda x: np.take_along_axis(x, indices, axis=axis)


def case_joining(draw):
    function = draw(st.sampled_from(["hstack", "vstack", "dstack", "column_stack",
                                     "concatenate", "stack"]))
    ndim = draw(st.integers(0 if function in ("hstack", "vstack", "dstack", "stack") else 1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    count = draw(st.integers(0, 2))
    position = draw(st.integers(0, count))
    if function in ("stack", "vstack", "dstack", "column_stack") or ndim == 0:
        others = [np.full(shape, float(k + 1)) for k in range(count)]
    else:
        others = []
        for k in range(count):
            other = list(shape)
            other[0 if function == "hstack" and ndim == 1 else 1 if function == "hstack"
                  else 0] = k + 1
            others.append(np.full(tuple(other), float(k + 1)))
    def f(x):
        arrays = others[:position] + [x] + others[position:]
        return getattr(np, function)(arrays)
    return _array(draw, shape), f


def case_diagonals(draw):
    function = draw(st.sampled_from(["diagonal", "trace", "diag", "tril", "triu"]))
    offset = draw(st.integers(-2, 2))
    if function == "diag":
        shape = _shape(draw, min_dims=1, max_dims=2)
        return _array(draw, shape), lambda x: np.diag(x, offset)
    if function in ("tril", "triu"):
        shape = _shape(draw, min_dims=1)
        return _array(draw, shape), lambda x: getattr(np, function)(x, offset)
    shape = _shape(draw, min_dims=2)
    axes = draw(st.permutations(range(len(shape))).map(lambda p: (p[0] - len(shape), p[1])))
    return _array(draw, shape), lambda x: getattr(np, function)(x, offset, *axes)


def _other_operand(function, shape, other_shape, count):
    """A plain second operand whose shape fits ``function`` with a traced first one."""
    if function == "matmul":
        return shape[-1:] + other_shape[-1:]
    if function == "dot" and shape:
        return other_shape[:-2] + shape[-1:] + other_shape[-1:] if len(other_shape) > 1 \
            else shape[-1:]
    if function == "inner" and shape:
        return other_shape[:-1] + shape[-1:]
    if function == "vdot":
        return tuple(reversed(shape))
    if function == "tensordot":
        return shape[len(shape) - count:] + other_shape
    return other_shape


def case_products(draw):
    function = draw(st.sampled_from(["dot", "inner", "outer", "kron", "vdot", "tensordot",
                                     "matmul"]))
    shape = _shape(draw, min_dims=1 if function == "matmul" else 0, max_dims=3)
    count = draw(st.integers(0, min(len(shape), 2)))
    other_shape = _other_operand(function, shape, _shape(draw, max_dims=3), count)
    other = np.arange(float(np.prod(other_shape))).reshape(other_shape) - 1.5
    if function == "tensordot":
        return _array(draw, shape), lambda x: np.tensordot(x, other, count)
    if function in ("outer", "kron", "inner", "vdot") and draw(st.booleans()):
        return _array(draw, shape), lambda x: getattr(np, function)(other, x)
    return _array(draw, shape), lambda x: getattr(np, function)(x, other)


def case_einsum(draw):
    letters = "ijk"
    sizes = dict(zip(letters, draw(st.lists(st.integers(1, 3), min_size=3, max_size=3))))
    own = draw(st.text(alphabet=letters, max_size=3))
    other = draw(st.text(alphabet=letters, max_size=3))
    shape = tuple(sizes[c] for c in own)
    operand = np.arange(float(np.prod([sizes[c] for c in other]))).reshape(
        tuple(sizes[c] for c in other)) - 1.0
    if draw(st.booleans()):
        spec = f"{own},{other}"
    else:
        used = sorted(set(own + other))
        output = "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
        spec = f"{own},{other}->{output}"
    return _array(draw, shape), lambda x: np.einsum(spec, x, operand)


def case_index_tricks(draw):
    # np.r_ / np.c_ with their string directives ("axis", "axis,ndmin", "axis,ndmin,trans1d"):
    # every piece is x-shaped, so any directive joins them
    shape = _shape(draw, max_dims=3)
    trick = draw(st.sampled_from(["r_", "c_"]))
    ndmin = draw(st.integers(max(1, len(shape)), len(shape) + 2))
    axis = _axis(draw, ndmin)
    trans1d = draw(st.integers(-1, ndmin - len(shape)))  # numpy's valid range (k1 <= k2)
    alone = _axis(draw, max(len(shape), 1 if trick == "r_" else 2))  # default ndmin
    directive = draw(st.sampled_from([None, f"{alone}", f"{axis},{ndmin}",
                                      f"{axis},{ndmin},{trans1d}"]))
    plain = np.arange(float(np.prod(shape))).reshape(shape) - 2.0
    pieces = draw(st.lists(st.sampled_from(["x", "2x", "plain"]), min_size=1, max_size=3))

    def joined(x):
        parts = tuple({"x": x, "2x": 2.0 * x, "plain": plain}[p] for p in pieces)
        concatenator = getattr(np, trick)
        return concatenator[(directive, *parts) if directive else parts]
    return _array(draw, shape), joined


def case_index_tricks_with_numbers_and_slices(draw):
    x = _array(draw, (draw(st.integers(1, 4)),))
    stop = draw(st.integers(0, 3))
    return x, lambda x: np.r_[x[0], x, 0:stop, 1.5, 2.0 * x[::-1]]


CASES = {name[len("case_"):]: function for name, function in globals().items()
         if name.startswith("case_")}


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_route_matches_numpy(name, data):
    x, f = CASES[name](data.draw)
    assert_matches_numpy(f, x)


def test_moveaxis_is_not_the_identity():
    t = tg.trace(lambda x: np.moveaxis(x, 0, -1), x=np.zeros((2, 3, 4)))
    assert t.value.shape == (3, 4, 2)


def test_hstack_of_one_traced_vector():
    t = tg.trace(lambda x: np.sum(np.hstack([x]) * np.arange(3.0)), x=np.ones(3))
    np.testing.assert_array_equal(t.grads["x"], [0.0, 1.0, 2.0])


def test_split_returns_one_slice_node_per_piece():
    t = tg.trace(lambda x: sum(np.sum(p) for p in np.split(x, 3)), x=np.arange(6.0))
    assert [e.op for e in t.tape.equations].count("getitem") == 3


def test_astype_between_floats_and_to_integers():
    t = tg.trace(lambda x: np.sum(x.astype(np.float32) * 2.0), x=np.arange(3.0))
    np.testing.assert_array_equal(t.grads["x"], [2.0, 2.0, 2.0])
    assert t.grads["x"].dtype == np.float64
    t = tg.trace(lambda x: np.sum(x.astype(int) * x), x=np.array([1.5, 2.5]))
    np.testing.assert_array_equal(t.grads["x"], [1.0, 2.0])  # the cast itself: gradient 0
    with pytest.raises(tg.UnsupportedOperationError, match="complex"):
        tg.trace(lambda x: np.sum(x.astype(complex)), x=np.ones(2))


def test_sort_and_partition_send_gradients_back_and_ties_share_them():
    x = np.array([3.0, 1.0, 2.0, 1.0])
    weights = np.arange(1.0, 5.0)
    t = tg.trace(lambda x: np.sum(np.sort(x) * weights), x=x)
    assert t.value == np.sum(np.sort(x) * weights)
    # sorted: 1 (x[1]), 1 (x[3]), 2 (x[2]), 3 (x[0]): the tied 1s share places 1 and 2
    np.testing.assert_array_equal(t.grads["x"], [4.0, 1.5, 3.0, 1.5])
    t = tg.trace(lambda x: np.sum(np.partition(x, 1) * weights), x=x)
    assert t.grads["x"].sum() == weights.sum() and t.grads["x"][1] == t.grads["x"][3]
    x = np.array([5.0, -1.0, 4.0, 0.5, 2.0])
    t = tg.trace(lambda x: np.partition(x, 2)[2] * 10.0, x=x)
    assert t.value == 20.0
    np.testing.assert_array_equal(t.grads["x"], [0.0, 0.0, 0.0, 0.0, 10.0])


def test_select_picks_the_first_true_condition():
    def f(x, y):
        return np.sum(np.select([x > 0, y > 0], [x * 2.0, y], default=-x) * np.arange(3.0))
    x, y = np.array([1.0, -1.0, -2.0]), np.array([5.0, 3.0, -1.0])
    t = tg.trace(f, x=x, y=y)
    assert t.value == np.sum(np.select([x > 0, y > 0], [x * 2.0, y], -x) * np.arange(3.0))
    np.testing.assert_array_equal(t.grads["x"], [0.0, 0.0, -2.0])
    np.testing.assert_array_equal(t.grads["y"], [0.0, 1.0, 0.0])


def test_bincount_with_traced_weights_is_a_scatter():
    bins = np.array([0, 2, 2, 0])
    t = tg.trace(lambda w: np.sum(np.bincount(bins, weights=w, minlength=4) ** 2),
                 w=np.arange(4.0))
    assert t.value == float(np.sum(np.bincount(bins, np.arange(4.0), 4) ** 2))
    # bins 0 and 2 each hold 3.0: d/dw of Σ count² is 2·3 for every weight
    np.testing.assert_array_equal(t.grads["w"], [6.0, 6.0, 6.0, 6.0])


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 6), rest=st.sampled_from([(), (1,), (2,), (3, 2), (17,)]),
       picks=st.lists(st.integers(-6, 5), min_size=1, max_size=12), data=st.data())
def test_integer_index_gradient_is_np_add_at_also_when_the_index_is_reused(rows, rest, picks,
                                                                         data):
    # The scatter's bins are cached per read-only index array (the tape's frozen copies):
    # one index reused across traces, row shapes and replays must still add like np.add.at.
    index = np.array([p % rows if p >= 0 else max(p, -rows) for p in picks])
    x = data.draw(hnp.arrays(np.float64, (rows, *rest), elements=st.floats(-3, 3)))
    for weights in (np.arange(x[index].size, dtype=float).reshape(x[index].shape), -x[index]):
        t = tg.trace(lambda x: np.sum(x[index] * tg.constant(weights)), x=x)
        expected = np.zeros_like(x)
        np.add.at(expected, index, weights)
        np.testing.assert_array_equal(t.grads["x"], expected)
        t.tape.replay({0: x + 1.0})
        np.testing.assert_array_equal(t.backward().grads["x"], expected)


def test_one_read_only_index_scatters_into_rows_of_any_width():
    from tracegraph.rules.shape import SCATTER_ADD

    index = np.array([3, 0, 3, -1])
    index.flags.writeable = False
    for shape in [(4,), (4, 3), (4, 2), (5, 2), (4, 3), (6, 3)]:
        g = np.arange(4.0 * int(np.prod(shape[1:]))).reshape((4, *shape[1:]))
        expected = np.zeros(shape)
        np.add.at(expected, index, g)
        np.testing.assert_array_equal(SCATTER_ADD(g, shape=shape, index=index), expected)
