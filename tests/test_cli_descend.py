"""`tracegraph descend`: the final table, --history CSV, pictures, --compare and --lr sweeps."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import tracegraph as tg
from tracegraph.cli import app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ROSENBROCK = EXAMPLES / "rosenbrock.py"


def run(*args):
    return CliRunner().invoke(app, ["descend", *(str(a) for a in args)])


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def test_final_table_and_history_csv(tmp_path):
    history = tmp_path / "run.csv"
    result = run(ROSENBROCK, "--optimizer", "adam", "--lr", "0.01", "--steps", "300",
                 "--history", history)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "start loss" in out and "final loss" in out and "max steps" in out
    rows = list(csv.reader(history.open(encoding="utf-8")))
    assert rows[0] == ["step", "loss", "grad_norm", "x", "y"]
    assert len(rows) == 302  # header + steps + 1
    library = tg.descend(lambda x, y: (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2,
                         x=-1.0, y=1.0, optimizer="adam", lr=0.01, steps=300)
    assert [float(v) for v in rows[-1][1:]] == [library.losses[-1], library.grad_norms[-1],
                                                library.final["x"], library.final["y"]]


def test_array_parameters_get_one_csv_column_per_element(tmp_path):
    source = write(tmp_path, "quad.py", """
        import numpy as np
        W = np.array([[1.0, 2.0], [3.0, 4.0]])
        loss = np.sum(W * W)
    """)
    history = tmp_path / "quad.csv"
    result = run(source, "--steps", "3", "--lr", "0.25", "--history", history)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(history.open(encoding="utf-8")))
    assert rows[0] == ["step", "loss", "grad_norm", "W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]"]
    assert [float(v) for v in rows[1][3:]] == [1.0, 2.0, 3.0, 4.0]  # step 0: the start
    assert [float(v) for v in rows[2][3:]] == [0.5, 1.0, 1.5, 2.0]  # W − 0.25·2W


def test_seed_002_update_rule_with_its_table_of_steps():
    result = run(EXAMPLES / "linear_regression.py", "--wrt", "param", "--lr", "0.001",
                 "--steps", "5", "--every", "1")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("│ ")]
    # param_new = param_old − 0.001 · dLoss/dparam, dLoss/dparam = −2·(gold − pred)·x2
    param, expected = -0.2, []
    for _ in range(6):
        expected.append(param)
        pred = 0.5 * 1.0 + param * 2.0 + 0.1 * 3.0
        param = param - 0.001 * (-2 * (3.0 - pred) * 2.0)
    shown = [float(line.split("│")[4]) for line in lines[:6]]
    np.testing.assert_allclose(shown, expected, rtol=1e-5)
    assert "param = -0.148825" in result.stdout


@pytest.mark.parametrize("suffix", [".png", ".gif", ".html"])
def test_pictures(tmp_path, suffix):
    out = tmp_path / f"run{suffix}"
    result = run(ROSENBROCK, "--optimizer", "adam", "--lr", "0.05", "--steps", "100", "-o", out)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout and out.stat().st_size > 1000


def test_learning_rate_sweep_side_by_side(tmp_path):
    out = tmp_path / "sweep.png"
    result = run(ROSENBROCK, "--lr", "0.0001,0.001,0.01", "--steps", "400", "-o", out)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = {line.split("│")[1].strip(): line for line in lines if line.startswith("│ ")}
    assert set(rows) == {"0.0001", "0.001", "0.01"}
    assert "max steps" in rows["0.0001"] and "diverged at step" in rows["0.01"]
    assert out.exists()


def test_compare_prints_one_row_per_method(tmp_path):
    out = tmp_path / "compare.png"
    result = run(ROSENBROCK, "--compare", "gd,momentum,armijo,nelder-mead", "--lr", "0.001",
                 "--budget", "500", "-o", out)
    assert result.exit_code == 0, result.output
    table = result.stdout.splitlines()
    header = next(i for i, line in enumerate(table) if line.startswith("method"))
    methods = [line.split()[0] for line in table[header + 1:header + 5]]
    assert methods == ["gd", "momentum", "armijo", "nelder-mead"]
    assert "evaluations to 99 %" in table[header] and out.exists()


@pytest.mark.parametrize("args, message", [
    (["--lr", "fast"], "'fast' is not a number"),
    (["--lr", "-1"], "must be positive"),
    (["--optimizer", "sgd"], "unknown optimiser"),
    (["--compare", "gd,bfgs"], "unknown method 'bfgs'"),
    (["--lr", "0.1,0.2", "--history", "h.csv"], "--history writes one run"),
    (["--lr", "0.1,0.2", "-o", "a.gif"], "several runs are drawn as one picture"),
    (["-o", "run.mp4"], "cannot tell what to write"),
    (["--wrt", "z"], "'z' is not an input"),
])
def test_usage_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run(ROSENBROCK, *args)
    assert result.exit_code == 2, result.output
    # Once the file is traced, stderr starts with the header naming the output.
    lines = result.stderr.splitlines()
    assert lines[0].startswith(("error: ", "output: ")), result.stderr
    assert any(line.startswith("error: ") for line in lines) and message in result.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_history_errors_name_the_history_flag(tmp_path):
    source = write(tmp_path, "bowl.py", "x = 1.0\nloss = x * x\n")
    itself = run(source, "--history", source)
    assert itself.exit_code == 5
    assert f"--history {source}: this is the expression file itself" in itself.stderr
    folder = run(source, "--history", tmp_path)
    assert folder.exit_code == 5 and f"--history {tmp_path}: this is a folder" in folder.stderr
    assert f"e.g. --history {tmp_path / 'bowl.csv'}" in folder.stderr
    assert "does not write into Python files" in run(source, "--history", tmp_path / "h.py").stderr
    assert [p.name for p in tmp_path.iterdir()] == ["bowl.py"]


def test_a_file_whose_branch_flips_is_traced_again(tmp_path):
    source = write(tmp_path, "kink.py", """
        x = 2.0
        if x > 0:
            loss = (x + 1.0) ** 2
        else:
            loss = 3.0 * (x + 1.0) ** 2 + 2.0 * x
    """)
    history = tmp_path / "kink.csv"
    result = run(source, "--lr", "0.2", "--steps", "30", "--history", history)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(history.open(encoding="utf-8")))[1:]
    library = tg.descend(lambda x: (x + 1.0) ** 2 if x > 0 else 3.0 * (x + 1.0) ** 2 + 2.0 * x,
                         x=2.0, lr=0.2, steps=30)
    assert [float(r[1]) for r in rows] == library.losses.tolist()
    assert min(library.params["x"]) < 0 < library.params["x"][0]


def test_a_file_traced_again_prints_once_as_python_does(tmp_path):
    source = write(tmp_path, "kink.py", """
        x = 2.0
        print("starting at", x)
        loss = (x + 1.0) ** 2 if x > 0 else 3.0 * (x + 1.0) ** 2
    """)
    result = run(source, "--lr", "0.4", "--steps", "6")
    assert result.exit_code == 0, result.output
    assert tg.descend(lambda x: (x + 1.0) ** 2 if x > 0 else 3.0 * (x + 1.0) ** 2,
                      x=2.0, lr=0.4, steps=6).retraces > 1  # the branch flips
    assert result.stderr.count("starting at") == 1


def test_compare_refuses_the_options_of_a_single_run(tmp_path):
    path = write(tmp_path, "bowl.py", "x = 3.0\nf = x ** 2\n")
    result = run(path, "--compare", "gd,adam", "--optimizer", "adam", "--steps", "200")
    assert result.exit_code == 2
    assert "--optimizer, --steps do not apply with --compare" in result.stderr
    assert "--budget N" in result.stderr
    assert run(path, "--compare", "gd,adam", "--budget", "20").exit_code == 0


def test_the_optimising_note_names_only_what_is_optimised(tmp_path):
    path = write(tmp_path, "ints.py", """
        import numpy as np
        W = np.array([1.0, -0.5])
        b = 0.25
        n = 3
        loss = np.sum((W * n + b) ** 2)
    """)
    done = run(path, "--steps", "3")
    assert done.exit_code == 0, done.output
    assert "optimising W, b (every float input" in done.stderr
