"""Never silently wrong: what tracegraph refuses, and the edge cases it gets right."""

from __future__ import annotations

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
    with pytest.raises(tg.UnsupportedOperationError, match="complex"):
        tg.trace(fn, x=1.0)


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
