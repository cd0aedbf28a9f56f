"""tracegraph.testing: assertions whose failure messages list the wrong steps."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tracegraph as tg
from tracegraph.testing import assert_claims, assert_gradients_numeric, check_primitive

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
G_VALUE = 0.5 * 1.0 - 0.3 * 2.0 + 0.8 * 0.5
S_VALUE = 1.0 / (1.0 + math.exp(-G_VALUE))


def test_a_correct_homework_passes_and_returns_the_report():
    report = assert_claims(EXAMPLES / "neuron_homework.py")
    assert report.ok and len(report.results) == 21


def test_the_failure_message_lists_the_wrong_steps():
    path = EXAMPLES / "neuron_homework_wrong.py"
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                if text.startswith("dS_dG ="))
    with pytest.raises(AssertionError) as failure:
        assert_claims(str(path))
    message = str(failure.value)
    assert message.splitlines()[0] == (
        f"11 of 21 hand-derived derivatives are wrong; first wrong step: dS_dG (line {line}): "
        "claimed 0.9044, true dS/dG = S·(1 − S) = 0.2445")
    assert "claims in " in message and "neuron_homework_wrong.py" in message
    assert f"{line}    dS_dG      dS/dG = S·(1 − S)  wrong" in message
    assert "inherits the error of dS_dG" in message
    assert "dLoss/dw1 = dLoss/dS · dS/dG · dG/dA · dA/dw1" in message
    assert "factors: dLoss/dS exact, dS/dG wrong, dG/dA exact, dA/dw1 exact" in message


def test_claims_can_be_given_for_a_trace():
    t = tg.trace(lambda G: tg.name((1.0 - tg.name(tg.sigmoid(G), "S")) ** 2, "Loss"), G=G_VALUE)
    assert_claims(t, {"dS/dG": S_VALUE * (1 - S_VALUE), "dLoss/dS": -2 * (1 - S_VALUE)})
    with pytest.raises(AssertionError, match=r"1 of 2 hand-derived derivatives is wrong"):
        assert_claims(t, {"dS/dG": S_VALUE * (1 - S_VALUE), "dLoss/dS": 2 * (1 - S_VALUE)})


def test_unresolvable_claims_and_no_claims_fail():
    t = tg.trace(lambda x: tg.name(x * 2.0, "y"), x=1.0)
    with pytest.raises(AssertionError, match=r"not right: dz_dx: unknown name"):
        assert_claims(t, {"dz_dx": 2.0})
    with pytest.raises(AssertionError, match="no claims to check"):
        assert_claims(t, {})


def test_assert_gradients_numeric_traces_a_function():
    report = assert_gradients_numeric(lambda w, b: np.sum(np.tanh(w * 2.0 + b)),
                                      w=np.array([0.1, -0.4]), b=0.3, edges=True)
    assert report.ok and len([r for r in report.results if r.kind == "gradient"]) == 3


def test_assert_gradients_numeric_names_the_worst_offenders():
    @tg.primitive(grads={"x": (lambda g, out, x: g * 3.0 * x, "3·{x}")},
                  name="test_testing_wrong_square")
    def square(x):
        return x * x

    try:
        t = tg.trace(lambda w: tg.name(square(w), "y") * 2.0, w=1.5)
        with pytest.raises(AssertionError) as failure:
            assert_gradients_numeric(t, edges=True)
    finally:
        tg.unregister("test_testing_wrong_square")
    message = str(failure.value)
    assert message.startswith("gradients disagree with finite differences")
    assert "worst offenders:" in message
    assert "w: wrong, engine 9, finite differences 6" in message
    assert "∂y/∂w: wrong, engine 4.5, finite differences 3" in message


def test_inputs_only_go_with_a_function():
    t = tg.trace(lambda x: x * 2.0, x=1.0)
    with pytest.raises(TypeError, match="only used when the first argument is a function"):
        assert_gradients_numeric(t, x=2.0)


def test_check_primitive_passes_a_right_rule_and_fails_a_wrong_one():
    @tg.primitive(grads={"x": (lambda g, out, x: g * (1.0 - out * out), "1 − {out}²")},
                  name="test_testing_my_tanh")
    def my_tanh(x):
        return np.tanh(x)

    @tg.primitive(grads={"x": (lambda g, out, x: g * (1.0 + out * out), "1 + {out}²")},
                  name="test_testing_bad_tanh")
    def bad_tanh(x):
        return np.tanh(x)

    try:
        assert check_primitive(my_tanh, trials=6).ok
        with pytest.raises(AssertionError) as failure:
            check_primitive(bad_tanh, trials=6)
    finally:
        tg.unregister("test_testing_my_tanh")
        tg.unregister("test_testing_bad_tanh")
    message = str(failure.value)
    assert message.startswith("the derivative rule of 'test_testing_bad_tanh' disagrees")
    assert re.search(r"^  trial \d+: x(\[[\d, ]+\])?: wrong, engine ", message, re.M)


def test_the_module_imports_without_pytest():
    code = ("import sys; sys.modules['pytest'] = None; import tracegraph.testing as t; "
            "print(t.assert_claims.__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "assert_claims"
