"""Every command on big traces, as a user runs them (issue 10: "never hang, on any trace size").

Three expression files are written to a temporary folder and each command is
run on each as a fresh ``python -m tracegraph`` process (start-up included,
as the user waits for it), timed by wall clock, with its output's size:

    S1 self-traced  the S1 chain of shared/bench/WORKLOADS.md (scalar x, w_i, b_i;
                    ``y = tanh(y·w_i + b_i)``), 20,000 steps = 100,001 nodes, the
                    file tracing itself with ``tg.Tracer`` (20,001 inputs)
    S1 as written   the same chain written out line by line in script mode
                    (a 40,000-line file: the source transformation is measured too)
    loop            ``for _ in range(100_000): y = np.tanh(y * w + b)`` in script
                    mode: a 100,000-step loop, 300,003 nodes, 3 inputs

The commands: ``render`` (SVG with the default node budget, Graphviz's
layout included; DOT when ``dot`` is missing), ``explain``, ``paths --from x``,
``export`` (JSON to a file), ``check`` (the file's claims: one hand-derived
derivative per file, graded through the whole chain) and ``check --numeric``
(finite differences within its default budget).
The start-up time of ``tracegraph --version`` is reported first; an import
of the package is most of it.

    python bench/cli_bench.py                   # everything, about 3 minutes
    python bench/cli_bench.py --steps 2000      # smaller files (S1: 10,001 nodes)
    python bench/cli_bench.py --only loop --timeout 120

A command still running after ``--timeout`` seconds is stopped and reported as
such.  Times are wall-clock on a possibly shared machine: run twice to see the
noise; the issue's bar is a minute per command, the charter's "seconds".
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def s1_self_traced(steps: int) -> str:
    return (
        "import math\nimport numpy as np\nimport tracegraph as tg\n\n"
        "with tg.Tracer() as tr:\n"
        "    y = tr.input('x', 0.3)\n"
        f"    for i in range({steps}):\n"
        "        w = tr.input(f'w{i}', 0.5 + 0.1 * math.sin(i))\n"
        "        b = tr.input(f'b{i}', 0.1 * math.cos(i))\n"
        "        y = np.tanh(y * w + b)\n"
        "    t = tr.finish(tg.name(y, 'y'))\n"
        "dy_dx = 0.0  # a claim, graded through the whole chain\n"
    )


def s1_as_written(steps: int) -> str:
    lines = ["import numpy as np", "x = 0.3"]
    for i in range(steps):
        lines.append(f"w{i} = {0.5 + 0.1 * math.sin(i):.6f}")
        lines.append(f"b{i} = {0.1 * math.cos(i):.6f}")
    lines.append("y = x")
    lines += [f"y = np.tanh(y * w{i} + b{i})" for i in range(steps)]
    lines.append("dy_dx = 0.0  # a claim, graded through the whole chain")
    return "\n".join(lines) + "\n"


def loop(steps: int) -> str:
    return (
        "import numpy as np\n"
        "x = 0.3\nw = 0.5\nb = 0.1\n"
        "y = x\n"
        f"for _ in range({steps}):\n"
        "    y = np.tanh(y * w + b)\n"
        "loss = y\n"
        "dloss_db = 1.0  # a claim, graded through the whole loop\n"
    )


FILES = {  # name → (source for a number of steps, steps per requested step)
    "S1 self-traced": (s1_self_traced, 1),
    "S1 as written": (s1_as_written, 1),
    "loop": (loop, 5),
}


def commands(folder: Path, have_dot: bool) -> dict[str, list[str]]:
    image = ["-o", str(folder / "out.svg")] if have_dot else ["-f", "dot", "-o",
                                                              str(folder / "out.dot")]
    return {
        "render": ["render", *image],
        "explain": ["explain"],
        "paths --from x": ["paths", "--from", "x"],
        "export": ["export", "-o", str(folder / "out.json")],
        "check": ["check"],
        "check --numeric": ["check", "--numeric"],
    }


def run(arguments: list[str], timeout: float
        ) -> tuple[float | None, float, int, int | None]:
    """Wall seconds (None: stopped at the timeout), CPU seconds of the process (user +
    system: what a quiet machine's wall time would be), bytes on stdout, exit code."""
    environment = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="120")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "tracegraph", *arguments], check=False,
                              capture_output=True, timeout=timeout, env=environment)
    except subprocess.TimeoutExpired:
        return None, math.nan, 0, None
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, len(done.stdout), done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20_000,
                        help="S1 steps (5 nodes each); the loop has 5× as many steps")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds after which a command is stopped")
    parser.add_argument("--only", default="", help="comma-separated file names to run "
                        f"({', '.join(FILES)})")
    args = parser.parse_args(argv)
    have_dot = shutil.which("dot") is not None
    chosen = [name for name in FILES
              if not args.only or name in [n.strip() for n in args.only.split(",")]]
    startup, startup_cpu, _, _ = run(["--version"], args.timeout)
    print(f"Python {sys.version.split()[0]}; Graphviz {'yes' if have_dot else 'no'}; "
          f"start-up (tracegraph --version) {startup:.2f} s wall, {startup_cpu:.2f} s CPU")
    print("per command: wall-clock seconds, CPU seconds (user + system of the process), "
          "exit code, output")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in chosen:
            source, factor = FILES[name]
            path = folder / (name.replace(" ", "_").replace("-", "_") + ".py")
            path.write_text(source(args.steps * factor), encoding="utf-8")
            print(f"\n{name}: {args.steps * factor:,} steps ({path.stat().st_size / 1e6:.1f} MB "
                  "of source)")
            for label, arguments in commands(folder, have_dot).items():
                took, cpu, size, code = run([arguments[0], str(path), *arguments[1:]],
                                            args.timeout)
                written = ""
                for out in ("out.json", "out.svg", "out.dot"):
                    target = folder / out
                    if target.exists():
                        written = f", wrote {target.stat().st_size / 1e6:.2f} MB"
                        target.unlink()
                shown = (f"> {args.timeout:.0f} s (stopped)" if took is None
                         else f"{took:6.1f} s wall {cpu:6.1f} s CPU")
                print(f"  {label:<16} {shown}  exit {code}, stdout "
                      f"{size / 1e3:,.1f} KB{written}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
