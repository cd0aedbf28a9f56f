"""Every derivative rule in the registry against central finite differences.

The test is parametrised over ``tg.primitives()`` at collection time, so a
rule added to the table (or registered by a user, like ``softplus`` below)
is checked without writing a new test.  Inputs and shapes come from
hypothesis: broadcast-compatible shapes for elementwise rules, the
primitive's own ``sample`` for rules whose inputs have structure.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tracegraph as tg
from tracegraph.core import REGISTRY, Primitive

from rule_cases import DEFAULT_DOMAIN, smooth_case


@tg.primitive(
    grads={"x": (lambda g, out, x: g / (1.0 + np.exp(-x)), "σ({x})")},
    display="softplus({x})", name="test_softplus", domain={"x": (-4.0, 4.0)},
)
def softplus(x):
    """log(1 + e^x): a user-registered rule, checked like the built-ins."""
    return np.log1p(np.exp(x))


PRIMITIVE_NAMES = [p.name for p in tg.primitives()]
DIFFERENTIABLE = [p.name for p in tg.primitives() if any(p.differentiable)]


def _weighted_output(prim: Primitive, args: list, params: dict, cotangent) -> float:
    return float(np.sum(np.asarray(prim.impl(*args, **params)) * cotangent))


def _numeric_gradient(prim, args, params, cotangent, position):
    base = args[position]
    array = np.array(base, dtype=float)
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        step = 1e-6 * max(1.0, abs(array[index]))
        shifted = []
        for sign in (1.0, -1.0):
            probe = array.copy()
            probe[index] += sign * step
            trial = list(args)
            trial[position] = float(probe) if isinstance(base, float) else probe
            shifted.append(_weighted_output(prim, trial, params, cotangent))
        grad[index] = (shifted[0] - shifted[1]) / (2 * step)
    return grad


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_vjp_matches_central_differences(name, data):
    prim = REGISTRY[name]
    args, params, positions = smooth_case(prim, data)
    assert positions, f"{name}: the sample has no differentiable input"

    expected_value = prim.impl(*args, **params)
    cotangent = data.draw(hnp.arrays(np.float64, np.shape(expected_value),
                                     elements=st.floats(-2, 2, allow_subnormal=False)),
                          label="cotangent")
    tracer = tg.Tracer()
    with tracer:
        traced = [tracer.input(f"a{i}", arg) if i in positions else arg
                  for i, arg in enumerate(args)]
        out = prim(*traced, **params)
        trace = tracer.finish(out)
    np.testing.assert_allclose(trace.value, expected_value, rtol=1e-12, atol=1e-12)
    trace.backward(cotangent if np.ndim(expected_value) else float(cotangent))

    for position in positions:
        analytic = trace.grads[f"a{position}"]
        assert np.shape(analytic) == np.shape(args[position]), (
            f"{name}: gradient of input {position} has shape {np.shape(analytic)}, "
            f"input has {np.shape(args[position])}")
        numeric = _numeric_gradient(prim, list(args), params, cotangent, position)
        scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
        np.testing.assert_allclose(
            analytic, numeric, rtol=1e-4, atol=1e-6 * scale,
            err_msg=f"{name}: VJP of input {position} ({prim.argnames[min(position, len(prim.argnames) - 1)]}) "
                    f"disagrees with central differences")


@pytest.mark.parametrize("name", PRIMITIVE_NAMES)
def test_every_rule_is_documented_as_data(name):
    prim = REGISTRY[name]
    assert prim.doc, f"{name} has no one-line description"
    assert prim.display, f"{name} has no display template"
    assert len(prim.vjps) == len(prim.formulas) == (1 if prim.variadic else len(prim.argnames))
    for differentiable, formula in zip(prim.differentiable, prim.formulas):
        assert differentiable == (formula is not None), (
            f"{name}: a VJP without a formula (or vice versa)")


@pytest.mark.parametrize("name", [p.name for p in tg.primitives() if p.scalar_impl is not None])
@given(x=st.floats(-3, 3, allow_subnormal=False))
@settings(max_examples=30, deadline=None)
def test_the_math_version_agrees_with_numpy_to_rounding(name, x):
    prim = REGISTRY[name]
    low, high = prim.domain.get(prim.argnames[0], DEFAULT_DOMAIN)
    x = min(max(x, low), high)
    assert prim.scalar_impl(x) == pytest.approx(float(prim.impl(np.float64(x))), rel=1e-12, abs=1e-15)


def test_numpy_on_a_traced_float_keeps_numpys_semantics():
    with pytest.warns(RuntimeWarning), pytest.warns(tg.NonFiniteWarning, match="log"):
        assert math.isnan(tg.trace(lambda x: np.log(x), x=-1.0).value)


def test_user_primitive_is_listed_drawn_and_traced_like_a_builtin():
    assert "test_softplus" in PRIMITIVE_NAMES
    t = tg.trace(lambda x: softplus(x), x=0.0)
    assert t.value == pytest.approx(math.log(2.0))
    assert t.grads["x"] == pytest.approx(0.5)
    edge = t.graph.edges["x", "output", 0]
    assert edge["formula"] == "σ(x)"
    assert t.graph.nodes["output"]["expr"] == "softplus(x)"


def test_primitive_decorator_rejects_grads_that_do_not_match_the_signature():
    with pytest.raises(ValueError, match="must list every positional argument"):
        @tg.primitive(grads={"y": (lambda g, out, x: g, "1")}, name="test_bad_names")
        def bad(x):
            return x
    assert "test_bad_names" not in REGISTRY


def test_unregister_removes_the_numpy_routes_too():
    @tg.primitive(grads={"x": (lambda g, out, x: g / (3.0 * out ** 2), "1/(3·{out:p}²)")},
                  numpy=(np.spacing, np.interp), name="test_cbrt")
    def cbrt(x, *unused):
        return np.cbrt(x)
    assert tg.trace(lambda x: np.spacing(x), x=8.0).value == 2.0
    assert tg.trace(lambda x: np.interp(x, [0.0], [1.0]), x=8.0).value == 2.0
    tg.unregister("test_cbrt")
    with pytest.raises(tg.UnsupportedOperationError, match="np.spacing"):
        tg.trace(lambda x: np.spacing(x), x=8.0)
    with pytest.raises(tg.UnsupportedOperationError, match="np.interp"):
        tg.trace(lambda x: np.interp(x, [0.0], [1.0]), x=8.0)


def test_routing_a_numpy_function_another_rule_owns_needs_replace_and_is_given_back():
    with pytest.raises(ValueError, match="np.exp already records the rule 'exp'"):
        @tg.primitive(grads={"x": (lambda g, out, x: g, "1")}, numpy=(np.exp,),
                      name="test_exp_taker")
        def taker(x):
            return np.exp(x)
    assert "test_exp_taker" not in REGISTRY
    assert tg.trace(lambda x: np.exp(x), x=1.0).grads["x"] == pytest.approx(math.e)

    @tg.primitive(grads={"x": (lambda g, out, x: g * 2.0, "2")}, numpy=(np.exp,),
                  name="test_exp_taker", replace=True)
    def replacing_taker(x):
        return np.exp(x)
    try:
        assert tg.trace(lambda x: np.exp(x), x=1.0).grads["x"] == 2.0
    finally:
        tg.unregister("test_exp_taker")
    assert tg.trace(lambda x: np.exp(x), x=1.0).grads["x"] == pytest.approx(math.e)


def test_pass_through_refuses_what_it_would_silently_ignore():
    with pytest.raises(ValueError, match="np.exp records the rule 'exp'"):
        tg.pass_through(np.exp)
    with pytest.raises(TypeError, match="numpy callables"):
        tg.pass_through("argmax")
    assert tg.trace(lambda x: np.exp(x), x=0.0).grads["x"] == 1.0


def test_a_rule_declaration_that_could_only_fail_later_is_refused_at_once():
    cases = [
        (dict(grads={"x": (lambda g, x: g, "1")}), "must take \\(g, out, x\\)"),
        (dict(grads={"x": (lambda g, out, x: g, "2·{y}")}), "uses \\{y\\}"),
        (dict(grads={"x": (lambda g, out, x: g, "1")}, display="f({x)"), "not a valid template"),
        (dict(grads={"x": (lambda g, out, x: g, "1")}, domain={"z": (0.0, 1.0)}), "domain= names 'z'"),
    ]
    cases.append((dict(grads={"x": 3}), "must be \\(vjp, formula\\), a vjp or None"))
    for options, message in cases:
        with pytest.raises(tg.RuleDeclarationError, match=message) as refused:
            tg.defprimitive("test_misdeclared", lambda x, k=1.0: x * k, **options)
        assert refused.value.location.lineno == _line_of("x * k, **options)")
        assert "test_misdeclared" not in REGISTRY
    fine = tg.defprimitive("test_misdeclared", lambda x, k=1.0: x * k,
                           grads={"x": (lambda g, out, x, k=1.0: g * k, "{k}")})
    try:
        t = tg.trace(lambda x: fine(x, k=3.0), x=1.0)
        assert t.grads["x"] == 3.0 and t.graph.edges["x", "output", 0]["formula"] == "3.0"
    finally:
        tg.unregister("test_misdeclared")


def test_a_vjp_of_the_wrong_shape_is_named_instead_of_reshaped():
    @tg.primitive(grads={"x": (lambda g, out, x: np.swapaxes(g, 0, 1), "1")},
                  name="test_transposing_vjp")
    def same(x):
        return x * 1.0
    try:
        weights = np.arange(6.0).reshape(2, 3)
        with pytest.raises(tg.TracegraphError, match="'test_transposing_vjp' for its input "
                                                     "'x' returned an array of shape \\(3, 2\\)"):
            tg.trace(lambda x: np.sum(same(x) * weights), x=np.ones((2, 3)))
    finally:
        tg.unregister("test_transposing_vjp")


def test_a_decorated_rules_input_may_be_passed_by_keyword():
    @tg.primitive(grads={"x": (lambda g, out, x, y: g * y, "{y}"),
                         "y": (lambda g, out, x, y: g * x, "{x}")}, name="test_times")
    def times(x, y):
        return x * y
    try:
        assert tg.trace(lambda a, b: times(a, y=b), a=2.0, b=3.0).grads == {"a": 3.0, "b": 2.0}
    finally:
        tg.unregister("test_times")


def _line_of(text: str) -> int:
    """The line of this file holding ``text`` (where a refusal should point)."""
    lines = open(__file__, encoding="utf-8").read().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_a_bare_vjp_is_a_rule_whose_edges_name_the_derivative():
    @tg.primitive(grads={"x": lambda g, out, x, y: g * y, "y": None}, name="test_bare_vjp")
    def scaled(x, y):
        return x * y

    try:
        t = tg.trace(lambda x, y: scaled(x, y) + x, x=2.0, y=3.0)
        assert t.grads == {"x": 4.0, "y": 0.0}
        node = next(n for n, op in t.graph.nodes(data="op") if op == "test_bare_vjp")
        formulas = {u: d["formula"] for u, _, d in t.graph.in_edges(node, data=True)}
        assert formulas == {"x": "∂test_bare_vjp/∂x", "y": "no gradient"}
    finally:
        tg.unregister("test_bare_vjp")


def test_a_file_whose_rule_cannot_work_is_told_where(tmp_path):
    from typer.testing import CliRunner

    from tracegraph.cli import app

    path = tmp_path / "rule.py"
    path.write_text(
        "import tracegraph as tg\n"
        "@tg.primitive(grads={'x': lambda g, out, x, y: g * y, 'y': 3}, name='test_bad_file')\n"
        "def scaled(x, y):\n"
        "    return x * y\n"
        "x = 2.0\n"
        "z = scaled(x, 3.0)\n")
    result = CliRunner().invoke(app, ["explain", str(path)])
    assert result.exit_code == 3, result.output
    assert "grads['y'] must be (vjp, formula), a vjp or None, got 3" in result.output
    assert "rule.py:2" in result.output
    assert "test_bad_file" not in REGISTRY
