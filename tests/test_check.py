"""tracegraph.check: grading hand-derived derivatives, and finite-difference checks.

The expected derivatives are written out by hand with ``math`` (the seed-002
lesson's table), never read from the engine under test.
"""

from __future__ import annotations

import importlib
import math
import textwrap
import warnings
import re
from pathlib import Path

import numpy as np
import pytest
from seed002 import neuron

import tracegraph as tg
from tracegraph.check import (
    VERDICTS,
    CheckReport,
    check,
    check_script,
    merge_marks,
    numeric_check,
    numeric_check_primitive,
)
from tracegraph.diagram.options import MARK_STATUSES  # the statuses a diagram can draw
from tracegraph.script import load_script

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
W1, X1, W2, X2, W3, X3, GOLD = 0.5, 1.0, -0.3, 2.0, 0.8, 0.5, 1.0
G_VALUE = W1 * X1 + W2 * X2 + W3 * X3
S_VALUE = 1.0 / (1.0 + math.exp(-G_VALUE))


@pytest.fixture(scope="module")
def trace():
    return tg.trace(neuron, w1=W1, x1=X1, w2=W2, x2=X2, w3=W3, x3=X3, gold=GOLD)


def derivation(dS_dG=S_VALUE * (1 - S_VALUE)):
    """A student's derivation of every step of the lecture table, by hand."""
    local = {"dA_dw1": X1, "dA_dx1": W1, "dB_dw2": X2, "dB_dx2": W2, "dC_dw3": X3,
             "dC_dx3": W3, "dG_dA": 1.0, "dG_dB": 1.0, "dG_dC": 1.0, "dS_dG": dS_dG,
             "dLoss_dS": -2.0 * (GOLD - S_VALUE)}
    dLoss_dG = local["dLoss_dS"] * local["dS_dG"]
    chained = {"dLoss_dG": dLoss_dG, "dLoss_dw1": dLoss_dG * X1, "dLoss_dx1": dLoss_dG * W1,
               "dLoss_dw2": dLoss_dG * X2, "dLoss_dx2": dLoss_dG * W2,
               "dLoss_dw3": dLoss_dG * X3, "dLoss_dx3": dLoss_dG * W3}
    return {**local, **chained}


def by_name(report: CheckReport):
    return {result.name: result for result in report.results}


def assert_valid_marks(marks, graph):
    for target, mark in marks.items():
        assert mark["status"] in MARK_STATUSES
        assert isinstance(mark["note"], str) and mark["note"]
        if isinstance(target, tuple):
            assert graph.has_edge(*target), target
        else:
            assert target in graph, target


# --------------------------------------------------------------------------- the homework


def test_a_correct_derivation_is_exact_at_every_step(trace):
    report = check(trace, derivation())
    assert [r.verdict for r in report.results] == ["exact"] * 18
    assert report.ok and report.outcome == "ok" and report.first_wrong is None
    assert report.summary() == "18 claims: 18 exact"
    assert all(mark["status"] == "correct" for mark in report.marks().values())


def test_the_sigmoid_slip_is_named_as_the_first_wrong_step(trace):
    report = check(trace, derivation(dS_dG=S_VALUE * (1 + S_VALUE)))
    results = by_name(report)
    assert report.outcome == "failed" and not report.ok
    first = report.first_wrong
    assert first.name == "dS_dG"
    assert first.claimed == pytest.approx(S_VALUE * (1 + S_VALUE))
    assert first.expected == pytest.approx(S_VALUE * (1 - S_VALUE))
    assert first.formula == "S·(1 − S)"
    wrong = {name for name, r in results.items() if r.verdict == "wrong"}
    assert wrong == {"dS_dG", "dLoss_dG", "dLoss_dw1", "dLoss_dx1", "dLoss_dw2", "dLoss_dx2",
                     "dLoss_dw3", "dLoss_dx3"}
    for name in wrong - {"dS_dG"}:
        assert results[name].chain.first_broken.claim == "dS_dG", name
    assert "first wrong step: dS_dG: claimed 0.9044, true dS/dG = S·(1 − S) = 0.2445" in (
        report.summary())


def test_the_first_wrong_step_follows_the_chain_rule_not_the_order_written(trace):
    claims = dict(reversed(list(derivation(dS_dG=0.9).items())))
    claims["dA_dw1"] = 7.0                   # a second, independent slip further from the loss
    report = check(trace, claims)
    assert report.results[0].name == "dLoss_dx3"
    assert report.first_wrong.name == "dS_dG"
    assert by_name(report)["dLoss_dw1"].chain.first_broken.claim == "dS_dG"


def test_the_chain_of_an_end_to_end_claim_lists_the_lecture_factors(trace):
    result = by_name(check(trace, derivation(dS_dG=0.9)))["dLoss_dw1"]
    (path,) = result.chain.paths
    assert path.nodes == ("w1", "A", "G", "S", "Loss")
    factors = [(s.of, s.wrt, s.verdict) for s in path.steps if s.factor]
    assert factors == [("Loss", "S", "exact"), ("S", "G", "wrong"), ("G", "A", "exact"),
                       ("A", "w1", "exact")]
    partials = [(s.of, s.wrt, s.verdict) for s in path.steps if not s.factor]
    assert partials == [("Loss", "G", "wrong")]
    assert result.chain.first_broken.claim == "dS_dG"
    assert "inherits the error of dS_dG" in result.chain.explanation


def test_a_second_mistake_behind_an_inherited_one_is_reported(trace):
    claims = derivation(dS_dG=0.9)                 # the first wrong step
    claims["dLoss_dw1"] = claims["dLoss_dG"] * W1  # and a slip of its own: w1 for x1
    report = check(trace, claims)
    result = by_name(report)["dLoss_dw1"]
    assert result.chain.first_broken.claim == "dS_dG"
    assert result.chain.own_error is not None
    assert "so the step from G to w1 is wrong too" in result.chain.explanation
    row = next(r for r in report.rows() if r["claim"] == "dLoss_dw1")
    assert row["note"] == "inherits the error of dS_dG, and has one of its own"
    assert report.marks()["w1"]["status"] == "wrong"   # not merely inherited
    headers = [line.split(":")[0] for line in report.explain(inherited=False).splitlines()
               if not line.startswith(" ")]
    assert "dLoss_dw1" in headers
    # the honest heir of the same mistake is still only an heir
    heir = by_name(report)["dLoss_dx1"]
    assert heir.chain.own_error is None and "dLoss_dx1" not in headers
    # built with the user's own wrong step (dLoss_dG = dLoss_dS * dS_dG): only inherited
    homework = check_script(load_script(EXAMPLES / "neuron_homework_wrong.py"))
    assert all(r.chain is None or r.chain.own_error is None for r in homework.results)


def test_a_claim_is_not_a_factor_of_its_own_chain(tmp_path):
    # w feeds L directly and through h₂, h₃: dL/dw is a sum over three paths, and the
    # claim is the direct edge's local derivative (h₃ = 0.81), not the total
    path = tmp_path / "loop.py"
    path.write_text("w = 0.9\nh = 1.0\nfor t in range(3):\n    h = w * h\nL = h\n")
    t = load_script(path).trace
    report = check(t, {"dL_dw": 0.81})   # the direct edge's local derivative, not the total
    (result,) = report.results
    assert result.verdict == "wrong" and result.formula is None  # no "dL/dw = h₃"
    assert result.chain.first_broken is None
    assert all(not step.claimed for path in result.chain.paths for step in path.steps)
    text = report.explain()
    assert "dL/dw is the sum over 3 paths:" in text and "built on it" not in text
    assert "inherits" not in text


def test_unclaimed_factors_are_listed_with_their_true_values(trace):
    result = check(trace, {"dLoss_dw1": 0.5}).results[0]
    assert result.verdict == "wrong" and result.chain.first_broken is None
    steps = {(s.of, s.wrt): s for s in result.chain.paths[0].steps}
    assert steps[("S", "G")].expected == pytest.approx(S_VALUE * (1 - S_VALUE))
    assert steps[("Loss", "S")].expected == pytest.approx(-2 * (GOLD - S_VALUE))
    assert steps[("A", "w1")].expected == X1 and not steps[("A", "w1")].claimed
    assert ("dLoss/dS, dS/dG, dG/dA, dA/dw1 are not claimed" in result.chain.explanation)


def test_a_wrong_partial_result_locates_the_step_between_right_and_wrong(trace):
    dLoss_dS = -2 * (GOLD - S_VALUE)
    report = check(trace, {"dLoss_dS": dLoss_dS, "dLoss_dG": dLoss_dS * 0.5,
                           "dLoss_dw1": dLoss_dS * 0.5 * X1})
    assert report.first_wrong.name == "dLoss_dG"
    chain = by_name(report)["dLoss_dw1"].chain
    assert chain.first_broken.claim == "dLoss_dG"
    assert "dLoss/dS is right, so the error is in the step from S to G" in chain.explanation


def test_right_factors_with_a_wrong_product_blame_the_product(trace):
    claims = derivation()
    claims["dLoss_dw1"] = claims["dS_dG"] * claims["dG_dA"] * claims["dA_dw1"]  # lost dLoss/dS
    result = by_name(check(trace, claims))["dLoss_dw1"]
    assert result.verdict == "wrong" and result.chain.first_broken is None
    assert "every factor is right, so the product" in result.chain.explanation


def test_fan_out_sums_over_paths():
    def f(x):
        a = tg.name(x * 2.0, "a")
        b = tg.name(x * 3.0, "b")
        return tg.name(a * b, "L")

    t = tg.trace(f, x=1.0)          # L = 6x², dL/dx = 12x = 12 through two paths
    report = check(t, {"da_dx": 2.0, "db_dx": 3.0, "dL_da": 3.0, "dL_db": 2.0,
                       "dL_dx": 6.0, "dL/dx#": 12.0})
    results = by_name(report)
    assert results["dL_dx"].verdict == "wrong" and results["dL_dx"].expected == 12.0
    assert len(results["dL_dx"].chain.paths) == 2
    # 6 = dL/da · da/dx: the path through b is missing
    assert "only the path L ← a ← x; it misses L ← b ← x (6)" in \
        results["dL_dx"].chain.explanation
    assert results["dL/dx#"].verdict == "unknown name"
    other = by_name(check(t, {"dL_da": 3.0, "da_dx": 2.0, "dL_db": 2.0, "db_dx": 3.0,
                              "dL_dx": 7.0}))["dL_dx"]
    assert "sum over 2 paths" in other.chain.explanation


# --------------------------------------------------------------------------- verdicts


def test_close_within_tolerance_and_exact_within_rounding(trace):
    true = S_VALUE * (1 - S_VALUE)
    results = check(trace, {"dS_dG": np.nextafter(true, 1.0), "dS/dG": true * (1 + 1e-8),
                            ("S", "G"): true * (1 + 1e-4)}).results
    assert [r.verdict for r in results] == ["exact", "close", "wrong"]
    assert results[1].max_rel_diff == pytest.approx(1e-8, rel=1e-3)
    assert check(trace, {"dS_dG": true * (1 + 1e-8)}, rtol=1e-9).results[0].verdict == "wrong"


def test_numbers_written_by_hand_are_close_to_the_digits_written(trace):
    # dS/dG = 0.244458...: rounded to 4 digits is 0.2445, truncated to 3 is 0.244.
    results = check(trace, {"dS_dG": 0.2445, "dS/dG": 0.244, ("S", "G"): 0.24,
                            "∂S/∂G": 0.2446}).results
    assert [r.verdict for r in results] == ["close", "close", "wrong", "wrong"]
    assert results[0].note == "agrees to the 4 significant digits written"
    strict = check(trace, {"dS_dG": 0.2445}, accept_rounded=False).results[0]
    assert strict.verdict == "wrong"


def test_every_spelling_of_a_claim_names_the_same_derivative(trace):
    true = S_VALUE * (1 - S_VALUE)
    results = check(trace, {"dS_dG": true, "dS/dG": true, "∂S/∂G": true, ("S", "G"): true,
                            " dS / dG ": true}).results
    assert {(r.of, r.wrt, r.verdict) for r in results} == {("S", "G", "exact")}
    assert results[3].name == "dS/dG"


def test_underscored_names_pick_the_split_that_names_nodes():
    def layer(h_1, W_1):
        return tg.name(h_1 * W_1, "out_1")

    t = tg.trace(layer, h_1=2.0, W_1=3.0)
    (result,) = check(t, {"dout_1_dW_1": 2.0}).results
    assert (result.of, result.wrt, result.verdict) == ("out_1", "W_1", "exact")


def test_an_ambiguous_name_asks_for_the_pair():
    def f(a, b_dc, a_db, c):
        return tg.name(a * b_dc + a_db * c + a * c, "out")

    t = tg.trace(f, a=1.0, b_dc=2.0, a_db=3.0, c=4.0)
    (result,) = check(t, {"da_db_dc": 0.0}).results
    assert result.verdict == "unknown name" and not result.holds
    assert "ambiguous" in result.note and "da/db_dc or da_db/dc" in result.note


def test_unknown_names_suggest_close_matches(trace):
    results = check(trace, {"dLos_dS": 1.0, "dS_dQ": 1.0, "slope": 1.0}).results
    assert all(r.verdict == "unknown name" for r in results)
    assert "no node named 'Los' (did you mean Loss?)" in results[0].note
    assert "no node named 'Q'" in results[1].note and "Named nodes: A, B, C, G, Loss, S, gold, w1" in results[1].note
    assert "does not name a derivative" in results[2].note


def test_no_path_holds_only_for_a_zero_claim(trace):
    results = check(trace, {"dA_dx2": 0.0, "dA_dw2": 0.5, "dw1_dLoss": 0.0}).results
    assert [(r.verdict, r.holds) for r in results] == [
        ("no path", True), ("no path", False), ("no path", True)]
    assert "x2 does not influence A" in results[0].note
    assert results[1].note.endswith("not 0.5")


def test_constants_and_non_numbers_are_explained():
    t = tg.trace(lambda w, X: tg.name(np.sum(X * w), "L"), w=2.0, X=tg.constant(np.ones(3)))
    results = check(t, {"dL_dX": np.ones(3), "dL_dw": "3", "dL/dw": True}).results
    assert results[0].verdict == "unknown name" and "'X' is a constant" in results[0].note
    assert [r.verdict for r in results[1:]] == ["not a number", "not a number"]
    assert "str, not a number" in results[1].note


def test_a_gradient_claim_of_the_wrong_shape_is_a_shape_mismatch(trace):
    (result,) = check(trace, {"dLoss_dw1": np.ones(3)}).results
    assert result.verdict == "shape mismatch" and not result.holds
    assert result.note == "dLoss/dw1 has the shape of w1 (a number), but the claim has shape (3,)"


def test_at_a_kink_a_claim_is_not_differentiable_here():
    t = tg.trace(lambda x: tg.name(tg.relu(tg.name(x * 1.0, "z")), "r") * 2.0, x=0.0)
    results = check(t, {"dr_dz": 1.0, "dr/dz": 0.5}).results
    assert results[0].verdict == "not differentiable here" and results[0].holds
    assert "'r' sits exactly at a point where it is not differentiable" in results[0].note
    assert results[1].verdict == "exact"     # tracegraph's convention: relu'(0) = ½
    assert results[0].status == "nondiff"
    # The kink of r concerns r's input; d(output)/dr itself is an ordinary derivative.
    (after,) = check(t, {"doutput_dr": 3.0}).results
    assert after.verdict == "wrong" and after.expected == 2.0


def test_claims_may_be_traced_values_and_do_not_change_the_graph():
    with tg.Tracer() as tr:
        G = tr.input("G", 0.3)
        S = tg.name(tg.sigmoid(G), "S")
        loss = tg.name((1.0 - S) ** 2, "Loss")
        claims = {"dS_dG": S * (1 - S), "dLoss_dS": -2 * (1 - S)}
        t = tr.finish(loss)
    plain = tg.trace(lambda G: tg.name((1.0 - tg.name(tg.sigmoid(G), "S")) ** 2, "Loss"), G=0.3)
    assert list(t.graph.nodes) == list(plain.graph.nodes)
    assert [r.verdict for r in check(t, claims).results] == ["exact", "exact"]


def test_verdicts_are_drawn_from_the_documented_list(trace):
    report = check(trace, {"dS_dG": 0.1, "dA_dx2": 0.0, "dQ_dG": 1.0, "dS/dG": "x"})
    assert {r.verdict for r in report.results} <= set(VERDICTS)


# --------------------------------------------------------------------------- arrays


@pytest.fixture(scope="module")
def tanh_layer():
    X = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 1.0]])
    y = np.array([0.5, -0.5])

    def loss(w, b, X, y):
        z = tg.name(X @ w + b, "z")
        p = tg.name(np.tanh(z), "p")
        return tg.name(np.mean((p - y) ** 2), "L")

    w = np.array([0.1, -0.2, 0.3])
    t = tg.trace(loss, w=w, b=0.5, X=tg.constant(X), y=tg.constant(y))
    z = X @ w + 0.5
    p = np.tanh(z)
    return t, X, y, z, p


def test_elementwise_and_full_jacobian_claims(tanh_layer):
    t, X, y, z, p = tanh_layer
    dL_dp = 2 * (p - y) / 2
    results = check(t, {"dp_dz": 1 - p ** 2, "dp/dz": np.diag(1 - p ** 2), "dz_dw": X,
                        "dz_db": 1.0, "dL_dp": dL_dp,
                        "dL_dw": X.T @ (dL_dp * (1 - p ** 2))}).results
    assert [(r.verdict, r.form) for r in results] == [
        ("exact", "elementwise"), ("exact", "jacobian"), ("exact", "jacobian"),
        ("exact", "jacobian"), ("exact", "gradient"), ("exact", "gradient")]


def test_a_jacobian_too_large_to_compute_is_refused():
    t = tg.trace(lambda x: tg.name(np.sum(tg.name(x * np.ones(5000), "y")), "L"), x=1.0)
    (result,) = check(t, {"dy_dx": 1.0}).results
    assert result.verdict == "shape mismatch"
    assert "the Jacobian has 5,000 rows, too many to compute" in result.note


def test_the_worst_element_of_a_wrong_array_claim_is_reported(tanh_layer):
    t, X, y, z, p = tanh_layer
    claim = 1 - p ** 2
    claim[1] += 0.3
    (result,) = check(t, {"dp_dz": claim}).results
    assert result.verdict == "wrong" and result.worst_index == (1,)
    assert result.max_abs_diff == pytest.approx(0.3)
    assert "worst element [1]" in result.note


def test_array_shape_mismatches_say_which_shapes_would_fit(tanh_layer):
    t, X, y, z, p = tanh_layer
    results = check(t, {"dp_dz": np.ones(3), "dL_dw": np.ones(2)}).results
    assert [r.verdict for r in results] == ["shape mismatch"] * 2
    assert results[0].note == ("dp/dz should have shape (2,) (elementwise) or (2, 2) (the full "
                               "Jacobian), but the claim has shape (3,)")
    assert "dL/dw has the shape of w (shape (3,))" in results[1].note


def test_an_elementwise_claim_of_a_non_elementwise_function_is_refused():
    t = tg.trace(lambda x: tg.name(np.sum(tg.name(tg.softmax(x), "s") * np.arange(3.0)), "L"),
                 x=np.array([0.1, 0.2, 0.3]))
    (result,) = check(t, {"ds_dx": np.ones(3)}).results
    assert result.verdict == "shape mismatch"
    assert "s is not an elementwise function of x" in result.note
    assert "shape (3, 3)" in result.note
    s = np.exp([0.1, 0.2, 0.3]) / np.exp([0.1, 0.2, 0.3]).sum()
    (full,) = check(t, {"ds_dx": np.diag(s) - np.outer(s, s)}).results
    assert full.verdict in ("exact", "close")


# --------------------------------------------------------------------------- report & marks


def test_marks_highlight_the_first_wrong_edge_and_the_inherited_nodes(trace):
    report = check(trace, derivation(dS_dG=S_VALUE * (1 + S_VALUE)))
    marks = report.marks()
    assert_valid_marks(marks, trace.graph)
    assert marks[("G", "S", 0)] == {
        "status": "wrong", "note": "first wrong step: dS_dG = 0.9044, true 0.2445"}
    assert marks["w1"] == {"status": "inherited",
                           "note": "dLoss_dw1 = -0.7698, true -0.2081 (inherits dS_dG)"}
    assert marks[("w1", "A", 0)] == {"status": "correct", "note": "dA_dw1 = 1"}
    assert marks["S"]["status"] == "correct"


def test_unclaimed_edges_on_a_wrong_chain_are_marked_unchecked(trace):
    marks = check(trace, {"dLoss_dw1": 0.5}).marks()
    assert_valid_marks(marks, trace.graph)
    for edge in [("w1", "A", 0), ("A", "G", 0), ("G", "S", 0)]:
        assert marks[edge]["status"] == "unchecked", edge
    assert marks["w1"]["status"] == "wrong"


def test_merge_marks_keeps_the_worse_status_and_both_notes():
    merged = merge_marks({"G": {"status": "correct", "note": "a"}, "S": {"status": "close",
                                                                         "note": "b"}},
                         {"G": {"status": "nondiff", "note": "c"}})
    assert merged == {"G": {"status": "nondiff", "note": "a; c"},
                      "S": {"status": "close", "note": "b"}}


def test_rows_and_text_for_the_command_line(trace):
    report = check(trace, {"dS_dG": 0.9, "dLoss_dS": -2 * (GOLD - S_VALUE)})
    rows = report.rows()
    assert rows[0] == {"line": "", "claim": "dS_dG", "derivative": "dS/dG = S·(1 − S)",
                       "verdict": "wrong", "claimed": "0.9", "expected": "0.2445",
                       "note": "first wrong step; abs diff 0.656, rel diff 2.68"}
    text = str(report)
    assert text.splitlines()[0] == "checking claims"
    assert re.search(r"^claim +derivative +verdict +claimed +true value +note$", text, re.M)
    assert "dS_dG: wrong, the first wrong step" in text


def test_nothing_to_check_exits_2(trace):
    report = check(trace, {})
    assert report.outcome == "nothing checked" and not report.ok
    assert report.summary().startswith("no claims to check")


def test_check_needs_a_trace():
    with pytest.raises(TypeError, match="needs a Trace"):
        check({"dS_dG": 1.0})


# --------------------------------------------------------------------------- the example files


def _line_of(path: Path, prefix: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(prefix))


def test_the_homework_example_holds_at_every_step():
    from tracegraph.script import load_script

    report = check_script(load_script(EXAMPLES / "neuron_homework.py"))
    assert report.outcome == "ok"
    assert len(report.results) == 21 and {r.verdict for r in report.results} == {"exact"}
    assert [r.lineno for r in report.results] == sorted(r.lineno for r in report.results)


def test_the_wrong_homework_example_names_dS_dG_with_its_line():
    from tracegraph.script import load_script

    path = EXAMPLES / "neuron_homework_wrong.py"
    report = check_script(load_script(path))
    assert report.outcome == "failed"
    first = report.first_wrong
    assert (first.name, first.lineno) == ("dS_dG", _line_of(path, "dS_dG ="))
    assert first.claimed == pytest.approx(S_VALUE * (1 + S_VALUE))
    assert first.expected == pytest.approx(S_VALUE * (1 - S_VALUE))
    assert report.source.endswith("neuron_homework_wrong.py")
    held = {r.name for r in report.results if r.holds}
    assert held == {"dA_dw1", "dA_dx1", "dB_dw2", "dB_dx2", "dC_dw3", "dC_dx3", "dG_dA",
                    "dG_dB", "dG_dC", "dLoss_dS"}


def test_the_two_examples_differ_only_in_the_sigmoid_step():
    right = (EXAMPLES / "neuron_homework.py").read_text().split('"""', 2)[2].splitlines()
    wrong = (EXAMPLES / "neuron_homework_wrong.py").read_text().split('"""', 2)[2].splitlines()
    changed = [(a, b) for a, b in zip(right, wrong) if a != b]
    assert len(right) == len(wrong)
    assert [(a.split("#")[0].strip(), b.split("#")[0].strip()) for a, b in changed
            if not a.lstrip().startswith("print")] == [
        ("dS_dG = S * (1 - S)", "dS_dG = S * (1 + S)")]


def test_the_rendered_diagram_marks_the_first_wrong_step():
    diagram = pytest.importorskip("tracegraph.diagram")
    from tracegraph.script import load_script

    result = load_script(EXAMPLES / "neuron_homework_wrong.py")
    report = check_script(result)
    dot = diagram.to_dot(result.trace, marks=report.marks())
    plain = diagram.to_dot(result.trace)
    edge = next(line for line in dot.splitlines() if line.strip().startswith('"G" -> "S"'))
    assert "first wrong step: dS_dG = 0.9044, true 0.2445" in edge
    assert "first wrong step" not in plain
    assert edge != next(line for line in plain.splitlines()
                        if line.strip().startswith('"G" -> "S"'))


# --------------------------------------------------------------------------- finite differences


def test_numeric_check_agrees_on_the_neuron(trace):
    report = numeric_check(trace, edges=True)
    gradients = [r for r in report.results if r.kind == "gradient"]
    assert [r.node for r in gradients] == ["w1", "x1", "w2", "x2", "w3", "x3", "gold"]
    dLoss_dG = -2 * (GOLD - S_VALUE) * S_VALUE * (1 - S_VALUE)
    assert gradients[0].numeric == pytest.approx(dLoss_dG * X1, rel=1e-8)
    local = {(r.wrt, r.node): r for r in report.results if r.kind == "local"}
    assert local[("G", "S")].numeric == pytest.approx(S_VALUE * (1 - S_VALUE), rel=1e-8)
    assert report.ok and report.outcome == "ok" and not report.nondifferentiable
    assert report.step == pytest.approx(np.finfo(float).eps ** (1 / 3))


def test_numeric_check_of_float32_numbers_differences_in_float64(tmp_path):
    # np.float32 numbers moved by a Python-float step computed in float32 (NEP 50): the
    # rounding swamped the difference and a right gradient was reported wrong (exit 1).
    path = tmp_path / "f32.py"
    path.write_text("import numpy as np\na = np.float32(0.3)\nb = np.float64(1.7)\n"
                    "e = a * np.float32(3.0) + a\nloss = (a * b) * e + np.exp(a)\n")
    result = load_script(path)
    a, b = float(np.float32(0.3)), 1.7
    assert result.trace.grads["a"] == pytest.approx(8 * a * b + math.exp(a), rel=1e-6)
    first = numeric_check(result.trace, edges=True)
    second = numeric_check(result.trace, order=2)
    assert first.outcome == "ok" and second.outcome == "ok", (first.results, second.results)
    hessian = {(r.node, r.wrt): r.numeric for r in second.results}
    assert hessian[("b", "a")] == pytest.approx(8 * a, rel=1e-7)  # ∂²loss/∂a∂b = 8a


@pytest.mark.parametrize("fn, inputs, claim, holds", [
    # |x| + 2x at 0: the slopes from the two sides are 1 and 3
    (lambda x: np.abs(x) + 2 * x, {"x": 0.0}, 3.0, True),
    (lambda x: np.abs(x) + 2 * x, {"x": 0.0}, 1.0, True),
    (lambda x: np.abs(x) + 2 * x, {"x": 0.0}, 5.0, False),
    # w·relu(x) + w²·x at 0, w = 3: 9 to 12
    (lambda x, w: w * np.maximum(x, 0.0) + w ** 2 * x, {"x": 0.0, "w": 3.0}, 12.0, True),
    (lambda x, w: w * np.maximum(x, 0.0) + w ** 2 * x, {"x": 0.0, "w": 3.0}, -50.0, False),
    # a smooth element next to a kinked one is graded as usual
    (lambda x: np.sum(np.maximum(x, 0.0)) + 5 * x[1], {"x": np.array([0.0, 1.0])},
     np.array([1.0, 6.0]), True),
    (lambda x: np.sum(np.maximum(x, 0.0)) + 5 * x[1], {"x": np.array([0.0, 1.0])},
     np.array([0.5, 99.0]), False),
    # tied maxima may split their share any way, but the shares add up to the whole
    (lambda A: 3 * np.sum(np.max(A, axis=1)), {"A": np.array([[2.0, 2.0, 1.0], [0, 3, 1]])},
     np.array([[3.0, 0.0, 0.0], [0, 3, 0]]), True),
    (lambda A: 3 * np.sum(np.max(A, axis=1)), {"A": np.array([[2.0, 2.0, 1.0], [0, 3, 1]])},
     np.array([[1.0, 1.0, 0.0], [0, 3, 0]]), False),
    # ... also when only one of them differs from the convention
    (lambda x: 3 * np.max(x), {"x": np.array([1.0, 1.0, 0.0])}, np.array([3.0, 1.5, 0.0]),
     False),
    # ... and two tie groups cannot make up for each other
    (lambda x: np.sum(np.max(x, axis=1) * np.array([1.0, 10.0])), {"x": np.ones((2, 2))},
     np.array([[1.0, 1.0], [9.0, 0.0]]), False),
    (lambda x: np.sum(np.max(x, axis=1) * np.array([1.0, 10.0])), {"x": np.ones((2, 2))},
     np.array([[1.0, 0.0], [4.0, 6.0]]), True),
    # the curvature of a smooth piece does not move the two sides (exactly ±1 here)
    (lambda x: np.abs(x) - 500 * x ** 2, {"x": 0.0}, 1.0, True),
    (lambda x: np.abs(x) + np.cos(100 * x), {"x": 0.0}, -1.0, True),
    (lambda x: np.abs(x) + 1e9 * x ** 2, {"x": 0.0}, 40.0, False),
    # nor does a large neighbour widen them
    (lambda x: np.abs(x[0]) + 50 * x[0] ** 2 + x[1], {"x": np.array([0.0, 1e6])},
     np.array([5.0, 1.0]), False),
])
def test_at_a_kink_only_a_value_between_the_two_sides_holds(fn, inputs, claim, holds):
    t = tg.trace(fn, **inputs)
    wrt = next(iter(inputs))
    (result,) = check(t, {(t.output_name, wrt): claim}).results
    assert result.holds is holds
    assert result.verdict == ("not differentiable here" if holds else "wrong")
    assert "sits exactly at a point where it is not differentiable" in result.note
    if not holds:
        assert "outside what the two sides give" in result.note or "add up to" in result.note


@pytest.mark.parametrize("fn, x, nondiff", [
    (lambda x: tg.relu(x) * 3.0, 0.0, True),
    (lambda x: np.abs(x) * 3.0, 0.0, True),
    (lambda x: np.abs(x) * 3.0, 0.5, False),
    (lambda x: np.maximum(x, 1.0) * 2.0, 1.0, True),
])
def test_kinks_are_not_differentiable_rather_than_wrong(fn, x, nondiff):
    report = numeric_check(tg.trace(fn, x=x), edges=True)
    assert report.ok
    assert (report.results[0].verdict == "not differentiable here") is nondiff
    if nondiff:
        assert "is not differentiable" in report.results[0].note


def test_ties_in_max_flag_only_the_tied_elements():
    report = numeric_check(tg.trace(lambda x: np.max(x) * 2.0, x=np.array([1.0, 1.0, 0.0])))
    assert [r.verdict for r in report.results] == [
        "not differentiable here", "not differentiable here", "ok"]


def test_a_step_out_of_the_domain_is_not_called_wrong():
    report = numeric_check(tg.trace(lambda x: np.log(x), x=1e-7))
    (result,) = report.results
    assert result.verdict == "not differentiable here" and "NaN/inf" in result.note
    assert report.ok


@pytest.fixture
def wrong_rule():
    @tg.primitive(grads={"x": (lambda g, out, x: g * 2.0 * np.cos(x), "2·cos({x})")},
                  name="test_check_wrong_sin")
    def wrong_sin(x):
        return np.sin(x)

    yield wrong_sin
    tg.unregister("test_check_wrong_sin")


def test_a_wrong_rule_is_pinned_to_its_edge(wrong_rule):
    t = tg.trace(lambda w, x: tg.name(wrong_rule(tg.name(w * x, "z")), "y") + w, w=0.5, x=2.0)
    report = numeric_check(t, edges=True)
    assert not report.ok and report.outcome == "failed"
    bad_edges = [(r.wrt, r.node) for r in report.wrong if r.kind == "local"]
    assert bad_edges == [("z", "y")]
    local = next(r for r in report.wrong if r.kind == "local")
    assert local.numeric == pytest.approx(math.cos(1.0), rel=1e-8)
    assert local.analytic == pytest.approx(2 * math.cos(1.0))
    assert {r.node for r in report.wrong if r.kind == "gradient"} == {"w", "x"}
    assert report.marks()[("z", "y", 0)]["status"] == "wrong"
    assert "∂y/∂z" in str(report) and "wrong" in report.summary()


def test_sharp_curvature_near_a_singularity_is_not_called_wrong():
    # sqrt near 0: the central difference itself is off by ~1e-4 (relative) at x = 1e-4.
    scalar = numeric_check(tg.trace(lambda x: np.sqrt(x), x=1e-4), edges=True)
    array = numeric_check(tg.trace(lambda x: np.sum(np.sqrt(x)), x=np.array([1e-4, 10.0, 1e-3])),
                          edges=True)
    assert {r.verdict for r in scalar.results + array.results} == {"ok"}
    assert scalar.results[0].numeric == pytest.approx(0.5 / math.sqrt(1e-4), rel=1e-3)


def test_a_rule_off_by_a_few_parts_in_a_hundred_thousand_is_caught():
    @tg.primitive(grads={"x": (lambda g, out, x: g * np.cos(x) * (1 + 3e-5), "cos({x})")},
                  name="test_check_slightly_wrong_sin")
    def slightly_wrong_sin(x):
        return np.sin(x)

    try:
        report = numeric_check(tg.trace(lambda x: slightly_wrong_sin(x), x=1.0))
    finally:
        tg.unregister("test_check_slightly_wrong_sin")
    assert [r.verdict for r in report.results] == ["wrong"]
    assert report.results[0].rel_diff == pytest.approx(3e-5, rel=1e-3)


def test_array_outputs_need_a_seed():
    t = tg.trace(lambda x: np.tanh(x) * 2.0, x=np.array([0.1, 0.2]))
    with pytest.raises(tg.NotDifferentiatedError, match="pass seed="):
        numeric_check(t)
    seed = np.array([1.0, -2.0])
    report = numeric_check(t, seed=seed)
    expected = seed * 2.0 * (1 - np.tanh([0.1, 0.2]) ** 2)
    assert [r.numeric for r in report.results] == pytest.approx(expected.tolist(), rel=1e-8)


def test_an_input_the_output_does_not_depend_on_has_gradient_zero():
    report = numeric_check(tg.trace(lambda x, unused: x * 2.0, x=1.0, unused=np.ones(2)),
                           edges=True)
    unused = [r for r in report.results if r.node == "unused"]
    assert report.ok and len(unused) == 2
    assert all(r.analytic == 0.0 and r.numeric == 0.0 and r.verdict == "ok" for r in unused)


def test_large_inputs_are_sampled_but_keep_the_largest_gradient():
    weights = np.linspace(-1.0, 1.0, 50)
    weights[37] = 9.0
    t = tg.trace(lambda x: np.sum(x * x * weights), x=np.ones(50))
    report = numeric_check(t, max_elements=10)
    assert len(report.results) == 10 and (37,) in {r.index for r in report.results}
    assert report.notes == ("x: checked 10 of 50 elements",)
    assert report.ok


def test_a_constant_output_has_nothing_to_check():
    report = numeric_check(tg.trace(lambda x: 1.0, x=2.0))
    assert report.results == () and report.ok


@pytest.mark.parametrize("name", ["tanh", "maximum", "getitem", "concatenate", "matmul",
                                  "softmax_cross_entropy"])
def test_numeric_check_primitive_accepts_builtin_rules(name):
    report = numeric_check_primitive(name, trials=6)
    assert report.ok and report.results
    assert all(r.node.startswith("trial ") for r in report.results)


def test_numeric_check_primitive_rejects_a_wrong_rule(wrong_rule):
    report = numeric_check_primitive(wrong_rule, trials=3)
    assert not report.ok and len(report.wrong) == len(report.results)


def test_numeric_check_primitive_explains_bad_primitives():
    with pytest.raises(tg.TracegraphError, match="did you mean tan, tanh"):
        numeric_check_primitive("tahn")

    @tg.primitive(grads={"x": (lambda g, out, x: g * math.cos(x), "cos({x})")},
                  name="test_check_scalar_only")
    def scalar_sin(x):
        return math.sin(x)

    try:
        with pytest.raises(tg.TracegraphError, match=r"pass shapes=\[\(\)\]"):
            numeric_check_primitive(scalar_sin, trials=3)
        assert numeric_check_primitive(scalar_sin, trials=3, shapes=((),)).ok
    finally:
        tg.unregister("test_check_scalar_only")


def _s1_chain(steps):
    with tg.Tracer() as tr:
        y = tr.input("x", 0.3)
        for i in range(steps):
            w = tr.input(f"w{i}", 0.5 + 0.1 * math.sin(i))
            b = tr.input(f"b{i}", 0.1 * math.cos(i))
            y = np.tanh(y * w + b)
        return tr.finish(y, name="y")


def test_numeric_check_within_a_budget_checks_the_largest_gradients_and_every_rule():
    t = _s1_chain(100)  # 201 inputs; checking each replays the chain after it
    everything = numeric_check(t, edges=True)
    assert len([r for r in everything.results if r.kind == "gradient"]) == 201
    assert not everything.notes
    report = numeric_check(t, edges=True, max_evaluations=5_000)
    gradients = [r for r in report.results if r.kind == "gradient"]
    assert 1 < len(gradients) < 201
    largest = max(t.grads, key=lambda name: abs(t.grads[name]))
    assert largest in [r.node for r in gradients]
    assert report.ok
    assert any(f"checked {len(gradients)} of 201 inputs, those with the largest gradients" in note
               for note in report.notes)
    edges = [r for r in report.results if r.kind == "local"]
    all_edges = [r for r in everything.results if r.kind == "local"]
    assert 0 < len(edges) < len(all_edges)
    assert any(f"checked {len(edges)} of {len(all_edges)} edges" in note for note in report.notes)

    def rules(results):
        return {(t.graph.nodes[r.node]["op"], r.key)
                for r in results}
    assert rules(edges) == rules(all_edges)  # every rule and argument position
    tiny = numeric_check(t, max_evaluations=1)  # never nothing: at least one input
    assert len(tiny.results) == 1 and tiny.results[0].node == largest


def test_check_numeric_budget_from_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from tracegraph.cli import app

    path = tmp_path / "chain.py"
    path.write_text("import numpy as np\nx = 0.3\nw = 0.5\ny = x\nfor _ in range(200):\n"
                    "    y = np.tanh(y * w + 0.1)\n")
    result = CliRunner().invoke(app, ["check", str(path), "--numeric",
                                      "--max-evaluations", "2000"])
    assert result.exit_code == 0, result.output
    assert "checked 1 of 2 inputs" in result.stderr
    assert "--max-evaluations N sets how many operations" in result.stderr
    full = CliRunner().invoke(app, ["check", str(path), "--numeric", "--max-evaluations", "0"])
    assert full.exit_code == 0 and "checked" not in full.stderr


def test_a_chain_too_long_to_follow_is_said_so_not_searched_for_ever(tmp_path, monkeypatch):
    # A claim through a long loop: every step of the loop is a path from b to the loss,
    # each as long as the loop; the search has a budget (check.chain.PATH_WORK).
    chain_module = importlib.import_module("tracegraph.check.chain")
    from tracegraph.script import load_script

    path = tmp_path / "loop.py"
    path.write_text("import numpy as np\nx = 0.3\nw = 0.5\nb = 0.1\ny = x\n"
                    "for _ in range(300):\n    y = np.tanh(y * w + b)\nloss = y\n"
                    "dloss_db = 1.0\n")
    monkeypatch.setattr(chain_module, "PATH_WORK", 500)
    result = check_script(load_script(path)).first_wrong
    assert result.name == "dloss_db" and result.chain.paths == ()
    assert "too long to follow step by step" in result.chain.explanation
    monkeypatch.setattr(chain_module, "PATH_WORK", 10**9)
    chain = check_script(load_script(path)).first_wrong.chain
    assert chain.truncated and len(chain.paths) == 20  # the first 20 of 300 paths
    assert chain.paths[0].nodes[0] == "b" and chain.paths[0].nodes[-1] == "loss"


def test_the_chain_paths_are_the_graphs_simple_paths_in_order():
    import networkx as nx

    from tracegraph.check.chain import _dag_paths

    t = tg.trace(neuron, w1=W1, x1=X1, w2=W2, x2=X2, w3=W3, x3=X3, gold=GOLD)
    graph = t.graph
    for source in ("w1", "x2", "gold"):
        expected = list(nx.all_simple_paths(graph, source, "output"))
        assert list(_dag_paths(graph, list(graph.nodes), source, "output")) == expected


def test_a_claim_through_a_discarded_nan_is_graded_against_the_functions_derivative(tmp_path):
    path = tmp_path / "trap.py"
    path.write_text("import numpy as np\nx = np.array([-1.0, 4.0])\n"
                    "y = np.where(x > 0, np.sqrt(x), 0.0)\nL = np.sum(y)\n"
                    "dL_dx = np.array([0.0, 0.25])\n")
    with np.errstate(invalid="ignore"):
        (result,) = check_script(load_script(path)).results
    assert result.verdict == "exact" and result.expected.tolist() == [0.0, 0.25]


def test_a_wrong_claim_is_never_shown_with_the_same_digits_as_the_truth():
    t = tg.trace(lambda a, b: tg.name((a + b) * 1.0001, "s"), a=0.1, b=0.2)
    (result,) = check(t, {"ds_da": 1.0}).results
    assert result.verdict == "wrong"
    assert (result.claimed_text(), result.expected_text()) == ("1", "1.0001")
    assert result.versus().endswith("= 1.0001")


ROUNDED_NEURON = """
import numpy as np
x1, w1, x2, w2, x3, w3, gold = 1.0, 0.5, 2.0, -0.3, 0.5, 0.8, 1.0
G = w1 * x1 + w2 * x2 + w3 * x3
S = 1 / (1 + np.exp(-G))
Loss = (gold - S) ** 2
dLoss_dS = -0.8511
dS_dG = 0.2445
dLoss_dG = {step}
dLoss_dw1 = dLoss_dG * x1
"""


def test_a_right_step_on_rounded_claims_is_close_not_the_first_wrong_step(tmp_path):
    # the product of two accepted 4-digit numbers misses the truth by 1.5e-4 (relative):
    # the step is right and carries their rounding
    path = tmp_path / "rounded.py"
    path.write_text(ROUNDED_NEURON.format(step="dLoss_dS * dS_dG"))
    report = check_script(load_script(path))
    verdicts = {r.name: r.verdict for r in report.results}
    assert verdicts == {"dLoss_dS": "close", "dS_dG": "close", "dLoss_dG": "close",
                        "dLoss_dw1": "close"}
    step = next(r for r in report.results if r.name == "dLoss_dG")
    assert step.holds and "carries their rounding" in step.note
    assert step.max_rel_diff > 1e-4  # far outside rtol: only the rounding explains it
    assert report.outcome == "ok"


def test_a_wrong_step_on_rounded_claims_stays_wrong(tmp_path):
    path = tmp_path / "wrong.py"
    path.write_text(ROUNDED_NEURON.format(step="dLoss_dS * dS_dG * (1 - dS_dG)"))
    report = check_script(load_script(path))
    verdicts = {r.name: r.verdict for r in report.results}
    assert verdicts["dLoss_dG"] == "wrong" and verdicts["dLoss_dw1"] == "wrong"
    assert report.outcome == "failed"


def test_an_array_claim_scaled_by_a_rounded_number_is_close(tmp_path):
    path = tmp_path / "array.py"
    path.write_text("import numpy as np\n"
                    "w = np.array([0.3, -0.7])\nx = np.array([1.3, 2.1])\n"
                    "z = np.dot(w, x)\ns = np.tanh(z)\n"
                    "ds_dz = 0.3708\nds_dx = ds_dz * w\nds_dw = ds_dz * x * 1.01\n")
    verdicts = {r.name: r.verdict for r in check_script(load_script(path)).results}
    assert verdicts == {"ds_dz": "close", "ds_dx": "close", "ds_dw": "wrong"}


def _verdicts(tmp_path, source):
    path = tmp_path / "claims.py"
    path.write_text(textwrap.dedent(source))
    report = check_script(load_script(path))
    return {r.name: r.verdict for r in report.results}, report


def test_only_numbers_written_as_numbers_are_judged_by_their_digits(tmp_path):
    # 2 * x + 2 = 102 is a computed claim: its three digits are not a rounding of 101
    verdicts, _ = _verdicts(tmp_path, "x = 50.0\ny = x ** 2 + x\ndy_dx = 2 * x + 2\n")
    assert verdicts == {"dy_dx": "wrong"}
    # 0.2500 has four digits as written, though the float 0.25 has two
    verdicts, _ = _verdicts(tmp_path, """
        import numpy as np
        G = 0.01
        S = 1 / (1 + np.exp(-G))
        dS_dG = 0.2500
        dS_dG_rounded_array = np.array([0.2500])
    """)
    assert verdicts["dS_dG"] == "close"


def test_a_forgotten_product_rule_on_rounded_claims_stays_wrong(tmp_path):
    verdicts, report = _verdicts(tmp_path, """
        from tracegraph import sigmoid
        x1 = 1.0
        w1 = 0.5
        G = w1 * x1
        S = G * sigmoid(G)
        Loss = (1.0 - S) ** 2
        dLoss_dS = -1.6553
        dLoss_dG = dLoss_dS * sigmoid(G)
        dLoss_dw1 = dLoss_dG * x1
    """)
    assert verdicts["dLoss_dG"] == "wrong" and report.outcome == "failed"


def test_a_total_derivative_used_as_one_paths_factor_stays_wrong(tmp_path):
    verdicts, report = _verdicts(tmp_path, """
        import numpy as np
        x = 0.7
        a = np.sin(x)
        b = a ** 2
        y = b + np.exp(a)
        dy_db = 1.0
        db_da = 2 * a
        dy_da = 3.1929
        da_dx = np.cos(x)
        dy_dx = dy_db * db_da * da_dx + dy_da * da_dx
    """)
    assert verdicts["dy_da"] == "close" and verdicts["dy_dx"] == "wrong"


def test_a_right_step_after_a_wrong_one_is_not_blamed(tmp_path):
    _, report = _verdicts(tmp_path, """
        import numpy as np
        from tracegraph import sigmoid
        x = 0.7
        y = x * np.sin(x)
        z = sigmoid(y)
        dz_dy = z * (1 + z)
        dz_dx = dz_dy * (np.sin(x) + x * np.cos(x))
    """)
    step = next(r for r in report.results if r.name == "dz_dx")
    assert step.verdict == "wrong"
    assert step.chain is None or step.chain.own_error is None  # it follows from dz_dy


def test_a_vanishing_gradient_claimed_twice_too_large_is_wrong(tmp_path):
    verdicts, _ = _verdicts(tmp_path, """
        from tracegraph import sigmoid
        w = 5.0
        x = 5.0
        S = sigmoid(w * x)
        Loss = S ** 2
        dS_dw = 2 * S * (1 - S) * x
    """)  # σ'(25) = 1.4e-11: the absolute tolerance must not swallow it
    assert verdicts == {"dS_dw": "wrong"}


def test_a_wrong_small_float32_element_next_to_a_large_one_is_wrong(tmp_path):
    verdicts, _ = _verdicts(tmp_path, """
        import numpy as np
        x = np.array([300.0, 0.002], dtype=np.float32)
        w = np.array([1.5, -2.0], dtype=np.float32)
        t = np.float32(2.0)
        pred = w @ x
        L = (pred - t) ** 2
        dL_dw = 2 * (pred - t) * x * np.array([1.0, -1.0], dtype=np.float32)
        dL_dx = 2 * (pred - t) * w
    """)
    assert verdicts["dL_dw"] == "wrong" and verdicts["dL_dx"] in ("exact", "close")


def test_tied_numbers_claimed_one_by_one_must_add_up(tmp_path):
    source = """
        a = 1.0
        b = 1.0
        c = 0.5
        m = max(a, b, c)
        L = 3.0 * m
        dL_da = {da}
        dL_db = {db}
    """
    verdicts, report = _verdicts(tmp_path, source.format(da=1.0, db=1.0))  # 2, not 3
    assert verdicts == {"dL_da": "wrong", "dL_db": "wrong"} and report.outcome == "failed"
    verdicts, _ = _verdicts(tmp_path, source.format(da=2.0, db=1.0))  # a subgradient
    assert set(verdicts.values()) <= {"not differentiable here", "exact", "close"}
    # two separate kinks are not a tie: each share may be anything between its sides
    verdicts, _ = _verdicts(tmp_path, """
        a = 0.0
        b = 0.0
        L = abs(a) + abs(b)
        dL_da = 0.5
        dL_db = -0.25
    """)
    assert verdicts == {"dL_da": "not differentiable here", "dL_db": "not differentiable here"}


@pytest.mark.parametrize("claim, true_is_inf, verdict", [
    ("np.inf", False, "wrong"),       # y = x**2 at 1: dy/dx = 2
    ("-np.inf", True, "wrong"),       # y = sqrt(x) at 0: dy/dx = +inf
    ("2.0", True, "wrong"),
    ("np.inf", True, "exact"),
])
def test_an_infinite_difference_is_never_within_tolerance(tmp_path, claim, true_is_inf,
                                                           verdict):
    body = "x = 0.0\ny = np.sqrt(x)\n" if true_is_inf else "x = 1.0\ny = x ** 2\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sqrt's slope at 0 is infinite: it warns, rightly
        verdicts, report = _verdicts(tmp_path, f"import numpy as np\n{body}dy_dx = {claim}\n")
    assert verdicts == {"dy_dx": verdict}
    assert report.outcome == ("ok" if verdict == "exact" else "failed")


def test_an_infinite_element_of_an_array_claim_is_wrong(tmp_path):
    verdicts, _ = _verdicts(tmp_path, """
        import numpy as np
        x = np.array([1.0, 2.0])
        L = np.sum(x ** 2)
        dL_dx = np.array([2.0, np.inf])
    """)
    assert verdicts == {"dL_dx": "wrong"}


_PARTIAL_FOR_TOTAL = (Path(__file__).resolve().parent / "corpus" / "partial_for_total.py"
                      ).read_text(encoding="utf-8")
"""c = a·sin(a) with b = sin(a): dc_da claims the edge c ← a alone, dL_da follows b only."""


def test_a_partial_claimed_for_a_total_names_the_missing_path(tmp_path):
    # c = a·sin(a): dc/da = sin a + a·cos a; the student's b is the edge c ← a alone, and
    # their dL/da follows the route through b only, without using dc_da at all
    _, report = _verdicts(tmp_path, _PARTIAL_FOR_TOTAL)
    a = 0.7
    c = a * math.sin(a)
    results = by_name(report)
    assert results["dc_da"].expected == pytest.approx(math.sin(a) + a * math.cos(a))
    assert report.first_wrong.name == "dc_da"
    assert "only the path c ← b ← a" not in results["dc_da"].chain.explanation
    assert f"only the path c ← a; it misses c ← b ← a ({a * math.cos(a):.4g})" in \
        results["dc_da"].chain.explanation
    # not built on dc_da: a mistake of its own, with the path it leaves out
    dL_da = results["dL_da"]
    assert dL_da.chain.first_broken is None and dL_da not in report.inheriting(results["dc_da"])
    assert f"it misses L ← c ← a ({2 * c * math.sin(a):.4g})" in dL_da.chain.explanation
    # the claim of the total is not the factor of the direct edge
    direct = next(p for p in dL_da.chain.paths if p.nodes == ("a", "c", "L"))
    assert not next(s for s in direct.steps if s.of == "c").claimed


def test_a_right_partial_locates_a_step_only_when_every_route_passes_it(tmp_path):
    built_on_dc_da = _PARTIAL_FOR_TOTAL.replace("dL_da = dL_dc * dc_db * db_da",
                                                "dL_da = dL_dc * dc_da")
    assert built_on_dc_da != _PARTIAL_FOR_TOTAL
    _, report = _verdicts(tmp_path, built_on_dc_da)
    chain = by_name(report)["dL_da"].chain
    assert chain.first_broken.claim == "dc_da"   # built on it: inherits its error
    assert "the step from b to a" not in chain.explanation   # db/da is claimed and right


def test_unclaimed_factors_of_a_wrong_product_are_given_with_their_values(trace):
    claims = derivation()
    del claims["dG_dA"]
    claims["dLoss_dw1"] = claims["dLoss_dS"] * claims["dA_dw1"]   # forgot dS/dG
    text = by_name(check(trace, claims))["dLoss_dw1"].chain.explanation
    true = -2 * (GOLD - S_VALUE) * S_VALUE * (1 - S_VALUE) * X1
    assert f"dG/dA is not claimed (true: dG/dA = 1; with it the factors give {true:.4g})" \
        in text


_MLP = """
    import numpy as np
    x = np.array([0.5, -1.0, 2.0])
    W1 = np.array([[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]])
    W2 = np.array([0.7, -0.8])
    z = W1 @ x
    h = np.tanh(z)
    out = W2 @ h
    L = 0.5 * (out - 1.0) ** 2
    dL_dout = out - 1.0
    dL_dh = dL_dout * W2
    dh_dz = 1 + h ** 2
    dL_dz = dL_dh * dh_dz
    dL_dW1 = {factor}np.outer(dL_dz, x)
"""


@pytest.mark.parametrize("factor, own", [("", False), ("2 * ", True)])
def test_an_array_claim_with_a_mistake_behind_an_inherited_one(tmp_path, factor, own):
    _, report = _verdicts(tmp_path, _MLP.format(factor=factor))
    results = by_name(report)
    assert report.first_wrong.name == "dh_dz"
    # dL_dz is dL_dh times the user's own dh_dz: it only inherits
    assert results["dL_dz"].chain.first_broken.claim == "dh_dz"
    assert results["dL_dz"].chain.own_error is None
    dW1 = results["dL_dW1"].chain
    assert dW1.first_broken.claim == "dh_dz"
    assert (dW1.own_error is not None) == own
    if own:
        assert "does not follow from dL_dz (line 13)" in dW1.own_error
