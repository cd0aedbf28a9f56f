"""The function being minimised, as a function of one flat parameter vector.

:class:`Objective` traces ``fn`` once and then evaluates it at new
parameter values by *replaying* the record (:meth:`tracegraph.core.Tape.replay`)
instead of running the user's Python again.  A replay recomputes every
equation in place; when a guard no longer holds (a comparison such as
``if x > 0:`` that steered the code would now come out differently) the
function is traced again at the new point and the new record is used from
then on.  Either way the numbers are the ones a fresh trace gives.

The optimisers see all optimised inputs as one float64 vector
(:class:`Layout` flattens and unflattens them); every update rule is
elementwise, so this is the same as updating each input on its own.

Example:
    >>> import tracegraph as tg
    >>> f = function_objective(lambda x, y: (x - 1.0) ** 2 + (x > 0) * y ** 2,
    ...                        {"x": 2.0, "y": 3.0}, wrt="x")
    >>> f.layout.names, f.evaluate(f.start), f.gradient().tolist()
    (('x',), 10.0, [2.0])
    >>> f.retraces                                  # the first trace
    1
    >>> f.evaluate(f.start - 3.0), f.retraces       # x = -1: the branch flips
    (4.0, 2)
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import autodiff
from ..core import is_constant, plain_value, unwrap_constant
from ..errors import NotDifferentiatedError, TracegraphError
from ..script import ScriptResult, load_script, output_hidden
from ..trace import Trace, trace

Tracer = Callable[[Mapping[str, Any]], Trace]
"""Traces the function with some inputs replaced: ``tracer({name: new value}) -> Trace``."""


@dataclass(frozen=True)
class Layout:
    """Where each optimised input lives in the flat parameter vector.

    Example:
        >>> import numpy as np
        >>> layout = Layout.of({"a": 1.5, "W": np.arange(4.0).reshape(2, 2)})
        >>> theta = layout.flatten({"a": 1.5, "W": np.arange(4.0).reshape(2, 2)})
        >>> theta.tolist(), layout.unflatten(theta)["a"], layout.unflatten(theta)["W"].shape
        ([1.5, 0.0, 1.0, 2.0, 3.0], 1.5, (2, 2))
        >>> layout.stack([theta, theta + 1.0])["W"][1].tolist()
        [[1.0, 2.0], [3.0, 4.0]]
    """

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    offsets: tuple[int, ...]
    size: int

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Layout:
        names = tuple(values)
        shapes = tuple(np.shape(values[name]) for name in names)
        offsets, total = [], 0
        for shape in shapes:
            offsets.append(total)
            total += int(np.prod(shape, dtype=int))
        return cls(names, shapes, tuple(offsets), total)

    def flatten(self, values: Mapping[str, Any], out: np.ndarray | None = None) -> np.ndarray:
        """One float64 vector holding every input's value (or gradient), in order; written
        into ``out`` when given (a run's gradient buffer: fresh memory costs page faults)."""
        if len(self.names) == 1 and self.shapes[0]:
            # One array input (the common case, e.g. MDS's X): a copy of it, raveled.
            value = plain_value(values[self.names[0]])
            if out is None:
                return np.array(value, dtype=float).reshape(-1)
            out[:] = np.ravel(value)
            return out
        theta = np.empty(self.size) if out is None else out
        for name, shape, start in zip(self.names, self.shapes, self.offsets):
            size = int(np.prod(shape, dtype=int))
            theta[start:start + size] = np.ravel(plain_value(values[name]))
        return theta

    def unflatten(self, theta: np.ndarray) -> dict[str, Any]:
        """``{name: value}``: a Python float for a scalar input, an array (a view) otherwise."""
        if len(self.names) == 1 and self.shapes[0]:
            return {self.names[0]: theta.reshape(self.shapes[0])}
        values: dict[str, Any] = {}
        for name, shape, start in zip(self.names, self.shapes, self.offsets):
            if shape == ():
                values[name] = float(theta[start])
            else:
                size = int(np.prod(shape, dtype=int))
                values[name] = theta[start:start + size].reshape(shape)
        return values

    def copied(self, theta: np.ndarray) -> dict[str, Any]:
        """:meth:`unflatten` with arrays of their own (what a caller may keep or change).

        Example:
            >>> layout = Layout.of({"W": np.zeros(2)}); theta = np.ones(2)
            >>> values = layout.copied(theta); theta[0] = 5.0; values["W"].tolist()
            [1.0, 1.0]
        """
        return {name: (value if isinstance(value, float) else value.copy())
                for name, value in self.unflatten(theta).items()}

    def stack(self, thetas: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        """``{name: array of shape (len(thetas), *shape)}`` from a list of vectors (one copy
        of each input's values: a run of a large model keeps every step)."""
        stacked = {}
        for name, shape, start in zip(self.names, self.shapes, self.offsets):
            stop = start + int(np.prod(shape, dtype=int))
            stacked[name] = np.array([theta[start:stop] for theta in thetas]).reshape(
                (len(thetas), *shape))
        return stacked

    def element_names(self) -> list[str]:
        """A name per vector entry: ``b`` for a scalar, ``W[0,1]`` for an array element."""
        names: list[str] = []
        for name, shape in zip(self.names, self.shapes):
            if shape == ():
                names.append(name)
            else:
                names += [f"{name}[{','.join(map(str, index))}]" for index in np.ndindex(shape)]
        return names


class Objective:
    """``f(theta)`` for a flat parameter vector, evaluated by replaying one record.

    Args:
        tracer: traces the function with the given inputs replaced (see :data:`Tracer`).
        start: ``{name: value}`` of the optimised inputs at the start.
        batch_data: ``{name: full data array}`` of the inputs sampled in batches.
        replay: False re-traces at every evaluation (the reference the replay is tested
            against).

    Counters: ``evaluations`` (every value computed), ``gradient_evaluations``,
    ``retraces`` (evaluations that ran the Python code: the first one, and those where a
    guard flipped or a batch had another shape) and
    ``history`` (the loss of every evaluation, in order).

    Example:
        >>> import numpy as np
        >>> f = Objective(lambda changed: trace(lambda x: x * x, **changed), {"x": 3.0})
        >>> f.evaluate(f.start), f.gradient().tolist(), f.evaluate(np.array([1.0]))
        (9.0, [6.0], 1.0)
        >>> f.evaluations, f.retraces, f.history       # the second value was a replay
        (2, 1, [9.0, 1.0])
    """

    def __init__(self, tracer: Tracer, start: Mapping[str, Any], *,
                 batch_data: Mapping[str, Any] | None = None, replay: bool = True) -> None:
        self.tracer = tracer
        self.layout = Layout.of(start)
        self.start = self.layout.flatten(start)
        self.batch_data = dict(batch_data or {})
        self.replay = replay
        self.evaluations = 0
        self.gradient_evaluations = 0
        self.retraces = 0
        self.history: list[float] = []
        self._trace: Trace | None = None
        self._fresh = False  # the current record comes from a trace, whose gradient is known
        self._by_shape: dict[tuple, Trace] = {}  # a record per shape of the batch
        self._undefined = False  # the last point raised in Python (1/x at x = 0)

    def adopt(self, t: Trace) -> None:
        """Start from an existing trace of the function (its record is replayed from now on)."""
        self._trace = t
        self._fresh = False

    # -- evaluating -----------------------------------------------------------------------
    def evaluate(self, theta: np.ndarray, batch: Mapping[str, Any] | None = None) -> float:
        """f at ``theta`` (on ``batch``, ``{name: rows}`` of the batched inputs); counted."""
        loss = self.peek(theta, batch)
        self.evaluations += 1
        self.history.append(loss)
        return loss

    def peek(self, theta: np.ndarray, batch: Mapping[str, Any] | None = None) -> float:
        """f at ``theta`` without counting it (contour plots); NaN where Python's floats
        raise (a step landing on x = 0 of 1/x), so a run reports it as diverged."""
        self._undefined = False
        try:
            return self._value_at(theta, batch)
        except (ZeroDivisionError, OverflowError):
            self._undefined = True
            return math.nan

    def _value_at(self, theta: np.ndarray, batch: Mapping[str, Any] | None) -> float:
        values = self.layout.unflatten(theta)
        batch = batch or {}
        if self.replay and batch:
            # an epoch's short last batch has a record of its own, kept with the full one's
            kept = self._by_shape.get(_shapes(batch))
            if kept is not None:
                self._trace = kept
        if self._trace is not None and self.replay and self._replayed(values, batch):
            self._fresh = False
            return self._loss()
        changed = dict(values)
        changed.update(batch)
        self._trace = _checked_trace(self.tracer(changed), self.layout.names)
        key = _shapes(batch) if batch else None
        if key is not None and (key in self._by_shape or len(self._by_shape) < KEPT_RECORDS):
            self._by_shape[key] = self._trace  # the newest record of this shape
        self._fresh = True
        self.retraces += 1
        return self._loss()

    def _replayed(self, values: Mapping[str, Any], batch: Mapping[str, Any]) -> bool:
        tape = self._trace.tape
        equations = tape.equations
        updates: dict[int, Any] = {}
        for name, value in values.items():
            updates[tape.inputs[name]] = value
        for name, rows in batch.items():
            index = tape.inputs.get(name)
            # A batch that is not a traced leaf (integer labels), or of another size, changes
            # what the Python code computed: trace again.
            if index is None or np.shape(rows) != np.shape(equations[index].value):
                return False
            updates[index] = rows
        return tape.replay(updates)

    def _loss(self) -> float:
        tape = self._trace.tape
        value = tape.result if tape.output is None else tape.equations[tape.output].value
        return float(np.asarray(plain_value(value), dtype=float).reshape(()))

    def gradient(self, out: np.ndarray | None = None) -> np.ndarray:
        """The gradient at the point evaluated last, as a flat vector; counted.  With
        ``out`` (a float64 vector of the layout's size) it is written there, for a caller
        that is done with the previous gradient when it asks for the next."""
        self.gradient_evaluations += 1
        if self._undefined:
            return np.full(self.layout.size, math.nan)
        t = self._trace
        if self._fresh:
            return self.layout.flatten(t.grads, out)
        tape = t.tape
        if tape.output is None:
            return np.zeros(self.layout.size)
        indices = [tape.inputs[name] for name in self.layout.names]
        adjoints, _ = autodiff.gradients(tape.equations, tape.output, 1.0, keep=indices)
        grads = {name: 0.0 if adjoints[i] is None else adjoints[i]
                 for name, i in zip(self.layout.names, indices)}
        return self.layout.flatten(grads, out)


KEPT_RECORDS = 4
"""Records kept for batches of different shapes (the full batch and an epoch's last)."""


def _shapes(batch: Mapping[str, Any]) -> tuple:
    return tuple(sorted((name, np.shape(rows)) for name, rows in batch.items()))


def _checked_trace(t: Trace, names: Iterable[str]) -> Trace:
    if np.shape(t.value) != ():
        raise NotDifferentiatedError(
            f"the function returned an array of shape {np.shape(t.value)}; descent needs one "
            "number to minimise", node=t.output_name,
            hint="return a scalar loss, e.g. np.sum(...) or np.mean(...) of the array")
    missing = [name for name in names if name not in t.tape.inputs]
    if missing:
        raise TracegraphError(f"input {missing[0]!r} is not a traced number or float array",
                              hint="pass a float or a float array to optimise it")
    return t


# --------------------------------------------------------------------------- building one


def optimisable(value: Any) -> bool:
    """True for the inputs ``wrt=None`` optimises: floats and float arrays, not constants.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> optimisable(1.0), optimisable(3), optimisable(np.zeros(2)), optimisable(tg.constant(1.0))
        (True, False, True, False)
    """
    if is_constant(value) or isinstance(value, (bool, np.bool_, int, np.integer)):
        return False
    if isinstance(value, (float, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def parse_names(names: str | Iterable[str] | None) -> list[str] | None:
    """``"a,b"`` or ``["a", "b"]`` as a list (None stays None).

    Example:
        >>> parse_names("w, b"), parse_names(["X"]), parse_names(None)
        (['w', 'b'], ['X'], None)
    """
    if names is None:
        return None
    if isinstance(names, str):
        names = names.split(",")
    return [name.strip() for name in names if name.strip()]


def choose_parameters(inputs: Mapping[str, Any], wrt: str | Iterable[str] | None,
                      batch: Iterable[str] = ()) -> list[str]:
    """The names to optimise: ``wrt`` (checked) or every :func:`optimisable` input.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> choose_parameters({"w": np.zeros(2), "X": tg.constant(np.ones(2)), "n": 3}, None)
        ['w']
    """
    batched = set(batch)
    names = parse_names(wrt)
    if names is None:
        names = [name for name, value in inputs.items()
                 if optimisable(value) and name not in batched]
        if not names:
            raise TracegraphError(
                "there is nothing to optimise: no input is a float or float array "
                "(constants and integers are never optimised)",
                hint="pass the parameters as floats (w=0.0, not w=0) or name them with wrt=")
        return names
    if not names:
        raise TracegraphError("wrt names no input", hint="wrt='w,b' or wrt=['w', 'b']")
    for name in names:
        if name not in inputs:
            close = difflib.get_close_matches(name, list(inputs), n=1)
            raise TracegraphError(
                f"wrt: {name!r} is not an input",
                hint=(f"did you mean {close[0]!r}? " if close else "")
                + "inputs: " + ", ".join(inputs))
        if name in batched:
            raise TracegraphError(f"{name!r} is both optimised (wrt) and sampled (batch)",
                                  hint="batch names data inputs; wrt names parameters")
        if not optimisable(inputs[name]):
            raise TracegraphError(
                f"wrt: input {name!r} cannot be optimised: it is "
                + _kind_of(inputs[name]),
                hint="give it as a float or a float array (w=0.0, not w=0)")
    return names


def _kind_of(value: Any) -> str:
    if is_constant(value):
        return "a constant"
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype.name} (optimising needs float64 or another float)"
    return f"of type {type(value).__name__}"


def function_objective(fn: Callable[..., Any], inputs: Mapping[str, Any],
                       wrt: str | Iterable[str] | None = None, batch: Iterable[str] = (),
                       *, replay: bool = True) -> Objective:
    """The :class:`Objective` of ``fn(**inputs)`` for the inputs named by ``wrt``.

    The inputs named in ``batch`` are data sampled by rows; they are traced as
    leaves (not constants) so that a replay can put the next batch in.

    Example:
        >>> import numpy as np
        >>> f = function_objective(lambda w, X: np.sum((X * w) ** 2),
        ...                        {"w": 2.0, "X": np.arange(3.0)}, batch=["X"])
        >>> f.layout.names, list(f.batch_data), f.evaluate(f.start, {"X": np.ones(3)})
        (('w',), ['X'], 12.0)
        >>> f.gradient().tolist(), f.evaluate(f.start, {"X": np.zeros(3)}), f.retraces
        ([12.0], 0.0, 1)
    """
    if not callable(fn):
        raise TypeError(f"descend() needs a function as its first argument, got {fn!r}")
    inputs = dict(inputs)
    batch = list(batch)
    names = choose_parameters(inputs, wrt, batch)
    fixed = {name: value for name, value in inputs.items() if name not in names}
    data = {}
    for name in batch:
        if name not in inputs:
            raise TracegraphError(f"batch: {name!r} is not an input",
                                  hint="inputs: " + ", ".join(inputs))
        data[name] = np.asarray(unwrap_constant(inputs[name]))
        fixed.pop(name)

    order = list(inputs)

    def tracer(changed: Mapping[str, Any]) -> Trace:
        return trace(fn, **{name: changed[name] if name in changed else fixed[name]
                            for name in order})

    start = {name: _start_value(inputs[name]) for name in names}
    return Objective(tracer, start, batch_data=data, replay=replay)


def _start_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return np.array(value, dtype=float)
    return float(value)


def script_objective(result: ScriptResult, wrt: str | Iterable[str] | None = None, *,
                     overrides: Mapping[str, Any] | None = None, output: str | None = None,
                     function: str | None = None) -> Objective:
    """The :class:`Objective` of an expression file already traced by ``load_script``
    (with these ``overrides``, ``output`` and ``function``).

    It starts from ``result``'s record; when a guard flips, the file runs again
    with the parameters as overrides (the other overrides kept).  The file's
    prints are not repeated: they show once, from the run that loaded it.

    Example:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder) / "f.py"
        ...     _ = path.write_text("a = 2.0\\nb = 3.0\\nloss = (a - 1.0) ** 2 + b * b\\n")
        ...     f = script_objective(load_script(path), wrt="a")
        ...     f.layout.names, f.evaluate(f.start), f.gradient().tolist(), f.retraces
        (('a',), 10.0, [2.0], 0)
    """
    names = choose_parameters(result.inputs, wrt)
    fixed = dict(overrides or {})

    def tracer(changed: Mapping[str, Any]) -> Trace:
        with output_hidden():  # its prints were shown by the first run
            again = load_script(result.path, overrides={**fixed, **changed}, output=output,
                                function=function)
        return again.trace

    start = {name: _start_value(result.inputs[name]) for name in names}
    objective = Objective(tracer, start)
    objective.adopt(_checked_trace(result.trace, names))
    return objective
