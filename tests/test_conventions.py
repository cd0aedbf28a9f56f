"""The value at every non-differentiable point, pinned: ties share the gradient equally,
however the function is written (docs/non-differentiable.md).

Each case is one row of the comparison table in the docs; the last test reads that table
and checks its tracegraph column against the values computed here.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import tracegraph as tg
from tracegraph.core import REGISTRY

DOC = Path(__file__).resolve().parent.parent / "docs" / "non-differentiable.md"


def gradient(fn, *values):
    """The gradient of sum(fn(*values)) for each input, as flat lists."""
    names = [f"a{i}" for i in range(len(values))]
    t = tg.trace(lambda **kw: np.sum(fn(*(kw[n] for n in names))),
                 **{n: (np.array(v, float) if isinstance(v, list) else float(v))
                    for n, v in zip(names, values)})
    return [np.ravel(t.grads[n]).tolist() for n in names]


THIRD = 1.0 / 3.0
CASES = {
    ("abs(x)", "x = 0"): (np.abs, (0.0,), [[0.0]]),
    ("relu(x)", "x = 0"): (tg.relu, (0.0,), [[0.5]]),
    ("maximum(x, 0)", "x = 0"): (lambda x: np.maximum(x, 0.0), (0.0,), [[0.5]]),
    ("(x + abs(x)) / 2", "x = 0"): (lambda x: (x + abs(x)) / 2, (0.0,), [[0.5]]),
    ("maximum(x, y)", "x = y = 1"): (np.maximum, (1.0, 1.0), [[0.5], [0.5]]),
    ("minimum(x, y)", "x = y = 1"): (np.minimum, (1.0, 1.0), [[0.5], [0.5]]),
    ("clip(x, 0, 1)", "x = 0"): (lambda x: np.clip(x, 0.0, 1.0), (0.0,), [[0.5]]),
    ("clip(x, 0, 1)", "x = 1"): (lambda x: np.clip(x, 0.0, 1.0), (1.0,), [[0.5]]),
    ("clip(x, 0, None)", "x = 0"): (lambda x: np.clip(x, 0.0, None), (0.0,), [[0.5]]),
    ("max(x)", "x = [1, 1, 0]"): (np.max, ([1.0, 1.0, 0.0],), [[0.5, 0.5, 0.0]]),
    ("max(x)", "x = [1, 1, 1]"): (np.max, ([1.0, 1.0, 1.0],), [[THIRD, THIRD, THIRD]]),
    ("sort(x) · [1, 2, 3]", "x = [1, 1, 0]"): (
        lambda x: np.sort(x) * np.array([1.0, 2.0, 3.0]), ([1.0, 1.0, 0.0],), [[2.5, 2.5, 1.0]]),
    ("median(x)", "x = [1, 1, 0]"): (np.median, ([1.0, 1.0, 0.0],), [[0.5, 0.5, 0.0]]),
    ("median(x)", "x = [1, 2, 3, 4]"): (np.median, ([1.0, 2.0, 3.0, 4.0],),
                                        [[0.0, 0.5, 0.5, 0.0]]),
    ("norm(x)", "x = [0, 0]"): (np.linalg.norm, ([0.0, 0.0],), [[0.0, 0.0]]),
    ("hypot(x, y)", "x = y = 0"): (np.hypot, (0.0, 0.0), [[0.0], [0.0]]),
    ("std(x)", "x = [1, 1]"): (np.std, ([1.0, 1.0],), [[0.0, 0.0]]),
    ("sqrt(x)", "x = 0"): (np.sqrt, (0.0,), [[np.inf]]),
    ("sign(x), floor(x), round(x)", "x = 0, 1, 0.5"): (
        lambda x: np.sign(x[0]) + np.floor(x[1]) + np.round(x[2]), ([0.0, 1.0, 0.5],),
        [[0.0, 0.0, 0.0]]),
    ("prod(x)", "x = [0, 2, 3]"): (np.prod, ([0.0, 2.0, 3.0],), [[6.0, 0.0, 0.0]]),
    ("where(x > 0, x, 0)", "x = 0"): (lambda x: np.where(x > 0, x, 0.0), (0.0,), [[0.0]]),
}
NEEDS = {("sort(x) · [1, 2, 3]", "x = [1, 1, 0]"): "sort"}


@pytest.mark.parametrize("key", list(CASES), ids=[" at ".join(k) for k in CASES])
def test_value_at_the_kink(key):
    needed = NEEDS.get(key)
    if needed and needed not in REGISTRY:
        pytest.skip(f"np.{needed} has no rule on this branch")
    fn, values, expected = CASES[key]
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", tg.NonFiniteWarning)
        got = gradient(fn, *values)
    assert _flat(got) == pytest.approx(_flat(expected)), f"{key}: {got}"


@pytest.mark.parametrize("fn, expected", [
    # Row 0 has no tie, row 1 a two-way tie, row 2 a NaN (no element equals it): as many
    # matches in all as there are rows, which must not pass for "one match each".
    (lambda x: np.max(x, axis=1), [[0, 0, 1], [0.5, 0, 0.5], [0, 0, 0]]),
    (lambda x: np.ptp(x, axis=1), [[-1, 0, 1], [0.5, -1, 0.5], [0, 0, 0]]),
])
def test_ties_share_per_row_whatever_the_other_rows_hold(fn, expected):
    x = np.array([[1.0, 2.0, 3.0], [4.0, 1.0, 4.0], [np.nan, 1.0, 2.0]])
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", tg.NonFiniteWarning)
        t = tg.trace(lambda x: np.sum(np.nan_to_num(fn(x))), x=x)
        grad = t.grads["x"]
    assert grad.tolist() == expected


def _flat(lists):
    return [v for part in lists for v in part]


@pytest.mark.parametrize("fn", [
    tg.relu, lambda x: np.maximum(x, 0.0), lambda x: np.maximum(0.0, x),
    lambda x: np.fmax(x, 0.0), lambda x: np.clip(x, 0.0, None), lambda x: (x + abs(x)) / 2,
    lambda x: np.max(np.stack([x, np.zeros_like(x)]), axis=0),
])
def test_relu_is_the_same_however_it_is_written(fn):
    assert gradient(fn, [0.0, -1.0, 2.0]) == [[0.5, 0.0, 1.0]]


def test_identities_hold_at_the_kink():
    assert gradient(lambda x: tg.relu(x) - tg.relu(-x), 0.0) == [[1.0]]
    assert gradient(lambda x: np.maximum(x, x), 0.0) == [[1.0]]
    assert gradient(lambda x, y: np.maximum(x, y) + np.minimum(x, y), 1.0, 1.0) == [[1.0], [1.0]]
    assert gradient(lambda x: np.abs(x) - np.maximum(x, -x), 0.0) == [[0.0]]
    assert gradient(lambda x, lo: np.clip(x, lo, 2.0), 1.0, 1.0) == [[0.5], [0.5]]
    assert gradient(lambda x, lo, hi: np.clip(x, lo, hi), 1.0, 0.0, 1.0) == [[0.5], [0.0], [0.5]]
    # an array against number bounds (clip's fast path) shares a tie as a number does
    assert gradient(lambda x: np.clip(x, 0.0, 1.0), [0.0, 0.5, 1.0, 2.0, -1.0]) == [
        [0.5, 1.0, 0.5, 0.0, 0.0]]
    assert gradient(lambda x: np.clip(x, 0.0, 1.0), [0.2, 0.5, 3.0]) == [[1.0, 1.0, 0.0]]


def test_max_with_initial_shares_with_the_initial_value():
    assert gradient(lambda x: np.max(x, initial=1.0), [1.0, 0.0]) == [[0.5, 0.0]]


def test_steps_are_nodes_whose_edge_shows_zero():
    t = tg.trace(lambda x: np.floor(x) * 2.0 + x, x=1.5)
    assert t.grads["x"] == 1.0
    floor = next(n for n, d in t.graph.nodes(data=True) if d["op"] == "floor")
    assert t.graph.edges["x", floor, 0]["formula"] == "0"


def test_the_doc_table_states_these_values():
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines()
            if line.startswith("| `")]
    table = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        table[(cells[0].replace("`", ""), cells[1])] = cells[2]
    assert set(table) == set(CASES), "docs/non-differentiable.md and CASES list other rows"
    words = {"⅓": THIRD, "inf": np.inf, "nan": np.nan}
    for key, text in table.items():
        stated = [words.get(v.strip(), None) if v.strip() in words else float(v)
                  for v in re.split(r",\s*", text)]
        expected = _flat(CASES[key][2])
        if len(stated) == 1 and len(expected) > 1:  # one value for a row of equal ones
            stated = stated * len(expected)
        assert stated == pytest.approx(expected), f"{key}: the doc says {text}"
