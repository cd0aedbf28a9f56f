"""Traced values behave like numbers and arrays, and refuse loudly what they cannot trace."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import tracegraph as tg


def grad(fn, **inputs):
    return tg.trace(fn, **inputs).grads


# --------------------------------------------------------------------------- plain numpy works


def test_numpy_functions_trace_without_importing_tracegraph():
    def f(x):  # ordinary numpy code
        z = np.exp(x) + np.sin(x) * np.cos(x) - np.log1p(x ** 2)
        return np.sum(np.maximum(z, 0.5) / np.sqrt(1.0 + x * x), axis=0, keepdims=False)
    x = np.array([0.1, 0.7, -0.3])
    t = tg.trace(f, x=x)
    assert t.value == pytest.approx(f(x))
    assert t.graph.number_of_nodes() > 10


def test_reductions_with_axis_and_keepdims():
    x = np.arange(6.0).reshape(2, 3)
    t = tg.trace(lambda x: np.sum(np.mean(x, axis=1, keepdims=True) * x.max(axis=0)), x=x)
    expected = np.sum(np.mean(x, axis=1, keepdims=True) * x.max(axis=0))
    assert t.value == pytest.approx(expected)


def test_python_and_numpy_scalars_mix_with_traced_values():
    t = tg.trace(lambda x: 2 * x + np.float64(3.0) * x - x / 4 + 1 - x ** 2 + 2 ** x, x=1.0)
    assert t.grads["x"] == pytest.approx(2 + 3 - 0.25 - 2 + 2 * math.log(2))


def test_the_power_operator_on_numpy_scalars_has_numpys_scalar_value():
    # np.float64(b) ** 2 is numpy's scalar power (C's pow), np.power(b, 2) the ufunc, which
    # squares: an ulp apart here, and the operator used to give the ufunc's number.
    b = np.float64(1.1130600474378793)
    assert b ** 2 != np.power(b, 2)  # the two numbers Python has
    operator_form = tg.trace(lambda x: np.exp(x) ** 2, x=np.log(b))
    assert operator_form.value == np.exp(np.log(b)) ** 2
    ufunc_form = tg.trace(lambda x: np.power(np.exp(x), 2), x=np.log(b))
    assert ufunc_form.value == np.power(np.exp(np.log(b)), 2)
    assert operator_form.grads["x"] == pytest.approx(2 * np.exp(np.log(b)) ** 2)
    reflected = tg.trace(lambda x: 3 ** np.exp(x) % 1.5, x=np.log(b))
    assert reflected.value == 3 ** np.exp(np.log(b)) % 1.5


def test_the_power_operator_with_a_files_int_or_a_numpy_operand_is_the_scalar_operator(tmp_path):
    # np.float32(1.321) ** 3 is numpy's scalar power (2.3051991); the ufunc gives 2.305199.
    # Written x ** n with the file's n = 3, or x % np.float32(0.7), it took the ufunc.
    from tracegraph.script import load_script

    x = np.float32(1.321)
    assert x ** 3 != np.power(x, 3)
    code = ("import numpy as np\nx = np.float32(1.321)\nn = 3\ny = x ** n\n"
            "z = (y * 1.5) % np.float32(0.7)\nw = 2.0 ** y\nL = (y + z + w) ** n\n")
    path = tmp_path / "powers.py"
    path.write_text(code)
    result = load_script(path)
    namespace = {}
    exec(code, namespace)
    values = {v.name: result.trace.tape.equations[v.index].value for v in result.versions}
    for name in "yzwL":
        assert type(values[name]) is type(namespace[name]) and values[name] == namespace[name]
    assert "n" not in result.inputs  # an exponent stays a constant
    t = tg.trace(lambda x: x ** np.float32(3.0), x=x)
    assert t.tape.equations[t.tape.output].value == x ** np.float32(3.0)
    assert t.grads["x"] == pytest.approx(3 * 1.321 ** 2, rel=1e-6)


def test_ndarray_on_the_left_dispatches_to_the_trace():
    t = tg.trace(lambda w: np.sum(np.array([1.0, 2.0]) * w + np.ones(2) @ w), w=np.ones(2))
    np.testing.assert_array_equal(t.grads["w"], [1.0 + 2.0, 2.0 + 2.0])


def test_comparisons_give_plain_values_and_branches_follow_them():
    def f(x):
        assert isinstance(x > 0, (bool, np.bool_))
        return x * 3.0 if x > 0 else -x
    assert grad(f, x=2.0)["x"] == 3.0
    assert grad(f, x=-2.0)["x"] == -1.0


def test_builtin_sum_len_and_iteration():
    t = tg.trace(lambda v: sum(e * e for e in v) + len(v), v=np.array([1.0, 2.0]))
    assert t.value == 7.0
    np.testing.assert_array_equal(t.grads["v"], [2.0, 4.0])


def test_indexing_slicing_and_pairwise_fancy_indexing():
    X = np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0], [6.0, 8.0, 0.0]])

    def pairwise(X):
        I, J = np.triu_indices(X.shape[0], 1)
        diff = X[I] - X[J]
        return (np.sum(np.sqrt(np.sum(diff * diff, axis=1))) + X[1:, 0].sum()
                + X[np.triu_indices(3, 1)].sum())
    t = tg.trace(pairwise, X=X)
    assert t.value == pytest.approx((5 + 10 + 5) + (3 + 6) + (0 + 0 + 0))
    eps = 1e-6
    numeric = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        up, down = X.copy(), X.copy()
        up[idx] += eps
        down[idx] -= eps
        numeric[idx] = (pairwise(up) - pairwise(down)) / (2 * eps)
    np.testing.assert_allclose(t.grads["X"], numeric, atol=1e-6)


def test_shape_operations_and_joining():
    def f(a, b):
        stacked = np.stack([a, b])                     # (2, 3)
        joined = np.concatenate([a, b * 2.0])          # (6,)
        return np.sum(stacked.T.reshape(-1) * joined) + np.sum(np.where(a > 1.5, a, b))
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    t = tg.trace(f, a=a, b=b)
    assert t.value == pytest.approx(f(a, b))
    assert t.grads["a"].shape == (3,) and t.grads["b"].shape == (3,)


def test_matmul_shapes():
    A, v = np.arange(6.0).reshape(2, 3), np.array([1.0, -1.0, 2.0])
    t = tg.trace(lambda A, v: np.sum(A @ v) + v @ v + np.dot(A, v).sum(), A=A, v=v)
    np.testing.assert_allclose(t.grads["A"], 2 * np.tile(v, (2, 1)))
    np.testing.assert_allclose(t.grads["v"], 2 * A.sum(axis=0) + 2 * v)


def test_integer_arrays_and_objects_pass_through_as_constants():
    labels = np.array([0, 2, 1])
    t = tg.trace(lambda logits, labels, meta: tg.softmax_cross_entropy(logits, labels),
                 logits=np.zeros((3, 3)), labels=labels, meta={"note": "ignored"})
    assert set(t.grads) == {"logits"}
    assert t.value == pytest.approx(math.log(3))


def test_named_constants_appear_in_the_graph_without_gradient():
    X = np.ones((2, 2))
    t = tg.trace(lambda w, X: np.sum(X @ w), w=np.ones(2), X=tg.constant(X))
    assert t.graph.nodes["X"]["kind"] == "constant"
    assert t.graph.nodes["X"]["grad"] is None
    assert "X" not in t.grads


def test_named_functions_work_on_plain_values_too():
    assert tg.sigmoid(0.0) == 0.5
    assert tg.relu(-1.0) == 0.0
    np.testing.assert_allclose(tg.softmax(np.array([0.0, 0.0])), [0.5, 0.5])
    assert tg.logsumexp(np.array([1000.0, 1000.0])) == pytest.approx(1000 + math.log(2))


def test_names_scopes_and_aliases():
    def f(x):
        with tg.scope("layer"):
            h = tg.name(np.tanh(x), "h")
        alias = tg.name(h, "alias")          # already named: keeps "h"
        return tg.name(alias * 2.0, "out")
    t = tg.trace(f, x=0.5)
    assert "h" in t.graph and "alias" not in t.graph
    assert t.graph.nodes["h"]["scope"] == ("layer",)
    assert t.output_name == "out"


# --------------------------------------------------------------------------- loud failures


def test_math_exp_names_the_call_and_suggests_numpy():
    def f(x):
        return math.exp(x)
    with pytest.raises(tg.TracedValueLeakError) as info:
        tg.trace(f, x=1.0)
    message = str(info.value)
    assert "math.exp(x)" in message and "use np.exp(x)" in message and "x.value" in message
    assert "test_core.py:" in message


def test_float_feeding_the_output_is_refused():
    with pytest.raises(tg.TracedValueLeakError, match=r"float\(x\)"):
        tg.trace(lambda x: float(x) * 2.0, x=1.0)


def test_numpy_function_without_a_rule_names_it_and_how_to_register():
    with pytest.raises(tg.UnsupportedOperationError) as info:
        tg.trace(lambda x: np.interp(x, [0.0, 1.0], [0.0, 2.0]), x=0.5)
    assert info.value.operation == "np.interp"
    assert "tracegraph.primitive" in str(info.value)
    with pytest.raises(tg.UnsupportedOperationError, match=r"np\.fft\.rfft"):
        tg.trace(lambda x: np.sum(np.fft.rfft(x)), x=np.ones(3))


def test_in_place_updates_are_refused():
    def f(x):
        acc = np.zeros(2)
        acc += x
        return np.sum(acc)
    with pytest.raises(tg.UnsupportedOperationError, match="in-place"):
        tg.trace(f, x=np.ones(2))
    with pytest.raises(tg.UnsupportedOperationError, match="item assignment"):
        tg.trace(lambda x: x.__setitem__(0, 1.0), x=np.ones(2))


def test_arrays_of_traced_numbers_compute_like_numpy():
    t = tg.trace(lambda a, b: np.sum(np.log(np.array([a, b])) * np.array([3.0, 4.0])),
                 a=1.0, b=2.0)
    assert t.value == pytest.approx(4.0 * np.log(2.0)) and t.grads == {"a": 3.0, "b": 2.0}
    assert tg.trace(lambda a, b: np.mean([a, b]), a=1.0, b=2.0).grads == {"a": 0.5, "b": 0.5}


def test_an_array_of_traced_numbers_meeting_a_traced_value_is_one_pack_node():
    t = tg.trace(lambda a, b, w: np.array([a, b, 1.0]) @ w, a=1.0, b=2.0, w=np.ones(3))
    assert t.value == 4.0 and t.grads["a"] == 1.0 and t.grads["w"].tolist() == [1.0, 2.0, 1.0]
    packs = [n for n, d in t.graph.nodes(data=True) if d["op"] == "pack"]
    assert len(packs) == 1 and t.graph.in_degree(packs[0]) == 3


def test_converting_a_traced_array_to_a_plain_array_is_refused_with_a_fix():
    with pytest.raises(tg.TracedValueLeakError, match="np.stack"):
        tg.trace(lambda a: np.sum(np.asarray(a, dtype=float)), a=np.ones(2))


def test_ufunc_methods_and_keywords_are_named():
    with pytest.raises(tg.UnsupportedOperationError, match="np.add.reduceat"):
        tg.trace(lambda x: np.add.reduceat(x, [0, 2]), x=np.ones(3))


def test_printing_a_traced_value_is_allowed():
    t = tg.trace(lambda x: (f"{x:.2f}", str(x), x * 2.0)[-1], x=1.5)
    assert t.value == 3.0


def test_nan_is_reported_with_the_node_name():
    def f(x):
        root = tg.name(np.sqrt(x - 2.0), "root")
        return root * x
    with pytest.warns(tg.NonFiniteWarning, match="'root'") as record:
        with np.errstate(invalid="ignore"):
            t = tg.trace(f, x=1.0)
    assert any("forward" in str(w.message) for w in record)
    assert t.graph.nodes["root"]["value_nonfinite"]
    assert t.nonfinite and t.nonfinite[0].label == "root"


def test_nan_only_in_the_backward_pass_is_reported_too():
    with np.errstate(divide="ignore"):
        with pytest.warns(tg.NonFiniteWarning, match="gradient"):
            t = tg.trace(lambda x: np.sum(np.sqrt(x)), x=np.array([4.0, 0.0]))
    assert t.grads["x"][0] == 0.25 and np.isinf(t.grads["x"][1])


@pytest.mark.parametrize("f, x, expected", [
    # the classic masked-NaN trap: sqrt's NaN slope in the branch np.where discards
    (lambda x: np.sum(np.where(x > 0, np.sqrt(x), 0.0)), [4.0, -1.0], [0.25, 0.0]),
    (lambda x: np.sum(np.where(x != 0, 1 / x, 0.0) ** 2), [2.0, 0.0], [-0.25, 0.0]),
    (lambda x: np.sum(np.where(x > 0, np.log(x), x)), [1.0, -2.0], [1.0, 1.0]),
])
def test_a_nan_the_function_discards_is_not_in_its_gradient(f, x, expected):
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error", tg.NonFiniteWarning)  # nothing to report
        t = tg.trace(f, x=np.array(x))
        assert t.grads["x"].tolist() == expected
        for edge in t.graph.edges(data=True):  # the diagram's numbers agree
            assert edge[2]["contribution"] is None or np.all(np.isfinite(edge[2]["contribution"]))
        assert all(np.all(np.isfinite(d["grad"])) for _, d in t.graph.nodes(data=True)
                   if d.get("grad") is not None)


def test_importing_tracegraph_does_not_import_the_cli_or_graphviz():
    code = textwrap.dedent("""
        import sys, tracegraph
        heavy = [m for m in ("typer", "rich", "graphviz", "click") if m in sys.modules]
        print(",".join(heavy))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_constants_behave_like_their_values_outside_a_trace():
    eps = tg.constant(1e-8)
    n = tg.constant(3)
    data = tg.constant(np.arange(3.0))
    assert eps * 2 == 2e-8 and list(range(n)) == [0, 1, 2]
    np.testing.assert_array_equal(data + 1, [1.0, 2.0, 3.0])
    t = tg.trace(lambda w, eps, data: np.sum(data * w) + eps, w=1.0, eps=eps, data=data)
    assert set(t.grads) == {"w"}
    assert type(t.graph.nodes["data"]["value"]) is np.ndarray


def test_a_name_repeated_many_times_gets_numbered_ids_quickly():
    def f(x):
        for _ in range(3_000):
            x = tg.name(x * 1.0001, "y")
        return x
    g = tg.trace(f, x=1.0).graph
    assert "y#3000" in g and "y#3001" not in g


def test_divmod_is_floor_division_and_remainder():
    def f(x):
        return divmod(x * 3.0, 1.0)[1] + sum(divmod(5.0, x))

    t = tg.trace(f, x=0.7)
    assert t.value == f(0.7)
    # d/dx (3x mod 1) = 3; 5 // x is flat; d/dx (5 mod x) = −(5 // x) = −7
    assert t.grads["x"] == -4.0


def test_a_nan_sent_by_a_rule_names_that_rule():
    with np.errstate(divide="ignore"), pytest.warns(tg.NonFiniteWarning) as caught:
        tg.trace(lambda x: np.sum(np.sqrt(x) * 2), x=np.array([0.0, 1.0]))
    message = str(caught[0].message)
    assert "inf in the gradient of node 'x'" in message
    assert "it starts in the backward pass at sqrt#1 = √x" in message
    assert "check the inputs of 'sqrt#1'" in message


def test_the_ndarray_methods_people_call_on_arrays_work_or_say_what_to_write():
    x = np.array([[3.0, 1.0], [2.0, 5.0]])
    t = tg.trace(lambda x: np.sum(x.take([0, 3]) * 2) + x.mT[0, 1] + x.real[0, 0]
                 + np.sum(x.imag) + (x > 2).any() + x.flat[1] * 0.5, x=x)
    assert t.value == 16.0 + 2.0 + 3.0 + 1.0 + 0.5
    assert t.grads["x"].tolist() == [[3.0, 0.5], [1.0, 2.0]]
    for method, instead in (("sort", "np.sort"), ("fill", "np.full_like"),
                            ("partition", "np.partition")):
        with pytest.raises(tg.UnsupportedOperationError, match=rf"(?s)x\.{method}\(\).*{instead}"):
            tg.trace(lambda x: getattr(x * 1.0, method)(0), x=x)


def test_tracegraphs_own_abc_checks_see_a_traced_value_as_traced():
    import numbers
    from tracegraph.check.compare import claim_value

    seen = {}

    def f(w):
        seen["user"] = isinstance(w, numbers.Real)
        seen["tracegraph"] = claim_value(w)  # unwraps one level, checks numbers.Real
        return w * 2.0

    tg.trace(f, w=2.0)
    assert seen == {"user": True, "tracegraph": 2.0}
