"""Arrays built from traced numbers, and numpy functions called on lists of them.

numpy builds ``np.array([a, b])`` itself (an object array holding the traced
numbers); tracegraph packs it into one ``pack`` node with an edge per element
as soon as it meets a traced operation.  Where numpy never hands the array
to tracegraph (``np.mean([a, b])`` reduces the list with Python operators)
the graph shows those operations instead, and values and gradients are
right either way.
"""

from __future__ import annotations

import numpy as np
import pytest

import tracegraph as tg


def _ops(t):
    return [e.op for e in t.tape.equations]


def _pack_edges(t):
    packs = [n for n, d in t.graph.nodes(data=True) if d["op"] == "pack"]
    assert len(packs) == 1, packs
    return sorted(parent for parent, _ in t.graph.in_edges(packs[0]))


def test_np_array_of_traced_numbers_is_one_pack_node():
    t = tg.trace(lambda a, b, c, w: np.sum(np.array([a, b, c]) * w),
                 a=1.0, b=2.0, c=3.0, w=np.array([1.0, 10.0, 100.0]))
    assert t.value == 321.0
    assert (t.grads["a"], t.grads["b"], t.grads["c"]) == (1.0, 10.0, 100.0)
    np.testing.assert_array_equal(t.grads["w"], [1.0, 2.0, 3.0])
    assert _pack_edges(t) == ["a", "b", "c"]


def test_np_asarray_of_a_nested_list_keeps_its_shape():
    t = tg.trace(lambda a, b, v: np.sum(np.asarray([[a, 1.0], [b, a]]) @ v),
                 a=2.0, b=3.0, v=np.array([1.0, 4.0]))
    assert t.value == (2.0 + 4.0) + (3.0 + 8.0)
    assert (t.grads["a"], t.grads["b"]) == (1.0 + 4.0, 1.0)
    np.testing.assert_array_equal(t.grads["v"], [5.0, 3.0])
    assert _pack_edges(t) == ["a", "a", "b", "c0"]  # an edge per element, constants too


def test_np_stack_of_traced_numbers_is_one_node_with_an_edge_each():
    t = tg.trace(lambda a, b: np.sum(np.stack([a, b, a]) ** 2), a=1.0, b=3.0)
    assert t.value == 11.0
    assert (t.grads["a"], t.grads["b"]) == (4.0, 6.0)
    stack = next(n for n, d in t.graph.nodes(data=True) if d["op"] == "stack")
    assert sorted(k for _, _, k in t.graph.in_edges(stack, keys=True)) == [0, 1, 2]


def test_np_r_of_traced_numbers_is_packed():
    t = tg.trace(lambda a, b: np.sum(np.r_[a, b] * b), a=1.0, b=3.0)
    assert (t.value, t.grads["a"], t.grads["b"]) == (12.0, 3.0, 7.0)
    assert _pack_edges(t) == ["a", "b"]


@pytest.mark.parametrize("make", [lambda a, b: [a, b], lambda a, b: (a, b),
                                  lambda a, b: np.array([a, b])])
def test_numpy_reductions_of_lists_of_traced_numbers(make):
    # numpy reduces these with the elements' own operators: right values and gradients,
    # drawn as those operations.
    t = tg.trace(lambda a, b: np.mean(make(a, b)), a=1.0, b=3.0)
    assert (t.value, t.grads["a"], t.grads["b"]) == (2.0, 0.5, 0.5)
    t = tg.trace(lambda a, b: np.max(make(a, b)), a=1.0, b=3.0)
    assert (t.value, t.grads["a"], t.grads["b"]) == (3.0, 0.0, 1.0)
    t = tg.trace(lambda a, b: np.sum(make(a, b)) * np.prod(make(a, b)), a=2.0, b=3.0)
    # (a + b)·ab: d/da = ab + (a + b)·b, d/db = ab + (a + b)·a
    assert (t.value, t.grads["a"], t.grads["b"]) == (30.0, 6.0 + 15.0, 6.0 + 10.0)
    t = tg.trace(lambda a, b: np.var(make(a, b)), a=1.0, b=3.0)
    assert (t.value, t.grads["a"], t.grads["b"]) == (1.0, -1.0, 1.0)


def test_lists_of_elements_of_a_traced_array():
    # x[0] holds a numpy scalar: numpy's mean would convert it with float64(...);
    # a traced number has no dtype, so numpy divides it instead.
    x = np.array([1.0, 2.0, 4.0])
    t = tg.trace(lambda x: np.mean([x[0], x[1]]), x=x)
    assert t.value == 1.5
    np.testing.assert_array_equal(t.grads["x"], [0.5, 0.5, 0.0])
    t = tg.trace(lambda x: np.std([x[0], x[1], x[2]]), x=x)
    assert t.value == pytest.approx(np.std(x))
    np.testing.assert_allclose(t.grads["x"], (x - x.mean()) / (3 * np.std(x)))
    t = tg.trace(lambda x: np.sum(np.array([x[2], x[0]]) * x[:2]), x=x)  # x₂x₀ + x₀x₁
    assert t.value == 4.0 + 2.0
    np.testing.assert_array_equal(t.grads["x"], [4.0 + 2.0, 1.0, 1.0])


def test_np_array_of_traced_arrays_says_to_stack():
    with pytest.raises(tg.TracedValueLeakError, match=r"np\.stack"):
        tg.trace(lambda x: np.sum(np.array([x, x])), x=np.ones(2))


def test_np_r_and_np_c_of_traced_arrays_record_one_concatenation():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    t = tg.trace(lambda x, y: np.sum(np.c_[x, y] * np.array([1.0, 10.0])), x=x, y=y)
    assert t.value == np.sum(np.c_[x, y] * np.array([1.0, 10.0]))
    np.testing.assert_array_equal(t.grads["y"], [10.0, 10.0])
    assert [e.op for e in t.tape.equations].count("concatenate") == 1
    # a traced number among traced arrays: a unit-length piece of the same concatenation
    t = tg.trace(lambda a, x: np.sum(np.r_[a, x] ** 2), a=3.0, x=x)
    assert (t.value, t.grads["a"]) == (14.0, 6.0)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix
def test_np_r_matrix_directives_are_refused_by_name():
    with pytest.raises(tg.TracedValueLeakError, match=r"np\.r_\[\.\.\.\] converts(.|\n)*"
                       r"without the 'r'/'c' directive"):
        tg.trace(lambda x: np.sum(np.r_["r", x, x]), x=np.ones(2))


def test_a_dtype_on_np_array_of_traced_numbers_says_to_leave_it_out():
    with pytest.raises(tg.TracedValueLeakError, match="leave out dtype="):
        tg.trace(lambda a, b: np.sum(np.array([a, b], dtype=float)), a=1.0, b=2.0)


def test_np_stack_keeps_one_node_through_plain_numpy_functions():
    t = tg.trace(lambda a, b, c: -np.sum(np.array([0.2, 0.3, 0.5]) * np.log(np.stack([a, b, c]))),
                 a=0.2, b=0.3, c=0.5)
    assert _ops(t) == ["input", "input", "input", "stack", "log", "multiply", "sum", "negative"]
    assert (t.grads["a"], t.grads["b"], t.grads["c"]) == pytest.approx((-1.0, -1.0, -1.0))



def test_np_array_of_float32_numbers_is_a_float32_array_as_numpy_makes_it(tmp_path):
    # numpy makes a float32 array of float32 numbers, so np.mean(z ** 2) rounds in float32;
    # next to a Python float or a float64 it is float64, as in numpy.
    from tracegraph.script import load_script

    code = ("import numpy as np\na = np.float32(-0.309)\nb = np.float32(0.75)\nc = 0.5\n"
            "z = np.array([a, b * 2, a * b])\nL = np.mean(z ** 2)\n"
            "w = np.array([a * 2, c])\nK = np.sum(w ** 2)\n")
    path = tmp_path / "f32.py"
    path.write_text(code)
    result = load_script(path, output="L")
    namespace = {}
    exec(code, namespace)
    values = {v.name: result.trace.tape.equations[v.index].value for v in result.versions}
    for name in "zLwK":
        assert np.asarray(values[name]).dtype == np.asarray(namespace[name]).dtype, name
        assert np.array_equal(values[name], namespace[name]), name
    assert namespace["z"].dtype == np.float32 and namespace["w"].dtype == np.float64
