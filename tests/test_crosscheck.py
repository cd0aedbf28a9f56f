"""Every rule against an independent autodiff (HIPS autograd, float64).

For each registered primitive, on the same sampled cases as the
finite-difference test, the forward value and the VJP of every
differentiable input must agree with autograd differentiating the reference
implementation in ``tests/references`` to 1e-8.  A rule without a reference
fails here, so the table cannot grow past its cross-check.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracegraph as tg
from tracegraph.core import REGISTRY

from rule_cases import smooth_case

autograd = pytest.importorskip("autograd")
from references import REFERENCES  # noqa: E402

BUILT_IN = [p.name for p in tg.primitives() if p.category != "user"]


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_built_in_rule_has_an_independent_reference(name):
    assert name in REFERENCES, f"add an autograd reference for {name!r} in tests/references/"


@pytest.mark.parametrize("name", [n for n in BUILT_IN if n in REFERENCES])
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_rule_agrees_with_autograd(name, data):
    prim = REGISTRY[name]
    reference = REFERENCES[name]
    args, params, positions = smooth_case(prim, data)
    expected = reference(*args, **params)
    np.testing.assert_allclose(prim.impl(*args, **params), expected, rtol=1e-8, atol=1e-12,
                               err_msg=f"{name}: value differs from the reference")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    cotangent = rng.uniform(-2.0, 2.0, size=np.shape(expected))
    tracer = tg.Tracer()
    with tracer:
        traced = [tracer.input(f"a{i}", arg) if i in positions else arg
                  for i, arg in enumerate(args)]
        trace = tracer.finish(prim(*traced, **params))
    trace.backward(cotangent if np.ndim(expected) else float(cotangent))
    for position in positions:
        def partial(x, position=position):
            full = list(args)
            full[position] = x
            return reference(*full, **params)
        vjp, _ = autograd.make_vjp(partial)(args[position])
        expected_grad = vjp(cotangent if np.ndim(expected) else float(cotangent))
        single = np.result_type(args[position]) == np.float32
        np.testing.assert_allclose(
            trace.grads[f"a{position}"], expected_grad, rtol=1e-6 if single else 1e-8,
            atol=1e-7 if single else 1e-10,
            err_msg=f"{name}: VJP of input {position} differs from autograd's")
