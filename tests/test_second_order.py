"""Every rule that declares ``twice=True`` is differentiable twice, checked against
finite differences of its (already checked) first derivative.

For a rule f with random cotangent c and weights w, the scalar
F(args) = Σᵢ ⟨∂L/∂argᵢ, wᵢ⟩ with L = ½·Σ c·f(args)² is computed with tracegraph's first-order
rules; ``tg.grad(F)`` differentiates the rules' VJPs themselves (they run on
traced values), and is compared with central differences of F along a random
direction.  Parametrised over the registry, so a rule added later is checked for free.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracegraph as tg
from tracegraph.core import REGISTRY

from rule_cases import assume_away_from_kink, smooth_case

TWICE = [p.name for p in tg.primitives() if p.twice and any(p.differentiable)]


def _first_order_functional(prim, args, params, positions, cotangent, weights):
    """F(**traced args) = Σᵢ ⟨∂L/∂argᵢ, wᵢ⟩, L = ½·Σ c·prim(args)², built with tg.grad."""
    names = [f"a{i}" for i in positions]

    def loss(**traced):
        # Squared, so the upstream gradient reaching the rule is itself traced: the
        # second derivative then runs the VJP on traced upstream and traced inputs.
        full = [traced.get(f"a{i}", arg) for i, arg in enumerate(args)]
        out = prim(*full, **params)
        return 0.5 * np.sum(out * out * cotangent)

    def functional(**traced):
        grads = tg.grad(loss, names)(**traced)
        return sum(np.sum(grads[name] * weights[name]) for name in names)

    return functional


@pytest.mark.parametrize("name", TWICE)
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_second_derivatives_match_differences_of_the_first(name, data):
    prim = REGISTRY[name]
    args, params, positions = smooth_case(prim, data)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    out = prim.impl(*args, **params)
    cotangent = rng.uniform(-1.5, 1.5, size=np.shape(out))
    weights = {f"a{i}": rng.uniform(-1.5, 1.5, size=np.shape(args[i])) for i in positions}
    direction = {f"a{i}": rng.uniform(-1.0, 1.0, size=np.shape(args[i])) for i in positions}
    functional = _first_order_functional(prim, args, params, positions, cotangent, weights)
    point = {f"a{i}": args[i] for i in positions}

    analytic_grads = tg.grad(functional)(**point)
    analytic = sum(float(np.sum(analytic_grads[k] * direction[k])) for k in point)

    def shifted(step):
        moved = {k: (v + step * direction[k]) if isinstance(v, np.ndarray)
                 else float(v + step * direction[k]) for k, v in point.items()}
        assume_away_from_kink(prim, [moved.get(f"a{i}", arg) for i, arg in enumerate(args)],
                              params)
        return float(functional(**moved))

    def central(step):
        return (shifted(step) - shifted(-step)) / (2 * step)

    # Richardson extrapolation of two central differences: truncation error O(h⁴), so
    # points near a singularity (arctan2 close to the origin) are judged fairly, with a
    # step well inside the distance to it (the error grows like (step / distance)⁴).
    distance = prim.kink(*args, **params) if prim.kink is not None else math.inf
    step = min(1e-4, distance / 50)
    numeric = (4.0 * central(step / 2) - central(step)) / 3.0
    scale = max(1.0, abs(numeric), abs(analytic))
    assert abs(analytic - numeric) <= 1e-5 * scale, (
        f"{name}: second derivative {analytic!r} but differences of the first give {numeric!r}")


def test_rules_that_are_not_twice_differentiable_say_so_when_asked():
    once = [p for p in tg.primitives() if not p.twice]
    for prim in once:
        assert prim.doc, prim.name


def test_a_rule_declared_twice_false_refuses_second_derivatives_instead_of_giving_zero():
    @tg.primitive(grads={"x": (lambda g, out, x: g * 2.0 * tg.value_of(x), "2{x}")},
                  twice=False, name="test_once_square", replace=True)
    def once_square(x):
        return x * x

    try:
        assert tg.trace(lambda x: once_square(x), x=1.5).grads["x"] == 3.0  # first order
        for second in (lambda: tg.grad(tg.grad(lambda x: once_square(x), "x"), "x")(x=1.5),
                       lambda: tg.hessian(lambda x: once_square(x), x=1.5),
                       lambda: tg.hvp(lambda x: once_square(x), {"x": 1.0}, x=1.5)):
            with pytest.raises(tg.UnsupportedOperationError, match="twice=False"):
                second()
    finally:
        tg.unregister("test_once_square")


def test_directions_that_name_a_constant_or_do_not_fit_are_refused():
    f = lambda x, y: x ** 2 * y  # noqa: E731
    with pytest.raises(tg.TracegraphError, match="'x' is a tg.constant"):
        tg.hvp(f, {"x": 1.0}, x=tg.constant(2.0), y=3.0)  # it differentiated through x
    with pytest.raises(tg.TracegraphError, match="'x' is a tg.constant"):
        tg.jvp(f, {"x": 1.0}, x=tg.constant(2.0), y=3.0)
    cube = lambda x: np.sum(x ** 3)  # noqa: E731
    for product in (tg.hvp, tg.jvp):
        with pytest.raises(tg.TracegraphError, match=r"has shape \(2,\), but 'x' has shape"):
            product(cube, {"x": np.ones(2)}, x=np.ones(3))
        with pytest.raises(tg.TracegraphError, match="must be a dict"):
            product(f, 1.0, x=2.0, y=3.0)
    with pytest.raises(tg.TracegraphError, match="real numbers"):
        tg.jvp(f, {"x": 1j}, x=2.0, y=3.0)
    # one number for every element still works
    assert tg.hvp(cube, {"x": 1.0}, x=np.ones(3))["x"].tolist() == [6.0, 6.0, 6.0]


def test_wrt_none_means_the_float_inputs_and_nothing_to_differentiate_is_an_error():
    f = lambda x, y: x ** 2 * y  # noqa: E731
    assert tg.grad(f)(x=2, y=3.0) == {"y": 4.0}
    assert tg.grad(f, "x")(x=2, y=3.0) == 12.0  # an int named in wrt is differentiated
    assert tg.hessian(f, x=2, y=3.0).labels == ["y"]
    assert tg.hessian(f, wrt=["x", "y"], x=2, y=3.0).labels == ["x", "y"]
    with pytest.raises(tg.NotDifferentiatedError, match="nothing to differentiate"):
        tg.hessian(lambda x: np.sum(np.asarray(x) ** 3), x=[1.0, 2.0])
    with pytest.raises(tg.NotDifferentiatedError, match="^the function returns an array"):
        tg.hessian(lambda x: x ** 2, x=np.ones(3))
    with pytest.raises(ValueError, match="tol must be"):
        tg.hessian(lambda x: x ** 2, x=0.0).classify(tol=-1)
