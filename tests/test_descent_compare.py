"""tg.compare: one row per method from the same start, evaluation budgets, evaluations to 99 %."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tracegraph as tg
from tracegraph.descent.compare import ROW_KEYS, first_reaching
from tracegraph.descent.optional import MissingExtraError


def bowl(x, y):
    return (x - 1.0) ** 2 + 10.0 * (y + 2.0) ** 2


def test_rows_have_exactly_the_documented_keys_and_respect_the_budget():
    table = tg.compare(bowl, methods=["gd", "adam", "armijo", "nelder-mead"], budget=150,
                       lr=0.05, x=0.0, y=0.0)
    assert [row["method"] for row in table.rows] == ["gd", "adam", "armijo", "nelder-mead"]
    for row in table.rows:
        assert tuple(row) == ROW_KEYS == ("method", "steps", "evaluations",
                                          "gradient_evaluations", "loss", "evals_to_99",
                                          "seconds")
        assert 1 <= row["evaluations"] <= 150
        assert row["seconds"] >= 0
    nm = table.rows[-1]
    assert nm["gradient_evaluations"] == 0 and nm["loss"] < 1e-3
    gd = table.rows[0]
    assert gd["evaluations"] == gd["gradient_evaluations"] == 150 and gd["steps"] == 149
    text = str(table)
    assert text.splitlines()[0].split()[:2] == ["method", "steps"]
    assert "nelder-mead" in text and "99 % of the improvement" in text


def test_every_method_starts_from_the_same_point_and_evals_to_99_is_measured():
    table = tg.compare(bowl, methods=["gd", "armijo", "nelder-mead"], budget=300, lr=0.1,
                       x=0.0, y=0.0)
    assert {run.history[0] for run in table.runs} == {bowl(0.0, 0.0)}
    best = min(np.nanmin(run.history) for run in table.runs)
    target = 41.0 - 0.99 * (41.0 - best)
    assert table.target == pytest.approx(target)
    for run, row in zip(table.runs, table.rows):
        reached = [i + 1 for i, loss in enumerate(run.history) if loss <= target]
        assert row["evals_to_99"] == (reached[0] if reached else None)
    # Plain gd at lr 0.1 bounces across the y valley (factor 1 − 2·10·0.1 = −1): never gets there.
    assert table.rows[0]["evals_to_99"] is None and table.rows[1]["evals_to_99"] is not None


def test_a_learning_rate_sweep_names_each_run():
    sweep = tg.compare(lambda x: x ** 4, methods=["gd", "nelder-mead"], budget=100,
                       lr=[0.001, 0.01, 0.6], x=2.0)
    assert [row["method"] for row in sweep.rows] == [
        "gd, lr 0.001", "gd, lr 0.01", "gd, lr 0.6", "nelder-mead"]
    assert sweep.runs[2].descent.stopped.startswith("diverged")
    assert sweep.rows[0]["loss"] > sweep.rows[1]["loss"]  # too small crawls


def test_unknown_methods_and_budgets_are_errors():
    with pytest.raises(tg.TracegraphError, match="unknown method 'bfgs'"):
        tg.compare(bowl, methods=["gd", "bfgs"], x=0.0, y=0.0)
    with pytest.raises(tg.TracegraphError, match="budget must be a positive integer"):
        tg.compare(bowl, methods=["gd"], budget=0, x=0.0, y=0.0)


def test_first_reaching_counts_from_one():
    assert first_reaching(np.array([3.0, 2.0, 1.0]), 2.0) == 2
    assert first_reaching(np.array([3.0, np.nan]), 1.0) is None


def test_missing_scipy_is_one_line_with_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(MissingExtraError) as caught:
        tg.compare(bowl, methods=["nelder-mead"], x=0.0, y=0.0)
    assert str(caught.value) == "Nelder-Mead needs scipy: pip install 'tracegraph[descent]'"


def test_missing_matplotlib_is_one_line_with_the_pip_command(monkeypatch, tmp_path):
    run = tg.descend(bowl, x=0.0, y=0.0, steps=3)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingExtraError, match=r"^plots and animations needs matplotlib: "
                       r"pip install 'tracegraph\[descent\]'$"):
        run.plot(tmp_path / "run.png")


def test_a_diverged_method_is_named_under_the_table():
    table = tg.compare(lambda x: x ** 4, methods=["gd", "adam"], budget=50, lr=1.0, x=3.0)
    text = str(table)
    assert "gd: diverged at step" in text and "adam: diverged" not in text
    assert set(table.rows[0]) == set(ROW_KEYS)  # the rows keep exactly their keys


def test_nelder_meads_steps_are_scipys_iterations():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    rosenbrock = lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2  # noqa: E731
    found = tg.compare(rosenbrock, methods=["nelder-mead"], x=-1.0, y=1.0).runs[0]
    reference = scipy_optimize.minimize(lambda v: rosenbrock(*v), [-1.0, 1.0],
                                        method="Nelder-Mead")
    assert (found.steps, found.evaluations) == (reference.nit, reference.nfev)
