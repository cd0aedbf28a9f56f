"""Never silently wrong: what tracegraph refuses, and the edge cases it gets right."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tracegraph as tg


@pytest.mark.parametrize("fn", [lambda x: x ** 0, lambda x: x ** 0 + 3.0 * x ** 0,
                                lambda x: np.power(x, 0.0)])
def test_a_constant_power_has_zero_gradient_everywhere_including_zero(fn):
    for x in (0.0, -1.0, 2.5):
        assert tg.trace(fn, x=x).grads["x"] == 0.0


def test_polynomials_at_zero_have_finite_gradients():
    t = tg.trace(lambda x: 3 * x ** 2 + x ** 1 + 5 * x ** 0, x=0.0)
    assert t.grads["x"] == 1.0


@pytest.mark.parametrize(("fn", "word"), [
    (lambda x: np.allclose(x, x * 3 / 3), "a bool"),
    (lambda x: x > 0, "a bool"),
    (lambda x: 3, "an int"),
    (lambda x: np.argmax(np.array([x, 1.0])), "an int"),
])
def test_a_bool_or_int_result_is_refused_and_named(fn, word):
    with pytest.raises(tg.TracegraphError, match=f"returned {word}"):
        tg.trace(fn, x=1.0)


def test_a_complex_input_is_refused_not_dropped():
    with pytest.raises(tg.TracegraphError, match="'c' is complex"):
        tg.trace(lambda x, c: x * c, x=1.0, c=1 + 2j)
    with pytest.raises(tg.TracegraphError, match="complex array"):
        tg.trace(lambda z: z * 2.0, z=np.array([1j]))


@pytest.mark.parametrize("fn", [lambda x: x * 1j, lambda x: np.abs(x * np.array([1j])),
                                lambda x: np.array([1 + 1j]) + x])
def test_complex_constants_meeting_a_traced_value_are_refused(fn):
    with pytest.raises(tg.UnsupportedOperationError, match="complex") as caught:
        tg.trace(fn, x=1.0)
    # The message reads as a sentence ("complex numbers is not supported" did not).
    assert caught.value.message.startswith("complex arithmetic is not supported on traced values")


def test_moveaxis_moves_axes_like_numpy():
    x = np.arange(24.0).reshape(2, 3, 4)
    for source, destination in [(0, -1), (1, 0), (-1, 1), ((0, 1), (-1, -2))]:
        t = tg.trace(lambda x: np.moveaxis(x, source, destination) * 1.0, x=x)
        np.testing.assert_array_equal(t.value, np.moveaxis(x, source, destination))
    t = tg.trace(lambda x: np.sum(np.moveaxis(x.reshape(2, 3), 0, -1)[0] ** 2),
                 x=np.arange(6.0))
    assert t.value == 9.0


def test_hstack_of_one_traced_array():
    t = tg.trace(lambda x: np.sum(np.hstack([x]) * np.hstack(x)), x=np.arange(3.0))
    assert t.value == 5.0 and t.grads["x"].tolist() == [0.0, 2.0, 4.0]


# --------------------------------------------------------------------------- v[i] = traced
# Filling a preallocated plain array with traced values would keep only the numbers; numpy
# reports it as "setting an array element with a sequence", which reads like the file's own
# bug.  tracegraph names the line and the value instead.

def _fill(a):
    v = np.zeros(3)
    v[0] = a * 2.0
    return np.sum(v)


def _fill_rows(X):
    v = np.zeros((2, 2))
    v[1, :] = X * 2.0
    return np.sum(v)


@pytest.mark.parametrize(("fn", "value", "target", "stored"), [
    (_fill, 2.0, "v[0]", "a * 2.0"), (_fill_rows, np.ones(2), "v[1, :]", "X * 2.0")])
def test_storing_a_traced_value_into_a_plain_array_is_refused_at_its_line(fn, value, target,
                                                                          stored):
    with pytest.raises(tg.TracedValueLeakError) as caught:
        tg.trace(fn, **{fn.__code__.co_varnames[0]: value})
    err = caught.value
    # an unnamed value is named by the code that computed it, not its node id 'multiply#2'
    assert err.message.startswith(f"{target} = ... stores the traced value {stored} into")
    assert err.location is not None and err.location.line.strip().startswith(target)
    assert "np.array([" in err.hint


def test_an_expression_file_filling_a_plain_array_gets_the_same_refusal(tmp_path):
    from tracegraph.script import load_script
    path = tmp_path / "fill.py"
    path.write_text("import numpy as np\na = 2.0\nv = np.zeros(2)\nv[0] = a * 3\n"
                    "loss = np.sum(v)\n")
    with pytest.raises(tg.TracedValueLeakError, match=r"v\[0\] = \.\.\. stores") as caught:
        load_script(path)
    assert caught.value.location.lineno == 4


def test_copying_a_traced_array_with_np_array_says_to_use_it_or_copy_it(tmp_path):
    from tracegraph.script import load_script
    path = tmp_path / "copy.py"
    path.write_text("import numpy as np\nw = np.array([1.0, 2.0])\nv = np.array(w)\n"
                    "loss = np.sum(v * w)\n")
    with pytest.raises(tg.TracedValueLeakError) as caught:
        load_script(path)
    assert caught.value.location.lineno == 3
    assert "w.copy()" in caught.value.hint and "np.stack" not in caught.value.hint
    copied = path.with_name("copied.py")  # following the hint traces as Python runs
    copied.write_text(path.read_text().replace("np.array(w)", "w.copy()"))
    result = load_script(copied)
    assert result.trace.value == pytest.approx(5.0)
    assert result.trace.grads["w"] == pytest.approx(2 * np.array([1.0, 2.0]))


def test_numpys_own_sequence_error_without_a_traced_value_stays_the_files_error(tmp_path):
    from tracegraph.errors import UserCodeError
    from tracegraph.script import load_script
    path = tmp_path / "bad.py"
    path.write_text("import numpy as np\nx = 2.0\ny = x * 3\nv = np.zeros(2)\nv[0] = [1.0, 2.0]\n")
    with pytest.raises(UserCodeError, match="setting an array element with a sequence"):
        load_script(path)
    with tg.Tracer() as tr:  # a refusal the user caught is never blamed on a later error
        a = tr.input("a", 1.0)
        with pytest.raises(ValueError):
            np.zeros(2)[0] = a
    with pytest.raises(ValueError, match="sequence"):
        with tg.Tracer():
            np.zeros(2)[0] = [1.0, 2.0]


def test_a_leak_in_code_without_a_source_line_names_the_value():
    # eval'd code (python -c, notebooks' exec) has no line to read the call from
    f = eval("lambda x: math.exp(x[0])", {"math": math})
    with pytest.raises(tg.TracedValueLeakError) as caught:
        tg.trace(f, x=np.array([0.3, 0.7]))
    assert "'x[0]'" in caught.value.message and "'...'" not in caught.value.message
    assert caught.value.hint.endswith("use x[0].value")


def test_constant_of_a_traced_value_says_to_mark_the_input_instead():
    with pytest.raises(tg.TracegraphError, match="a value of the running trace") as caught:
        tg.trace(lambda w, D: np.sum(tg.constant(D) * w), w=0.5, D=np.ones(2))
    assert caught.value.node == "D" and "X=tg.constant(X)" in caught.value.hint
    assert caught.value.location is not None  # the line that called it
    t = tg.trace(lambda w, D: np.sum(D * w), w=0.5, D=tg.constant(np.ones(2)))
    assert t.grads == {"w": 2.0}


def test_a_traced_norm_order_or_repeat_count_is_refused_not_differentiated_as_zero():
    with pytest.raises(tg.UnsupportedOperationError, match="traced ord"):
        tg.trace(lambda x, p: np.linalg.norm(x, ord=p), x=np.ones(3), p=1.0)  # d/dp ≠ 0
    with pytest.raises(tg.UnsupportedOperationError, match="traced repeats"):
        tg.trace(lambda x, n: np.sum(np.repeat(x, n)), x=np.ones(3), n=2.0)


def test_any_rule_parameter_given_a_traced_value_is_refused():
    # a rule's parameters are fixed settings; a traced one would get a silent zero derivative
    from tracegraph.core import REGISTRY
    with pytest.raises(tg.UnsupportedOperationError, match=r"a traced ord= \('p'\)"):
        with tg.Tracer() as tracer:
            x, p = tracer.input("x", np.ones(3)), tracer.input("p", 3.0)
            tg.core.apply(REGISTRY["vector_norm"], x, ord=p, axis=0, keepdims=False)


def test_an_endless_loop_stops_with_an_error_instead_of_filling_the_memory(monkeypatch):
    from tracegraph.core import record

    monkeypatch.setattr(record, "MAX_OPERATIONS", 65536 * 2)

    def endless(x):
        while True:
            x = x * 1.0

    with pytest.raises(tg.TracegraphError, match="endless loop") as caught:
        tg.trace(endless, x=1.0)
    assert "131,072 operations" in str(caught.value)
    assert "TRACEGRAPH_MAX_OPERATIONS" in caught.value.hint


def test_numpy_converting_an_array_of_traced_numbers_is_refused_with_tracegraphs_words(tmp_path):
    from tracegraph.script import load_script

    path = tmp_path / "astype.py"
    path.write_text("import numpy as np\nfrom numpy import array\nw = 0.8\n"
                    "losses = [w * 2, w ** 2]\n"
                    "arr = array(losses).astype(np.float64)\nloss = np.sum(arr)\n")
    with pytest.raises(tg.TracedValueLeakError) as caught:  # numpy's words: "a sequence"
        load_script(path)
    assert "array(losses).astype(np.float64) turns the traced value 'w·2'" in str(caught.value)
    # np.array(...) of traced numbers is one traced float array wherever it is written
    path.write_text(path.read_text().replace("array(losses)", "np.array(losses)"))
    result = load_script(path)
    assert result.trace.value == np.sum(np.array([0.8 * 2, 0.8 ** 2]).astype(np.float64))
    assert result.trace.grads["w"] == pytest.approx(2 + 2 * 0.8)
