"""The invariant of issue 10, enforced: every value tracegraph reports for a file equals
what ``python FILE`` computes for that name at that point, and every gradient agrees with
finite differences of the plain Python run.

Every example, a hand-written corpus (tests/corpus: CS231n-style staged backprop,
micrograd's README expression, the backprop-ninja shapes, an RNN, attention, layer norm,
the seed lessons ...) and hypothesis-built programs (reassigned names, ints as indices and
counts, loops, aliases, claims) are run both ways by tests/differential.py.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracegraph as tg
from tracegraph.core import REGISTRY

from differential import PlainRun, differential, run_plain
from programs import program
from tracegraph.errors import UserCodeError
from tracegraph.script import load_script

HERE = Path(__file__).parent
FILES = sorted((HERE.parent / "examples").glob("*.py")) + sorted((HERE / "corpus").glob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_tracegraph_reports_what_python_computes(path):
    assert differential(path) == []


def test_the_plain_run_is_plain_python(tmp_path):
    path = tmp_path / "p.py"
    path.write_text("x = 2.0\ny = x * 3\ny = y ** 2\nfor i in range(2):\n    z = y + i\n")
    run = run_plain(path)
    assert isinstance(run, PlainRun)
    assert [seen.then for seen in run.values[("y", 3)]] == [36.0]
    assert [seen.then for seen in run.values[("z", 5)]] == [36.0, 37.0]


def test_the_harness_catches_a_wrong_rule(monkeypatch):
    # A tanh whose derivative is off by 1%: values still agree, gradients do not.
    tanh = REGISTRY["tanh"]
    right = tanh.vjps[0]
    monkeypatch.setattr(tanh, "vjps", (lambda g, out, x: right(g, out, x) * 1.01,))
    monkeypatch.setattr(tanh, "pullback", _general_pullback)
    problems = differential(HERE / "corpus" / "rnn.py")
    assert any("finite differences" in p for p in problems), problems


def _general_pullback(eq, g, adjoints):
    from tracegraph.core.pullback import contribution

    x = eq.inputs[0]
    c = contribution(eq, 0, g)
    adjoints[x.index] = c if adjoints[x.index] is None else adjoints[x.index] + c


def test_the_harness_catches_a_wrong_value(monkeypatch, tmp_path):
    sin = REGISTRY["sin"]
    monkeypatch.setattr(sin, "impl", lambda x: np.sin(x) + 1e-6)
    monkeypatch.setattr(sin, "scalar_impl", None)
    path = tmp_path / "s.py"
    path.write_text("import numpy as np\nx = 0.5\ny = np.sin(x)\nloss = y * y\n")
    problems = differential(path, gradients=False)
    assert any(p.startswith("y@3") for p in problems), problems


# --------------------------------------------------------------------------- generated programs

SQUASH = ("np.tanh({})", "np.sin({})", "tg.sigmoid({})", "({0}) / (1.0 + ({0}) ** 2)")


@st.composite
def _scalar(draw, names, depth=0):
    if depth >= 2 or draw(st.booleans()):
        if draw(st.integers(0, 4)) == 0:
            return repr(draw(st.sampled_from([0.5, 2.0, -1.5, 3.0])))
        return draw(st.sampled_from(names))
    kind = draw(st.integers(0, 9))
    a = draw(_scalar(names, depth + 1))
    b = draw(_scalar(names, depth + 1))
    return [f"({a} + {b})", f"({a} - {b})", f"({a} * {b})", f"{a} / (1.0 + {b} ** 2)",
            f"({a}) ** 2", f"np.exp(-({a}) ** 2)", f"np.sum(v * {a})", f"v[k] * {a}",
            f"np.sum(np.arange(n) * v) * {a}", f"np.mean(v ** 2) + {a} / n"][kind]


@st.composite
def programs(draw):
    """A straight-line program with loops: reassigned names (versions), an int index and
    count, an array input, aliases and claims (whose true value is checked, not graded)."""
    inputs = [f"x{i}" for i in range(draw(st.integers(1, 3)))]
    lines = ["import numpy as np", "import tracegraph as tg"]
    lines += [f"{name} = {draw(st.floats(-1.5, 1.5, allow_nan=False))!r}" for name in inputs]
    values = [round(draw(st.floats(-1.0, 1.0)), 3) for _ in range(3)]
    lines += [f"v = np.array({values!r})", f"k = {draw(st.integers(0, 2))}", "n = 3"]
    names = list(inputs)
    for _ in range(draw(st.integers(2, 7))):
        target = draw(st.sampled_from(["a", "b", "c", *inputs]))
        squash = draw(st.sampled_from(SQUASH))
        # Each value reads a name, so every name holds a value computed from the inputs.
        read = draw(st.sampled_from(names))
        expression = squash.format(f"{draw(_scalar(names))} + 0.25 * {read}")
        form = draw(st.integers(0, 5))
        if form == 0 and target in names:
            lines.append(f"for _ in range(n):\n    {target} = {squash.format(target + ' * 0.9')}")
        elif form == 1 and target in names:
            lines.append(f"{target} += {expression}")
        else:
            lines.append(f"{target} = {expression}")
        names.append(target)
        if draw(st.integers(0, 3)) == 0:
            lines.append(f"d{target}_d{draw(st.sampled_from(inputs))} = 0.0")
    # The loss reads the latest value assigned, so it is computed from the inputs.
    body = f"{names[-1]} + {draw(_scalar(names))}"
    lines.append(f"loss = {draw(st.sampled_from(SQUASH)).format(body)}")
    if draw(st.booleans()):
        lines.append("result = loss")
    return "\n".join(lines) + "\n"


def _run_generated(source, folder):
    path = folder / "generated.py"
    path.write_text(source, encoding="utf-8")
    try:
        run_plain(path)
    except Exception as raised:  # noqa: BLE001 - whatever Python raises, tracing raises too
        with pytest.raises(UserCodeError) as caught:
            load_script(path)
        assert type(caught.value.__cause__) is type(raised), source
        return
    problems = differential(path)
    assert problems == [], source + "\n" + "\n".join(problems)


QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=25, deadline=None, suppress_health_check=QUIET)
@given(source=programs())
def test_generated_programs_trace_as_python_runs_them(source, tmp_path):
    _run_generated(source, tmp_path)


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=QUIET)
@given(source=programs())
def test_many_generated_programs_trace_as_python_runs_them(source, tmp_path):
    _run_generated(source, tmp_path)


# The vocabulary of tests/programs.py: numpy scalars of both precisions, 0-d arrays,
# broadcasting, reductions, indexing, builtins, math, branches, helpers, claims right and wrong.
@settings(max_examples=10, deadline=None, suppress_health_check=QUIET)
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_programs_as_people_write_them_trace_as_python_runs_them(seed, tmp_path):
    _run_generated(program(random.Random(seed)), tmp_path)


@pytest.mark.slow
@settings(max_examples=35, deadline=None, suppress_health_check=QUIET)
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_many_programs_as_people_write_them_trace_as_python_runs_them(seed, tmp_path):
    _run_generated(program(random.Random(seed)), tmp_path)


def test_a_generated_program_by_hand(tmp_path):
    # The shape of what the generator writes, pinned: versions, an alias, a claim in a loop.
    _run_generated(textwrap.dedent("""
        import numpy as np
        import tracegraph as tg
        x0 = 0.3
        v = np.array([0.5, -0.2, 0.1])
        k = 2
        n = 3
        a = np.tanh(x0 * v[k])
        for _ in range(n):
            a = np.tanh(a * 0.9)
            da_dx0 = 0.0
        a += np.sin(np.sum(np.arange(n) * v) * a)
        loss = tg.sigmoid(a / n)
        result = loss
    """), tmp_path)
    assert tg.trace(lambda x: x * 2.0, x=1.0).value == 2.0
