"""Test inputs for a derivative rule, shared by every registry-wide test.

``rule_case(prim, data)`` draws arguments and params for one primitive:
broadcast-compatible shapes (hypothesis) inside the rule's ``domain`` for
elementwise rules, the rule's own ``sample`` for rules whose inputs have
structure.  ``differentiable_positions`` says which inputs to check;
``smooth_case`` draws a case away from the rule's non-differentiable points.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tracegraph.core import Primitive

DEFAULT_DOMAIN = (-2.0, 2.0)
KINK_MARGIN = 1e-3


def _elementwise_case(prim: Primitive, data: st.DataObject) -> tuple[tuple, dict]:
    shapes = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=len(prim.argnames), max_dims=3, max_side=3), label="shapes").input_shapes
    args = []
    for argname, shape in zip(prim.argnames, shapes):
        low, high = prim.domain.get(argname, DEFAULT_DOMAIN)
        elements = st.floats(low, high, allow_nan=False, allow_subnormal=False)
        if shape == () and data.draw(st.booleans(), label=f"{argname} as Python float"):
            args.append(data.draw(elements, label=argname))
        else:
            args.append(data.draw(hnp.arrays(np.float64, shape, elements=elements), label=argname))
    return tuple(args), {}


def rule_case(prim: Primitive, data: st.DataObject) -> tuple[tuple, dict]:
    if prim.sample is None:
        return _elementwise_case(prim, data)
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    return prim.sample(np.random.default_rng(seed))


def differentiable_positions(prim: Primitive, args: tuple) -> list[int]:
    positions = []
    for i, arg in enumerate(args):
        floating = isinstance(arg, float) or (
            isinstance(arg, np.ndarray) and arg.dtype.kind == "f")
        if floating and prim.has_gradient(i):
            positions.append(i)
    return positions


def assume_away_from_kink(prim: Primitive, args: tuple | list, params: dict) -> None:
    """Discard the case when it lies within KINK_MARGIN of a point where ``prim`` is not
    differentiable (finite differences would straddle the kink)."""
    if prim.kink is not None:
        assume(prim.kink(*args, **params) > KINK_MARGIN)


def smooth_case(prim: Primitive, data: st.DataObject) -> tuple[tuple, dict, list[int]]:
    """``rule_case`` away from kinks, with the positions of the inputs to check."""
    args, params = rule_case(prim, data)
    assume_away_from_kink(prim, args, params)
    return args, params, differentiable_positions(prim, args)


def numeric_gradient(f, x, cotangent=1.0, step=1e-6):
    """Central differences of ⟨f(x), cotangent⟩ with respect to each element of ``x``."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        shifted = []
        for sign in (1.0, -1.0):
            probe = x.copy()
            probe[index] += sign * step
            shifted.append(np.sum(np.asarray(f(probe)) * cotangent))
        grad[index] = (shifted[0] - shifted[1]) / (2 * step)
    return grad
