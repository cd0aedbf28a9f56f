"""Render benchmark (workload R1 of shared/bench/WORKLOADS.md).

Traces of about 100 / 1,000 / 10,000 / 100,000 nodes (S1 chains:
``y = tanh(y * w_i + b_i)`` with every ``w_i``, ``b_i`` an input, 5 graph
nodes per step) are drawn with the default node budget, and their full,
uncollapsed DOT is built too.  Reported separately: tracing, building the
networkx graph, building the DOT, Graphviz's ``dot -Tsvg`` layout, and the
sizes of the DOT and SVG text.  The full DOT is laid out only while that
takes less than ``--timeout`` seconds.

A micrograd-style diagram (one record per value with data and grad, one
small node per operation, as micrograd's ``draw_dot``) of a chain of
about 3,000 and 6,000 nodes is laid out first, to calibrate this machine
against the reference numbers in WORKLOADS.md (~1.6 s and ~8.7 s).

    python bench/render_bench.py                 # all sizes (about three minutes, mostly
                                                 # the full layouts that time out)
    python bench/render_bench.py --quick         # 100 and 1,000 nodes only
    python bench/render_bench.py --sizes 100,10000 --timeout 30
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import tracegraph as tg
from tracegraph.diagram import build_diagram

NODES_PER_STEP = 5  # w_i, b_i, multiply, add, tanh


def chain_trace(nodes: int) -> Any:
    """An S1 chain with about ``nodes`` graph nodes."""
    steps = max(1, (nodes - 1) // NODES_PER_STEP)
    with tg.Tracer() as tr:
        y = tr.input("x", 0.3)
        for i in range(steps):
            w = tr.input(f"w{i}", 0.5 + 0.1 * math.sin(i))
            b = tr.input(f"b{i}", 0.1 * math.cos(i))
            y = np.tanh(y * w + b)
        return tr.finish(y, name="y")


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``fn`` over ``repeats`` runs, and its last result."""
    samples, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def layout(dot_text: str, timeout: float) -> tuple[float | None, int | None]:
    """Seconds and SVG bytes of ``dot -Tsvg`` on ``dot_text`` (None: timed out)."""
    start = time.perf_counter()
    try:
        done = subprocess.run(["dot", "-Tsvg"], input=dot_text.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None, None
    return time.perf_counter() - start, len(done.stdout)


def micrograd_style_dot(values: int) -> str:
    """micrograd's draw_dot output for a tanh chain with ``values`` Value nodes."""
    lines = ["digraph { graph [rankdir=LR];"]
    previous = None
    for i in range(values):
        lines.append(f'  v{i} [label="{{ v{i} | data {0.5:.4f} | grad {0.1:.4f} }}", '
                     'shape=record];')
        if previous is not None:
            lines.append(f'  v{i}tanh [label="tanh"];')
            lines.append(f"  v{i}tanh -> v{i};")
            lines.append(f"  {previous} -> v{i}tanh;")
        previous = f"v{i}"
    lines.append("}")
    return "\n".join(lines)


def seconds(value: float | None) -> str:
    return "timeout" if value is None else f"{value:.2f} s" if value >= 0.1 else \
        f"{value * 1000:.0f} ms"


def kilobytes(value: int | None) -> str:
    return "—" if value is None else f"{value / 1024:,.0f} KB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000,100000",
                        help="approximate graph sizes in nodes (comma-separated)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds after which a full (uncollapsed) layout is abandoned")
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 nodes only")
    args = parser.parse_args(argv)
    sizes = [100, 1000] if args.quick else [int(s) for s in args.sizes.split(",")]
    have_dot = shutil.which("dot") is not None
    version = subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr.strip() \
        if have_dot else "dot NOT installed: layouts skipped"
    print(f"tracegraph {tg.__version__}, Python {sys.version.split()[0]}, {version}")

    if have_dot:
        print("\nCalibration: micrograd-style draw_dot of a tanh chain, dot -Tsvg")
        for values in (1500, 3000):
            text = micrograd_style_dot(values)
            took, size = layout(text, args.timeout)
            print(f"  {2 * values - 1:>6,} nodes: {seconds(took):>8}  ({kilobytes(size)} SVG)")

    header = (f"{'nodes':>8} {'trace':>8} {'graph':>8} │ {'DOT':>8} {'boxes':>5} {'DOT size':>9} "
              f"{'layout':>8} {'SVG size':>9} {'total':>8} │ {'full DOT':>8} {'size':>9} "
              f"{'layout':>8}")
    print("\nR1: default budget (max_nodes=200) │ full diagram (max_nodes=None)")
    print(header)
    print("─" * len(header))
    for size in sizes:
        repeats = 3 if size <= 10_000 else 1
        trace_time, trace = timed(lambda: chain_trace(size), repeats)
        graph_time, graph = timed(lambda: tg.Trace.graph.func(trace), repeats)
        trace.__dict__["graph"] = graph  # as the cached property would
        dot_time, diagram = timed(lambda: build_diagram(trace), repeats)
        full_time, full = timed(lambda: build_diagram(trace, max_nodes=None), 1)
        took = svg_size = full_layout = None
        if have_dot:
            took, svg_size = layout(diagram.dot, args.timeout)
            full_layout, _ = layout(full.dot, args.timeout)
        total = trace_time + graph_time + dot_time + (took or 0.0)
        print(f"{graph.number_of_nodes():>8,} {seconds(trace_time):>8} {seconds(graph_time):>8} │ "
              f"{seconds(dot_time):>8} {diagram.node_count:>5} "
              f"{kilobytes(len(diagram.dot.encode())):>9} "
              f"{seconds(took) if have_dot else '—':>8} {kilobytes(svg_size):>9} "
              f"{seconds(total):>8} │ {seconds(full_time):>8} "
              f"{kilobytes(len(full.dot.encode())):>9} "
              f"{seconds(full_layout) if have_dot else '—':>8}")
    print("\ntotal = trace + graph + DOT + layout of the summarised diagram; full layouts "
          f"stop after {args.timeout:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
