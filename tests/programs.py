"""Random expression files in the vocabulary students and practitioners write, for the
differential test (tests/differential.py runs each both ways).

``program(rng)`` writes one file from a ``random.Random``: numbers of every kind a file
binds (Python floats and ints, numpy float64 and float32 scalars, 0-d arrays), arrays of
two shapes that broadcast, reductions with ``axis``/``keepdims``, basic, negative, fancy
and boolean indexing, ``np.where``/``np.maximum``/``np.clip``, elementwise functions
across the derivative table, Python's builtins and ``math`` on traced numbers, augmented
assignment and reassignment, ``if`` on comparisons, a helper with defaults, loops,
comprehensions, ``np.array``/``np.stack`` of traced numbers, and claims written right and
wrong (marked ``# right``/``# wrong`` so the harness can hold the grader to them).

Every value a statement binds is squashed into a bounded range, so nothing overflows and
every function stays inside its domain: a mismatch is a fidelity bug or a kink, which the
harness tells apart (tests/differential.py).
"""

from __future__ import annotations

import random
import re

# Elementwise functions with arguments kept inside their domains; {} is any real value.
ELEMENTWISE = (
    "np.sin({})", "np.cos({})", "np.tan(0.5 * np.tanh({}))", "np.tanh({})", "np.arctan({})",
    "np.arcsinh({})", "np.arcsin(0.9 * np.tanh({}))", "np.arccos(0.9 * np.tanh({}))",
    "np.arctanh(0.9 * np.tanh({}))", "np.arccosh(2.0 + ({}) ** 2)", "np.sinh(0.5 * {})",
    "np.cosh(0.5 * {})", "np.exp(-({}) ** 2)", "np.exp2(np.tanh({}))",
    "np.expm1(np.tanh({}))", "np.log(1.0 + ({}) ** 2)", "np.log1p(({}) ** 2)",
    "np.log2(2.0 + np.sin({}))", "np.log10(2.0 + np.cos({}))", "np.sqrt(1.0 + ({}) ** 2)",
    "np.cbrt(2.0 + np.tanh({}))", "np.square({})", "np.reciprocal(2.0 + np.sin({}))",
    "tg.sigmoid({})", "np.sinc({})", "np.hypot({}, 0.5)", "np.logaddexp({}, 0.3)",
    "np.logaddexp2({}, -0.2)", "np.arctan2({}, 1.5)", "np.deg2rad({})",
    "np.rad2deg(0.01 * {})", "np.negative({})", "np.power(1.0 + ({}) ** 2, 1.5)",
    "np.absolute({})", "np.fmax({}, 0.2)", "np.fmin({}, -0.1)", "np.maximum({}, 0.1)",
    "np.minimum({}, 0.3)", "np.clip({}, -0.5, 0.5)", "tg.relu({})", "np.floor({})",
    "np.ceil({})", "np.trunc({})", "np.rint({})", "np.round({}, 2)", "np.sign({})",
    "np.heaviside({}, 0.5)", "np.fmod({}, 0.7)", "np.mod({}, 0.7)", "({}) % 0.7",
    "({}) // 0.4", "np.floor_divide({}, 0.6)", "({}) / (1.0 + ({}) ** 2)",
)
# math's functions on one number, in their domains.
MATH = (
    "math.sin({})", "math.cos({})", "math.tanh({})", "math.exp(-({}) ** 2)",
    "math.sqrt(1.0 + ({}) ** 2)", "math.log1p(({}) ** 2)", "math.log(2.0 + math.sin({}))",
    "math.atan({})", "math.atan2({}, 1.5)", "math.hypot({}, 0.5)", "math.fabs({})",
    "math.pow(1.0 + ({}) ** 2, 0.5)", "math.asinh({})", "math.fmod({}, 0.7)",
    "math.log(1.5 + math.cos({}), 2)", "math.expm1({})", "math.floor({})",
)
SQUASH = ("np.tanh({})", "np.sin({})", "tg.sigmoid({})", "({0}) / (1.0 + ({0}) ** 2)",
          "math.tanh({})", "np.cos({})")
VSQUASH = ("np.tanh({})", "np.sin({})", "tg.sigmoid({})", "({0}) / (1.0 + ({0}) ** 2)")
CONSTANTS = ("0.5", "2.0", "-1.5", "3", "2", "np.float64(0.75)", "np.float32(1.25)", "1e-3")
# Comparisons that steer an `if`.
TESTS = ("{a} > {b}", "{a} < 0.3", "{a} >= {b} * 0.5", "abs({a}) < 0.5", "-0.5 < {a} < 0.5",
         "np.sum({v}) > 0.0", "{a} * {b} <= 0.1", "max({a}, {b}) > 0.2")


class _Writer:
    """One program being written: its lines, and the names bound so far by kind."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lines = ["import math", "import numpy as np", "import tracegraph as tg"]
        self.scalars: list[str] = []
        self.vectors: list[str] = []
        self.matrices: list[str] = ["M"]
        self.untouched: list[str] = []  # float64 inputs never rebound: claims are about them
        self.helper = False
        self.claims = 0

    def pick(self, options):
        return self.rng.choice(options)

    def number(self) -> float:
        value = round(self.rng.uniform(-1.5, 1.5), 3)
        return value if abs(value) > 0.05 else 0.4

    # ----------------------------------------------------------------- expressions

    def scalar(self, depth: int = 0) -> str:
        r = self.rng
        if depth >= 3 or r.random() < 0.3:
            return self.pick(CONSTANTS) if r.random() < 0.15 else self.pick(self.scalars)
        a = lambda: self.scalar(depth + 1)  # noqa: E731
        v = lambda: self.vector(depth + 1)  # noqa: E731
        m = lambda: self.matrix(depth + 1)  # noqa: E731
        kind = r.randrange(40)
        if kind < 8:
            return [f"({a()} + {a()})", f"({a()} - {a()})", f"({a()} * {a()})",
                    f"{a()} / (1.0 + {a()} ** 2)", f"({a()}) ** 2", f"-{a()}",
                    f"({a()}) ** n", self.pick([f"2 * {a()} - {a()} / 2", f"{a()} / n",
                                                f"(k + 1) * {a()}", f"{a()} - k"])][kind]
        if kind < 12:
            return self.pick(ELEMENTWISE).format(a(), a()) if kind < 11 else \
                self.pick(MATH).format(a())
        if kind < 22:
            return [f"np.sum({v()})", f"np.mean({v()})", f"np.max({v()})", f"np.min({v()})",
                    f"np.prod({v()})", f"np.std({v()})", f"np.var({v()})",
                    f"np.linalg.norm({v()})", f"np.dot({v()}, {v()})", f"({v()}) @ ({v()})",
                    ][kind - 12]
        if kind < 30:
            name = self.pick(self.vectors)
            mat = self.pick(self.matrices)
            return [f"{name}[k]", f"{name}[-1]", f"{mat}[1, k]", f"{mat}[-1, -2]",
                    f"np.sum({mat}[:, 1])", f"np.sum({m()}, axis=0)[k]",
                    f"np.mean({m()}, axis=1, keepdims=True)[0, 0]",
                    f"np.sum({name}[{name} > 0.0])"][kind - 22]
        if kind < 36:
            return [f"max({a()}, {a()})", f"min({a()}, {a()}, 0.3)", f"abs({a()})",
                    f"pow({a()}, 2)", f"round({a()}, 2)", f"divmod({a()}, 0.7)[{r.randrange(2)}]",
                    ][kind - 30]
        if kind == 36:
            return f"sum([{a()}, {a()}, {a()}])"
        if kind == 37:
            return f"sum(np.tanh({a()} * j) for j in range(n))"
        if kind == 38 and self.helper:
            return self.pick([f"helper({a()})", f"helper({a()}, {a()})",
                              f"helper({a()}, scale=1.5)"])
        return self.pick([f"np.array({a()})",
                          f"np.sum(np.where({v()} > {a()}, {v()}, {a()}))",
                          f"np.sum(np.maximum({v()}, 0.1))",
                          f"np.sum(np.clip({v()}, -0.5, 0.5))", f"sum({v()})"])

    def vector(self, depth: int = 0) -> str:
        r = self.rng
        if depth >= 3 or r.random() < 0.35:
            return self.pick(self.vectors)
        a = lambda: self.scalar(depth + 1)  # noqa: E731
        v = lambda: self.vector(depth + 1)  # noqa: E731
        m = lambda: self.matrix(depth + 1)  # noqa: E731
        name = self.pick(self.vectors)
        return self.pick([
            f"({v()} * {a()})", f"({v()} + {v()})", f"({v()} - {a()})",
            self.pick(ELEMENTWISE).format(v(), v()), f"np.array([{a()}, {a()}, {a()}])",
            f"np.stack([{a()}, {a()}, {a()}])", f"{self.pick(self.matrices)}[-1]",
            f"np.sum({m()}, axis=0)", f"np.mean({m()}, axis=0)", f"np.max({m()}, axis=0)",
            f"{name}[::-1]", f"{name}[[2, 0, 1]]", f"{name}[np.array([0, 2, 2])]",
            f"np.where({v()} > 0.0, {v()}, 0.1 * {v()})", f"np.maximum({v()}, {v()})",
            f"np.clip({v()}, -0.5, 0.8)", f"np.cumsum({v()})", f"np.sort({v()})",
            f"np.roll({v()}, 1)", f"(np.array([1.0, -0.5]) @ {m()})",
            f"np.sum({m()}, axis=0, keepdims=True)[0]",
        ])

    def matrix(self, depth: int = 0) -> str:
        r = self.rng
        if depth >= 3 or r.random() < 0.4:
            return self.pick(self.matrices)
        a = lambda: self.scalar(depth + 1)  # noqa: E731
        v = lambda: self.vector(depth + 1)  # noqa: E731
        m = lambda: self.matrix(depth + 1)  # noqa: E731
        return self.pick([
            f"({m()} * {v()})", f"({m()} + {v()})", f"({m()} * {a()})",
            f"({m()} - np.mean({m()}, axis=1, keepdims=True))", f"np.tanh({m()})",
            f"np.stack([{v()}, {v()}])", f"np.where({m()} > 0.0, {m()}, 0.1 * {m()})",
            f"({m()})[::-1]", f"({m()})[:, [2, 1, 0]]", self.pick(ELEMENTWISE).format(m(), m()),
        ])

    # ----------------------------------------------------------------- statements

    def inputs(self) -> None:
        r = self.rng
        for i in range(r.randint(1, 3)):
            name, value = f"x{i}", self.number()
            form = r.randrange(5)
            if form == 3:
                self.lines.append(f"{name} = np.float32({value!r})")
            elif form == 4:
                self.lines.append(f"{name} = np.array({value!r})")
            else:
                self.lines.append(f"{name} = {value!r}" if form < 2 else
                                  f"{name} = np.float64({value!r})")
                self.untouched.append(name)
            self.scalars.append(name)
        values = [self.number() for _ in range(3)]
        rows = [[self.number() for _ in range(3)] for _ in range(2)]
        single = ", dtype=np.float32" if r.random() < 0.15 else ""
        self.lines += [f"V = np.array({values!r}{single})", f"M = np.array({rows!r})",
                       f"k = {r.randrange(3)}", "n = 3"]
        self.vectors.append("V")
        if r.random() < 0.4:
            scale, shift = self.pick(["2.0", "1.5", "0.5"]), self.pick(["0.5", "-0.25"])
            body = self.pick(SQUASH).format("p * scale + q")
            self.lines.append(f"\n\ndef helper(p, q={shift}, scale={scale}):\n"
                              f"    r = {body}\n    return r * q + p\n\n")
            self.helper = True

    def statement(self) -> None:
        r = self.rng
        kind = r.randrange(12)
        read = self.pick(self.scalars)
        if kind < 4 or not self.vectors:
            target = self.pick(["a", "b", "c", *self.scalars[:3]])
            rhs = self.pick(SQUASH).format(f"{self.scalar()} + 0.25 * {read}")
            if kind == 0 and target in self.scalars:
                op = self.pick(["+=", "-=", "*="])
                self.lines.append(f"{target} {op} {rhs}")
            else:
                self.lines.append(f"{target} = {rhs}")
            self._bound(target, self.scalars)
        elif kind < 6:
            target = self.pick(["u", "w", "V"])
            rhs = self.pick(VSQUASH).format(f"{self.vector()} + 0.25 * {read}")
            if kind == 4 and target in self.vectors:
                self.lines.append(f"{target} += {rhs}")
            else:
                self.lines.append(f"{target} = {rhs}")
            self._bound(target, self.vectors)
        elif kind == 6:
            target = self.pick(["P", "M"])
            self.lines.append(f"{target} = np.tanh({self.matrix()} + 0.25 * {read})")
            self._bound(target, self.matrices)
        elif kind == 7:
            a, b = self.pick(self.scalars), self.pick(self.scalars)
            test = self.pick(TESTS).format(a=a, b=b, v=self.pick(self.vectors))
            target = self.pick(["c", "d"])
            one = self.pick(SQUASH).format(f"{self.scalar()} + 0.25 * {read}")
            two = self.pick(SQUASH).format(f"{self.scalar()} - 0.5 * {read}")
            self.lines.append(f"if {test}:\n    {target} = {one}\nelse:\n    {target} = {two}")
            self._bound(target, self.scalars)
        elif kind == 8:
            target = self.pick(self.scalars)
            body = self.pick(SQUASH).format(f"{target} * 0.9 + 0.1 * i * {read}")
            self.lines.append(f"for i in range(n):\n    {target} = {body}")
            self._bound(target, self.scalars)
        elif kind == 9:
            item = self.pick(SQUASH).format(f"t * {read}")
            form = r.randrange(4)
            if form == 0:
                self.lines.append(f"s = sum([{item} for t in {self.pick(self.vectors)}])")
                self._bound("s", self.scalars)
            elif form == 1:
                self.lines.append(f"acc = 0.0\nfor t in {self.pick(self.vectors)}:\n"
                                  f"    acc += {item}")
                self._bound("acc", self.scalars)
            else:
                maker = "np.array" if form == 2 else "np.stack"
                self.lines.append(f"parts = [{self.pick(SQUASH).format(f'{read} * j')} "
                                  f"for j in range(n)]\nz = {maker}(parts)")
                self._bound("z", self.vectors)
        else:
            self.claim()

    def _bound(self, name: str, pool: list[str]) -> None:
        if name in self.untouched:
            self.untouched.remove(name)
        for other in (self.scalars, self.vectors, self.matrices):
            if name in other and other is not pool:
                other.remove(name)
        if name not in pool:
            pool.append(name)

    def claim(self) -> None:
        """``t = E(p, q)`` and ``dt_dp`` written from E's derivative, right or wrong."""
        if not self.untouched:
            return
        p = self.pick(self.untouched)
        others = [q for q in self.untouched if q != p] or ["0.7"]
        value, slope = _with_derivative(self.rng, p, others, 0)
        if not re.search(rf"\b{p}\b", value):  # an E that does not read p would be no claim
            value, slope = f"({value} + np.sin({p}))", f"np.cos({p})"
        self.claims += 1
        target = f"t{self.claims}"
        self.lines.append(f"{target} = {value}")
        if self.rng.random() < 0.5:
            self.lines.append(f"d{target}_d{p} = {slope}  # right")
        else:
            self.lines.append(f"d{target}_d{p} = 1.5 * ({slope}) + 0.1  # wrong")
        self._bound(target, self.scalars)


def _with_derivative(rng: random.Random, p: str, others: list[str], depth: int
                     ) -> tuple[str, str]:
    """An expression in ``p`` and ``others`` and its derivative by ``p``, as code."""
    if depth >= 3 or rng.random() < 0.3:
        leaf = rng.choice([p, p, *others])
        return leaf, "1.0" if leaf == p else "0.0"
    x, dx = _with_derivative(rng, p, others, depth + 1)
    kind = rng.randrange(12)
    if kind < 7:
        return [
            (f"np.sin({x})", f"np.cos({x}) * ({dx})"),
            (f"np.tanh({x})", f"(1.0 - np.tanh({x}) ** 2) * ({dx})"),
            (f"np.exp(0.5 * {x})", f"0.5 * np.exp(0.5 * {x}) * ({dx})"),
            (f"({x}) ** 2", f"2 * ({x}) * ({dx})"),
            (f"tg.sigmoid({x})", f"tg.sigmoid({x}) * (1 - tg.sigmoid({x})) * ({dx})"),
            (f"math.cos({x})", f"-math.sin({x}) * ({dx})"),
            (f"np.log(1.0 + ({x}) ** 2)", f"2 * ({x}) / (1.0 + ({x}) ** 2) * ({dx})"),
        ][kind]
    y, dy = _with_derivative(rng, p, others, depth + 1)
    return [
        (f"({x} + {y})", f"({dx}) + ({dy})"),
        (f"({x} * {y})", f"({dx}) * ({y}) + ({x}) * ({dy})"),
        (f"({x} - 2.0 * {y})", f"({dx}) - 2.0 * ({dy})"),
        (f"{x} / (1.0 + ({y}) ** 2)",
         f"({dx}) / (1.0 + ({y}) ** 2) - ({x}) * 2 * ({y}) * ({dy}) / (1.0 + ({y}) ** 2) ** 2"),
        (f"pow({x}, 3)", f"3 * ({x}) ** 2 * ({dx})"),
    ][kind - 7]


def program(rng: random.Random) -> str:
    """One expression file: inputs, 3 to 9 statements, and a scalar loss of the last."""
    writer = _Writer(rng)
    writer.inputs()
    for _ in range(rng.randint(3, 9)):
        writer.statement()
    last = writer.lines[-1].split("\n")[-1].split("=")[0].split()[0]
    last = last if last in writer.scalars else writer.pick(writer.scalars)
    body = f"{last} + {writer.scalar()}"
    if writer.vectors and rng.random() < 0.5:
        body += f" + np.mean({writer.pick(writer.vectors)} ** 2)"
    writer.lines.append(f"loss = {writer.pick(SQUASH).format(body)}")
    if rng.random() < 0.3:
        writer.lines.append("result = loss")
    return "\n".join(writer.lines) + "\n"
