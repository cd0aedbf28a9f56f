"""Rules at their edges: NaNs, ties, zeros, singular matrices, empty indices and the
options that change what a rule reads (each case was once wrong)."""

from __future__ import annotations

import numpy as np
import pytest

import tracegraph as tg

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
