"""The differential harness: run a file as plain Python and traced, and compare.

The plain run is independent of tracegraph's binder: the file's syntax tree is
rewritten so that after every assignment (at any depth) the value of each name it
binds is recorded, by name, line and how many times that line has run; at each
claim's line the top-level values are recorded too.  Then:

* every value tracegraph reports for a version of a name (``ScriptResult.versions``)
  must equal the plain run's value of that name, at that line, on that run;
* the output's value, and every claim's value, must equal Python's;
* every input's gradient must agree with central finite differences of the plain run
  (re-run with that input moved), and so must the true derivative each claim is graded
  against (second differences for second-order claims): a wrong rule cannot hide behind
  its own replay.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracegraph.check import check_script
from tracegraph.core import plain_value
from tracegraph.script import load_script
from tracegraph.verdicts import WRONG

RECORD = "__differential_record__"
SHIFT = "__differential_shift__"
WALRUS = "__differential_walrus__"


@dataclass
class PlainRun:
    """What plain Python computed: values by (name, line) in run order, and the
    top-level namespace at each run of each claim's line (the last run is kept)."""

    values: dict[tuple[str, int], list[Any]] = field(default_factory=dict)
    at_claims: dict[int, dict[str, Any]] = field(default_factory=dict)
    shifted: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Seen:
    """A value as Python had it at an assignment, and the object itself (an array changed
    in place later, ``onehot[i, y] = 1.0``, is that object from then on)."""

    then: Any
    live: Any


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value
    return None


class _Recorder:
    def __init__(self, claim_lines: set[int], shift: dict[str, Any]) -> None:
        self.run = PlainRun()
        self.claim_lines = claim_lines
        self.shift = shift  # each input is moved at its first binding only

    def record(self, names: tuple[str, ...], line: int, scope: dict[str, Any],
               top: dict[str, Any]) -> None:
        for name in names:
            # a function's `global penalty` binds the module's name, not a local one
            where = scope if name in scope else top if name in top else None
            if where is not None:
                self.run.values.setdefault((name, line), []).append(
                    Seen(_copy(where[name]), where[name]))
        if line in self.claim_lines:
            self.run.at_claims[line] = {k: _copy(v) for k, v in top.items()
                                        if _copy(v) is not None}

    def walrus(self, names: tuple[str, ...], line: int, value: Any, scope: dict[str, Any],
               top: dict[str, Any]) -> Any:
        """``(y := ...)`` is recorded where it happens, inside its expression."""
        self.record(names, line, scope, top)
        return value

    def move(self, name: str, value: Any) -> Any:
        """The first top-level binding of a shifted input, moved by its step."""
        if name not in self.shift or name in self.run.shifted:
            return value
        self.run.shifted.add(name)
        return value + self.shift[name]


class _Instrument(ast.NodeTransformer):
    """Record every assignment after it runs; shift top-level bindings on request."""

    def __init__(self) -> None:
        self.depth = 0

    def _after(self, node: ast.stmt, names: list[str]) -> list[ast.stmt]:
        call = ast.parse(f"{RECORD}({tuple(names)!r}, {node.lineno}, locals(), globals())").body[0]
        return [node, ast.copy_location(call, node)]

    def _nested(self, node: ast.AST) -> ast.AST:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _nested

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        return node

    def visit_If(self, node: ast.If) -> Any:
        test = node.test
        if (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
                and test.left.id == "__name__"):
            return None  # the __main__ block does not run when tracing either
        self.generic_visit(node)
        return node

    def visit_Assign(self, node: ast.Assign) -> Any:
        self.generic_visit(node)
        names = [n.id for target in node.targets for n in ast.walk(target)
                 if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
        if self.depth == 0 and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            node.value = ast.Call(ast.Name(SHIFT, ast.Load()),
                                  [ast.Constant(node.targets[0].id), node.value], [])
            ast.copy_location(node.value, node)
        return self._after(node, names)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> Any:
        self.generic_visit(node)
        call = ast.parse(f"{WALRUS}(({node.target.id!r},), {node.lineno}, None, locals(), "
                         "globals())", mode="eval").body
        call.args[2] = node
        return ast.copy_location(call, node)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        self.generic_visit(node)
        if isinstance(node.target, ast.Name):
            return self._after(node, [node.target.id])
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        self.generic_visit(node)
        if node.value is not None and isinstance(node.target, ast.Name):
            if self.depth == 0:
                node.value = ast.copy_location(ast.Call(
                    ast.Name(SHIFT, ast.Load()), [ast.Constant(node.target.id), node.value], []),
                    node)
            return self._after(node, [node.target.id])
        return node


def run_plain(path: Path, claim_lines: set[int] = frozenset(),
              shift: dict[str, Any] | None = None) -> PlainRun:
    """Run ``path`` as plain Python (not as ``__main__``), recording every assignment."""
    tree = _Instrument().visit(ast.parse(path.read_text(encoding="utf-8")))
    code = compile(ast.fix_missing_locations(tree), str(path), "exec")
    recorder = _Recorder(set(claim_lines), dict(shift or {}))
    module = types.ModuleType("__differential__")
    module.__dict__.update(__file__=str(path), __builtins__=__builtins__)
    module.__dict__[RECORD] = recorder.record
    module.__dict__[SHIFT] = recorder.move
    module.__dict__[WALRUS] = recorder.walrus
    saved = list(sys.path)
    sys.path.insert(0, str(path.parent))
    try:
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            exec(code, module.__dict__)
    finally:
        sys.path[:] = saved
    return recorder.run


def _same(plain: Any, traced: Any) -> bool:
    """Equal to the last bit (NaN equals NaN): the traced run computes with the same
    functions on the same numbers, so any difference is a fidelity bug."""
    plain, traced = np.asarray(plain), np.asarray(plain_value(traced))
    if (plain.dtype == np.float32) != (traced.dtype == np.float32):
        return False  # the same numbers now, but float32 arithmetic after them rounds apart
    plain, traced = plain.astype(float), traced.astype(float)
    return plain.shape == traced.shape and bool(np.array_equal(plain, traced, equal_nan=True))


def compare_values(path: Path) -> tuple[list[str], Any, PlainRun]:
    """Mismatches between tracegraph's values and Python's for every version of a name,
    the output and every claim."""
    result = load_script(path)
    claim_lines = {claim.lineno for claim in result.claims.values()}
    plain = run_plain(path, claim_lines)
    tape = result.trace.tape
    problems = []
    for version in result.versions:
        runs = plain.values.get((version.name, version.lineno), [])
        if len(runs) < version.count:
            problems.append(f"{version.ref} (run {version.count}): Python ran it {len(runs)}x")
            continue
        seen = runs[version.count - 1]
        traced = tape.equations[version.index].value
        if not (_same(seen.then, traced) or _same(seen.live, traced)):
            problems.append(f"{version.ref} (run {version.count}): Python {seen.then!r}, "
                            f"tracegraph {plain_value(traced)!r}")
    for claim in result.claims.values():
        python = plain.at_claims.get(claim.lineno, {}).get(claim.name)
        if python is not None and not _same(python, claim.value):
            problems.append(f"claim {claim.name} (line {claim.lineno}): Python {python!r}, "
                            f"tracegraph {claim.value!r}")
        if claim.nodes is None or claim.reading is None:
            continue
        for name, index in zip(claim.reading.names, claim.nodes):
            if index < 0:
                continue
            python = plain.at_claims.get(claim.lineno, {}).get(name)
            if python is not None and not _same(python, tape.equations[index].value):
                problems.append(f"claim {claim.name} (line {claim.lineno}) reads {name} as "
                                f"{plain_value(tape.equations[index].value)!r}; Python has "
                                f"{python!r} there")
    return problems, result, plain


def _direction(value: Any, rng: np.random.Generator) -> Any:
    if isinstance(value, np.ndarray):
        return rng.normal(size=value.shape)
    return 1.0


def finite_difference(path: Path, name: str, value: Any, direction: Any,
                      read: Any, claim_lines: set[int] = frozenset(), *,
                      step: float = 1e-4) -> float:
    """The directional derivative of ``read(PlainRun)`` along ``direction`` when input
    ``name`` is moved, by central differences of plain Python runs (Richardson-extrapolated)."""
    scale = max(1.0, float(np.max(np.abs(value), initial=0.0)))
    h = step * scale

    def at(step: float) -> float:
        run = run_plain(path, claim_lines, {name: step * direction})
        assert run.shifted, f"{name} is not bound by a plain assignment in {path.name}"
        return float(np.sum(np.asarray(read(run), dtype=float)))

    d1 = (at(h) - at(-h)) / (2 * h)
    d2 = (at(2 * h) - at(-2 * h)) / (4 * h)
    return (4 * d1 - d2) / 3


def second_difference(path: Path, moves: list[tuple[str, Any, Any]], read: Any,
                      claim_lines: set[int]) -> float:
    """vᵀ·H·w of ``read(PlainRun)`` by central second differences of plain Python runs:
    ``moves`` are (input, its value, direction) for X and Z (the same input twice for
    ∂²/∂X²)."""
    scale = max([1.0] + [float(np.max(np.abs(value), initial=0.0)) for _, value, _ in moves])
    h = 1e-3 * scale
    (x, _, v), (z, _, w) = moves

    def at(s: float, t: float) -> float:
        shift: dict[str, Any] = {}
        shift[x] = s * v
        shift[z] = shift.get(z, 0.0) + t * w
        run = run_plain(path, claim_lines, shift)
        return float(np.sum(np.asarray(read(run), dtype=float)))

    return (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)


def output_version(result: Any) -> Any:
    """The version of a name the output is (the last top-level binding of its node)."""
    for version in reversed(result.versions):
        if version.index == result.trace.tape.output and version.top_level:
            return version
    return None


def _single_precision(plain: PlainRun, tape: Any) -> bool:
    """True when the file computes in float32 somewhere (in a value it names, or one it
    does not: ``r * q`` in a helper's return): its finite differences carry float32's
    rounding (about 1e-7 of each value), far above float64's."""
    return any(np.asarray(seen.then).dtype == np.float32
               for runs in plain.values.values() for seen in runs if seen.then is not None) \
        or any(np.asarray(plain_value(e.value)).dtype == np.float32 for e in tape.equations)


class _Differences:
    """Finite differences of one file, with steps and tolerances for its precision.

    A disagreement is only reported when the differences are to be trusted there: at a
    kink or a jump (``abs``, ``max``, ``%``, an ``if`` on a comparison, a boolean mask)
    within a step of the point, differences over a step ten times smaller disagree with
    the first ones, and neither is the derivative.  A wrong rule gives differences that
    agree with each other and not with it.
    """

    def __init__(self, path: Path, plain: PlainRun, tape: Any) -> None:
        self.path = path
        single = _single_precision(plain, tape)
        self.step = 1e-2 if single else 1e-4
        self.rtol, self.atol = (1e-3, 1e-4) if single else (1e-5, 1e-6)
        self.unsmooth = 0

    def close(self, a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=self.rtol, abs_tol=self.atol)

    def disagrees(self, analytic: float, *args: Any, **kwargs: Any) -> float | None:
        """Python's finite difference when it disagrees with ``analytic``, else None."""
        numeric = finite_difference(self.path, *args, step=self.step, **kwargs)
        if self.close(analytic, numeric):
            return None
        finer = finite_difference(self.path, *args, step=self.step / 10, **kwargs)
        if self.close(analytic, finer):
            return None
        if not self.close(numeric, finer):
            self.unsmooth += 1  # not differentiable within a step of here
            return None
        return numeric


def compare_gradients(path: Path, result: Any, *, seed: int = 0,
                      plain: PlainRun | None = None) -> list[str]:
    """Each float input's gradient, and each first-order claim's true derivative with
    respect to an input, against finite differences of the plain run."""
    problems = []
    rng = np.random.default_rng(seed)
    tape = result.trace.tape
    differences = _Differences(path, plain if plain is not None else run_plain(path), tape)
    out = output_version(result)
    if out is None or np.ndim(result.trace.value):
        return problems
    report = check_script(result) if result.claims else None
    floats = {name: value for name, value in result.inputs.items()
              if tape.inputs[name] not in tape.integer_leaves}
    for name, value in floats.items():
        direction = _direction(value, rng)
        analytic = float(np.sum(np.asarray(result.trace.grads[name]) * direction))
        numeric = differences.disagrees(
            analytic, name, value, direction,
            lambda run: run.values[(out.name, out.lineno)][out.count - 1].then)
        if numeric is not None:
            problems.append(f"d{out.ref}/d{name}: tracegraph {analytic!r}, Python's finite "
                            f"differences {numeric!r}")
    graded_by_line = {(r.name, r.lineno): r for r in (report.results if report else ())}
    for claim in result.claims.values():
        graded = graded_by_line.get((claim.name, claim.lineno))
        if graded is not None and graded.degree == 2:
            problems.extend(_second_order(path, claim, graded, floats, tape, rng))
            continue
        if graded is None or graded.degree != 1 or graded.expected is None or claim.nodes is None:
            continue
        wrt_name = claim.reading.wrt[0]
        if wrt_name not in floats or tape.inputs[wrt_name] != claim.nodes[1]:
            continue  # finite differences move inputs only
        of_name = claim.reading.of
        if np.ndim(graded.expected) and np.shape(graded.expected) != np.shape(floats[wrt_name]):
            continue  # a Jacobian or an elementwise claim: the gradient form only
        direction = _direction(floats[wrt_name], rng)
        analytic = float(np.sum(np.asarray(graded.expected) * direction))
        if np.ndim(tape.equations[claim.nodes[0]].value):
            continue
        numeric = differences.disagrees(
            analytic, wrt_name, floats[wrt_name], direction,
            lambda run, line=claim.lineno, of=of_name: run.at_claims[line][of], {claim.lineno})
        if numeric is not None:
            problems.append(f"the true value of claim {claim.name} (line {claim.lineno}): "
                            f"tracegraph {analytic!r}, Python's finite differences {numeric!r}")
    return problems


def _second_order(path: Path, claim: Any, graded: Any, floats: dict[str, Any], tape: Any,
                  rng: np.random.Generator) -> list[str]:
    """A second-order claim's true value against second differences of the plain run."""
    if graded.expected is None or claim.nodes is None:
        return []
    names = claim.reading.wrt
    if any(n not in floats or tape.inputs[n] != i for n, i in zip(names, claim.nodes[1:])):
        return []
    if np.ndim(tape.equations[claim.nodes[0]].value):
        return []
    x, z = names
    block = np.shape(floats[x]) + np.shape(floats[z])
    if np.shape(graded.expected) != block:
        return []  # the diagonal of a separable Hessian: the full block only
    v, w = _direction(floats[x], rng), _direction(floats[z], rng)
    analytic = float(np.sum(np.asarray(graded.expected) * np.multiply.outer(v, w)))
    numeric = second_difference(
        path, [(x, floats[x], v), (z, floats[z], w)],
        lambda run, line=claim.lineno, of=claim.reading.of: run.at_claims[line][of],
        {claim.lineno})
    if math.isclose(analytic, numeric, rel_tol=1e-4, abs_tol=1e-5):
        return []
    return [f"the true value of claim {claim.name} (line {claim.lineno}): tracegraph "
            f"{analytic!r}, Python's second differences {numeric!r}"]


def compare_verdicts(path: Path, result: Any) -> list[str]:
    """A claim whose line ends in ``# right`` must hold and one ending in ``# wrong`` must
    be graded wrong: the file's author knows which derivative is which."""
    lines = path.read_text(encoding="utf-8").splitlines()
    marked = {number: line.rsplit("#", 1)[1].strip() for number, line in
              enumerate(lines, 1) if line.rstrip().endswith(("# right", "# wrong"))}
    if not marked:
        return []
    graded = {r.lineno: r for r in check_script(result).results}
    problems = []
    for number, meant in sorted(marked.items()):
        verdict = graded.get(number)
        if verdict is None:
            problems.append(f"line {number} is a claim written {meant}, and was not graded")
        elif verdict.holds != (meant == "right") or (meant == "wrong" and verdict.verdict
                                                      != WRONG):
            problems.append(f"{verdict.where}, written {meant}, graded {verdict.verdict}: "
                            f"claimed {verdict.claimed!r}, true {verdict.expected!r}")
    return problems


def differential(path: Path, *, gradients: bool = True) -> list[str]:
    """Every disagreement between ``python FILE`` and tracegraph for one file."""
    problems, result, plain = compare_values(path)
    if result.mode == "script" and not np.ndim(result.trace.value):
        out = output_version(result)
        if out is None:
            problems.append(f"the output {result.output} is no version of a name")
    if gradients and result.mode == "script":
        problems.extend(compare_gradients(path, result, plain=plain))
    problems.extend(compare_verdicts(path, result))
    return problems
