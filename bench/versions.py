"""This checkout against an earlier commit of tracegraph, on the workloads of bench/run.py.

    python bench/versions.py 93e3029                  # against 0.1.0
    python bench/versions.py 93e3029 --only A1,'A2 n=34'
    python bench/versions.py 93e3029 --without input-copies,constant-fingerprints

The earlier commit's package is unpacked with ``git archive`` into a temporary
folder under another name.  Each version runs in a process of its own (two
tracegraphs in one process disturb each other's heap: one's copies change
where the other's temporaries land), and the two take turns sample by sample,
alternating which goes first, so both see the same drift of a shared machine.
BLAS runs one thread in each (see ``ONE_BLAS_THREAD``).
The report is the median time of each and the median ratio of the pairs taken
together, with the middle half of those ratios for the noise.

    python bench/versions.py 93e3029 --rounds 5     # more samples: 5 × bench/run.py's

Each sample is one run after ``gc.collect()``, as bench/run.py times; the
collection leaves the caches cold, which on a sub-millisecond workload (A2
n = 34) costs more than the work.  ``--warm`` times runs back to back instead,
as a loop that traces again and again (a descent, a benchmark) runs them.

``--without`` switches off, in this checkout only, the safeguards that 0.2.0
added for fidelity (issue 10), to show what the rest of the code costs:

- ``input-copies``: a traced input array is recorded as it is, not as a
  read-only copy (so ``w -= lr * g`` after the trace would change the record);
- ``constant-fingerprints``: large constant arrays are not fingerprinted
  (so a change in place after the trace goes unnoticed);
- ``constant-copies``: a small constant array (an index, a mask) is recorded as it
  is, not as a read-only copy;
- ``numpy-scalars``: ``np.tanh`` of a Python float returns ``math.tanh``'s
  Python float, as 0.1.0 did, instead of numpy's float64 (which can differ in
  the last bit, and after which Python computes with numpy's scalar arithmetic).

These switches exist to measure; they make tracegraph report values plain
Python would not, so nothing outside this script sets them.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PREVIOUS = "tracegraph_previous"
ONE_BLAS_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                          "MKL_NUM_THREADS")}
"""Each worker's BLAS runs one thread: OpenBLAS's threads spin for a while after a call,
and an idle worker's would take the cores from the one being timed."""
WARM_SAMPLE = 0.005
"""With ``--warm``, each sample runs a workload back to back for about this many seconds."""
SWITCHES = ("input-copies", "constant-fingerprints", "constant-copies", "numpy-scalars")


def _workloads(tg):
    """``{name: (run, repeats)}``: S1, A1 and A2 as bench/run.py builds them."""
    sys.path.insert(0, str(HERE))
    from run import a1_model, a2_stress

    def s1(n):
        inputs = {"x": 0.5, **{f"w{i}": 0.9 for i in range(n)}, **{f"b{i}": 0.01 for i in range(n)}}

        def chain(**kw):
            y = kw["x"]
            for i in range(n):
                y = np.tanh(y * kw[f"w{i}"] + kw[f"b{i}"])
            return y
        return lambda: tg.trace(chain, **inputs).grads

    def a1():
        rng = np.random.default_rng(1)
        sizes = [784, 256, 256, 10]
        p = {}
        for k in range(3):
            p[f"W{k + 1}"] = rng.normal(scale=1 / np.sqrt(sizes[k]), size=(sizes[k], sizes[k + 1]))
            p[f"b{k + 1}"] = np.zeros(sizes[k + 1])
        X = rng.normal(size=(256, 784))
        Y = np.eye(10)[rng.integers(0, 10, 256)]
        return lambda: tg.trace(a1_model, **p, X=tg.constant(X), Y=tg.constant(Y)).grads

    def a2(n):
        rng = np.random.default_rng(n)
        truth = rng.uniform(0, 10, size=(n, 2))
        D = np.sqrt(((truth[:, None, :] - truth[None, :, :]) ** 2).sum(-1))
        X = rng.normal(size=(n, 2))
        I, J = np.triu_indices(n, 1)
        consts = {"D": tg.constant(D), "I": tg.constant(I), "J": tg.constant(J)}
        return lambda: tg.trace(a2_stress, X=X, **consts).grads

    return {"S1 n=1000": (lambda: s1(1000), 21), "S1 n=10000": (lambda: s1(10_000), 7),
            "S1 n=100000": (lambda: s1(100_000), 3),
            "A1": (a1, 21), "A2 n=34": (lambda: a2(34), 301), "A2 n=1000": (lambda: a2(1000), 11)}


def _switch_off(names: list[str]) -> None:
    """Switch off this checkout's fidelity safeguards named in ``names`` (see the module doc)."""
    import math

    trace_module = sys.modules["tracegraph.trace"]
    record = sys.modules["tracegraph.core.record"]
    from tracegraph.core import REGISTRY
    if "input-copies" in names:
        trace_module.read_only_copy = lambda array: array
    if "constant-fingerprints" in names:
        record.fingerprint = lambda array: 0.0
    if "constant-copies" in names:
        record._snapshot = lambda array: array
    if "numpy-scalars" in names:
        tanh = np.tanh
        REGISTRY["tanh"].impl = lambda x: math.tanh(x) if type(x) is float else tanh(x)


def _worker(version: str, folder: str, without: list[str], warm: bool) -> None:
    """Answer each workload name read from stdin with the seconds one sample of it took."""
    if version == "previous":
        sys.path.insert(0, folder)
        tg = __import__(PREVIOUS)
    else:
        sys.path.insert(0, str(HERE.parent))
        import tracegraph as tg
        _switch_off(without)
    workloads = _workloads(tg)
    runs: dict[str, tuple] = {}
    for line in sys.stdin:
        name = line.strip()
        if name not in runs:
            run = workloads[name][0]()
            started = time.perf_counter()
            run()  # warm-up, and the size of a warm batch
            batch = max(1, round(WARM_SAMPLE / (time.perf_counter() - started))) if warm else 1
            runs[name] = (run, batch)
        run, batch = runs[name]
        gc.collect()
        started = time.perf_counter()
        for _ in range(batch):
            run()
        print((time.perf_counter() - started) / batch, flush=True)


class _Worker:
    """A worker process for one version, asked for one sample at a time."""

    def __init__(self, version: str, folder: str, without: str, warm: bool) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", version, "--folder", folder,
             "--without", without] + (["--warm"] if warm else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, **ONE_BLAS_THREAD})

    def sample(self, name: str) -> float:
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            sys.exit(f"versions.py: the worker stopped while running {name}")
        return float(answer)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def _unpack(revision: str, folder: Path) -> None:
    made = subprocess.run(["git", "-C", str(HERE.parent), "archive", revision, "tracegraph"],
                          capture_output=True)
    if made.returncode:
        sys.exit(f"versions.py: git cannot unpack tracegraph/ at {revision!r}: "
                 f"{made.stderr.decode().strip()}")
    archive = made.stdout
    with tempfile.TemporaryFile() as file:
        file.write(archive)
        file.seek(0)
        with tarfile.open(fileobj=file) as tar:
            tar.extractall(folder, filter="data")
    (folder / "tracegraph").rename(folder / PREVIOUS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", nargs="?", help="the earlier commit (e.g. 93e3029)")
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument("--rounds", type=int, default=3,
                        help="samples per workload, in multiples of bench/run.py's repeats")
    parser.add_argument("--without", default="", help=f"comma-separated, of {', '.join(SWITCHES)}")
    parser.add_argument("--warm", action="store_true",
                        help="time back-to-back runs (about 5 ms per sample), not one run after "
                             "gc.collect() as bench/run.py does")
    parser.add_argument("--worker", choices=["previous", "current"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    only = [name for name in args.only.split(",") if name]
    without = [name for name in args.without.split(",") if name]
    unknown = sorted(set(without) - set(SWITCHES))
    if unknown:
        parser.error(f"unknown --without {', '.join(unknown)}; choose from {', '.join(SWITCHES)}")
    if args.worker:
        _worker(args.worker, args.folder, without, args.warm)
        return
    if not args.revision:
        parser.error("name the earlier commit to compare with, e.g. 93e3029")
    with tempfile.TemporaryDirectory() as folder:
        _unpack(args.revision, Path(folder))
        workers = {version: _Worker(version, folder, args.without, args.warm)
                   for version in ("previous", "current")}
        print(f"current checkout vs {args.revision}, samples taken in turn"
              + (", back-to-back runs" if args.warm else ", one run after gc.collect()")
              + (f", current without {', '.join(without)}" if without else ""))
        try:
            for name, (_, repeats) in _workloads(None).items():
                if only and name not in only:
                    continue
                times: dict[str, list[float]] = {"previous": [], "current": []}
                for sample in range(repeats * args.rounds):
                    order = ("previous", "current") if sample % 2 == 0 else ("current", "previous")
                    for version in order:
                        times[version].append(workers[version].sample(name))
                ratios = sorted(c / p for p, c in zip(times["previous"], times["current"]))
                quarter = len(ratios) // 4
                print(f"  {name:<11} {statistics.median(times['previous']) * 1e3:9.2f} ms -> "
                      f"{statistics.median(times['current']) * 1e3:9.2f} ms   current/previous "
                      f"{statistics.median(ratios):.2f} (middle half of {len(ratios)} pairs: "
                      f"{ratios[quarter]:.2f}–{ratios[-1 - quarter]:.2f})", flush=True)
        finally:
            for worker in workers.values():
                worker.close()

if __name__ == "__main__":
    main()
