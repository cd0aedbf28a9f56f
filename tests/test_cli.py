"""The `tracegraph` command through typer's CliRunner: every command, every error a new user
makes (message and exit code), and that only the named output file is ever written."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import shutil
import textwrap
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from tracegraph.cli import COMMAND_MODULES, app
from tracegraph.cli.paths import DEFAULT_LIMIT as DEFAULT_PATHS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NEURON = EXAMPLES / "neuron.py"
S = 1 / (1 + math.exp(-0.3))  # the neuron's S = σ(w1·x1 + w2·x2 + w3·x3) = σ(0.3)


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def files_in(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def failed(result, code: int) -> str:
    """The error text, after checking the exit code and that no traceback leaked.

    Once the file is traced, stderr starts with the one-line header naming the output
    (issue 10); the error is the paragraph after it.
    """
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    header, _, error = result.stderr.rpartition("error: ")
    assert header == "" or (header.startswith("output: ") and header.count("\n") == 1), header
    return "error: " + error


# --------------------------------------------------------------------------- the app


def test_version_and_help():
    assert run("--version").stdout == "tracegraph 0.2.0\n"
    result = run()
    assert "render" in result.output and "explain" in result.output
    for module in COMMAND_MODULES:
        help_text = run(module, "--help")
        assert help_text.exit_code == 0
        assert "Examples" in help_text.stdout and f"tracegraph {module}" in help_text.stdout


def test_each_command_has_a_one_line_summary():
    # `tracegraph --help` lists each command by its docstring's first paragraph with the
    # source's line breaks kept: a two-line summary came out broken mid-sentence.
    import importlib

    for name in COMMAND_MODULES:
        module = importlib.import_module(f"tracegraph.cli.{name}")
        summary = module.command.__doc__.strip().split("\n\n")[0]
        assert "\n" not in summary, (name, summary)


# --------------------------------------------------------------------------- explain


def test_explain_prints_the_lecture_table():
    result = run("explain", NEURON)
    assert result.exit_code == 0, result.output
    out = result.stdout
    # The table of derivatives of seed 002, with names and numbers filled in.
    assert "∂A/∂w1 = x1 = 1" in out and "∂A/∂x1 = w1 = 0.5" in out      # d(w·a)/da = w
    assert "∂G/∂A = 1" in out and "∂G/∂C = 1" in out                      # d(a+b)/da = 1
    assert f"∂S/∂G = S·(1 − S) = {S * (1 - S):.4f}" in out               # dσ/da = σ(1 − σ)
    assert f"∂Loss/∂(gold − S) = 2·(gold − S) = {2 * (1 - S):.4f}" in out  # d(a²)/da = 2a
    rows = [line for line in out.splitlines() if line.startswith("│ ") and line[2] != " "]
    assert [row.split("│")[1].strip() for row in rows] == [
        "x1", "x2", "x3", "w1", "w2", "w3", "gold", "A", "B", "C", "G", "S", "gold − S", "Loss"]
    dloss_dg = -2 * (1 - S) * S * (1 - S)
    g_row = next(row for row in rows if row.split("│")[1].strip() == "G")
    assert g_row.split("│")[5].strip() == f"{dloss_dg:.4g}"


def test_explain_markdown_is_a_table_to_paste():
    result = run("explain", NEURON, "--markdown", "--precision", "3")
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "| node | computes | value | local derivatives | ∂Loss/∂node |"
    assert lines[1] == "|---|---|---|---|---|"
    assert len(lines) == 2 + 14
    assert f"| S | σ(G) | {S:.3f} | ∂S/∂G = S·(1 − S) = {S * (1 - S):.3g} |" in result.stdout
    assert "| A | w1·x1 | 0.5 | ∂A/∂w1 = x1 = 1<br>∂A/∂x1 = w1 = 0.5 |" in result.stdout


def test_explain_markdown_keeps_names_that_look_like_html(tmp_path):
    # A node named "<b>" vanished into bold on GitHub, "&amp;" came out as "&".
    markdown_it = pytest.importorskip("markdown_it")  # rich's dependency, also MyST's parser
    script = write(tmp_path, "tags.py", """
        import tracegraph as tg
        x = 2.0
        y = tg.name(x * 3.0, "<b>h&amp;")
        loss = y - 1.0
    """)
    result = run("explain", script, "--markdown")
    assert result.exit_code == 0, result.output
    page = markdown_it.MarkdownIt("commonmark").enable("table").render(result.stdout)
    cells = re.findall(r"<td>(.*?)</td>", page)
    assert cells[5:7] == ["&lt;b&gt;h&amp;amp;", "x·3"], cells
    assert "<b>" not in page
    assert "&lt;b&gt;h&amp;amp; − 1" in page  # what the output computes, named the same way


def test_explain_wrt_keeps_the_nodes_between_the_input_and_the_output():
    result = run("explain", NEURON, "--wrt", "w1", "--markdown")
    nodes = [line.split(" | ")[0].strip("| ") for line in result.stdout.splitlines()[2:]]
    assert nodes == ["w1", "A", "G", "S", "gold − S", "Loss"]


def test_explain_set_changes_an_input():
    result = run("explain", NEURON, "--set", "w1=1.5", "--markdown")
    assert "| w1 | input | 1.5 |" in result.stdout
    assert "| A | w1·x1 | 1.5 |" in result.stdout


def test_explain_with_arrays_shows_formulas_and_shapes():
    result = run("explain", EXAMPLES / "mlp.py", "--markdown")
    assert result.exit_code == 0, result.output
    assert "∂logits/∂(h1 @ W2)" in result.stdout or "∂logits/∂" in result.stdout
    assert "| W1 | input | 3×5, ‖·‖ = " in result.stdout
    assert "(softmax(logits) − labels)/N (sends back 4×3, ‖·‖ = " in result.stdout


LOOP = "import numpy as np\nx = 0.3\ny = x\nfor _ in range(100):\n    y = np.tanh(y * 0.9 + 0.1)\n"


def test_explain_shows_the_first_and_last_rows_of_a_long_table(tmp_path):
    loop = write(tmp_path, "loop.py", LOOP)  # 301 rows: x, then 3 per step
    result = run("explain", loop, "--rows", "6", "--markdown")
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == [
        "| x", "| x·0.9", "| x·0.9 + 0.1", "| …", "| y₉₉·0.9", "| y₉₉·0.9 + 0.1", "| y₁₀₀"]
    assert "… 295 rows not shown (rows 4 to 298 of 301) …" in rows[3]
    assert ("note: showing 6 of 301 rows; --all prints every row, --rows N sets how many"
            in result.stderr)
    default = run("explain", loop, "--markdown").stdout.splitlines()[2:]
    assert len(default) == 60 + 1 and "… 241 rows not shown" in default[30]
    everything = run("explain", loop, "--all", "--markdown")
    assert len(everything.stdout.splitlines()) == 2 + 301 and "not shown" not in everything.output
    assert "note:" not in everything.stderr
    table = run("explain", loop, "--rows", "2")  # the rich table has the same summary row
    assert "… 299 rows not shown (rows 2 to 300 of 301) …" in table.stdout


# --------------------------------------------------------------------------- paths


def test_paths_multiplies_local_derivatives_and_sums_to_the_gradient():
    result = run("paths", NEURON, "--from", "x1")
    out = result.stdout
    assert result.exit_code == 0, result.output
    assert "1 chain-rule path from x1 to Loss:" in out
    assert "x1 → A → G → S → gold − S → Loss" in out
    expected = 0.5 * S * (1 - S) * -1 * 2 * (1 - S)
    assert f"sum over all paths = {expected:.4g}" in out
    assert f"∂Loss/∂x1 from the backward pass = {expected:.4g}  ✓ equal" in out


def test_paths_between_any_two_nodes_and_when_there_is_none():
    result = run("paths", NEURON, "--from", "w1", "--to", "S")
    assert f"∂S/∂w1 from the backward pass = {1.0 * S * (1 - S):.4g}  ✓ equal" in result.stdout
    result = run("paths", NEURON, "--from", "gold", "--to", "S")
    assert result.exit_code == 0
    assert "gold does not lead to S: no path, so ∂S/∂gold = 0." in result.stdout


def test_paths_counts_every_route_through_a_reused_value(tmp_path):
    # y = x·x: two paths (one per argument), each with local derivative x.
    result = run("paths", write(tmp_path, "sq.py", "x = 3.0\ny = x * x\n"), "--from", "x")
    assert "2 chain-rule paths from x to y:" in result.stdout
    assert "x → y (as argument 1)" in result.stdout and "x → y (as argument 2)" in result.stdout
    assert "sum over all paths = 6" in result.stdout


def test_paths_are_counted_and_the_strongest_listed(tmp_path):
    # Squaring 11 times: 2^11 = 2048 paths from x to the output, all of share 2^11·x^2047.
    source = "x = 1.0\ny = x\n" + "y = y * y\n" * 11
    result = run("paths", write(tmp_path, "many.py", source), "--from", "x", "--limit", "5")
    assert result.exit_code == 0, result.output
    # Versions of y are told apart (issue 10): y₁ … y₁₁.
    assert ("2,048 chain-rule paths from x to y₁₁; the 5 with the largest shares (|product of "
            "local derivatives|), largest first (--limit K lists more):") in result.stdout
    assert "x → y₁ (as argument 1) → y₂ (as argument 1) → y₃ (as argument 1)" in result.stdout
    assert result.stdout.count("product = ") == 5
    assert "the 5 paths shown add up to 5; the other 2,043 to 2043" in result.stdout
    assert "sum over all 2,048 paths = 2048 (by dynamic programming" in result.stdout
    assert "∂y₁₁/∂x from the backward pass = 2048  ✓ equal" in result.stdout


def test_paths_lists_the_largest_shares_first(tmp_path):
    source = "x = 2.0\na = x * 0.5\nb = x * 3.0\nc = x * -4.0\ny = a + b + c\n"
    result = run("paths", write(tmp_path, "three.py", source), "--from", "x", "--limit", "2")
    assert result.exit_code == 0, result.output
    routes = [line.split(". ", 1)[1] for line in result.stdout.splitlines()
              if line.strip()[:2] in ("1.", "2.")]
    assert routes == ["x → c → y", "x → b → y"]  # |−4| > |3| > |0.5|
    assert "the 2 paths shown add up to -1; the other 1 to 0.5" in result.stdout


def test_paths_never_enumerates_exponentially_many(tmp_path):
    # 2^60 paths: counted, summed and ranked by dynamic programming, at once.
    source = "x = 1.0\ny = x\nfor _ in range(60):\n    y = y * y\n"
    result = run("paths", write(tmp_path, "huge.py", source), "--from", "x")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{2 ** 60:,} chain-rule paths from x to y")
    assert result.stdout.count("product of the 60 local derivatives = ") == DEFAULT_PATHS
    assert f"sum over all {2 ** 60:,} paths = {float(2 ** 60):.4g}" in result.stdout
    assert "✓ equal" in result.stdout


def test_a_long_path_is_shown_by_its_ends(tmp_path):
    source = "x = 0.3\ny = x\nfor _ in range(100):\n    y = np.tanh(y * 0.9 + 0.1)\n"
    result = run("paths", write(tmp_path, "long.py", "import numpy as np\n" + source),
                 "--from", "x")
    assert result.exit_code == 0, result.output
    assert "1 chain-rule path from x to y" in result.stdout
    assert "… 288 more local derivatives …" in result.stdout  # 300 edges, 12 shown
    assert "… 289 more nodes …" in result.stdout
    assert "product of the 300 local derivatives = " in result.stdout
    assert "✓ equal" in result.stdout
    assert len(result.stdout.splitlines()) < 30


def test_paths_through_arrays_list_formulas_and_the_gradient():
    result = run("paths", EXAMPLES / "mlp.py", "--from", "W1")
    assert result.exit_code == 0, result.output
    assert "1 chain-rule path from W1 to loss:" in result.stdout
    assert "∂(X @ W1)/∂W1 = Xᵀ @ ḡ" in result.stdout
    assert "(arrays on this path: its share is a product of Jacobians, not a number)" \
        in result.stdout
    assert "∂loss/∂W1 from the backward pass = 3×5, ‖·‖ = " in result.stdout
    assert "sum over" not in result.stdout


def test_paths_errors():
    error = failed(run("paths", NEURON, "--from", "Q"), 2)
    assert "--from Q: there is no node 'Q'" in error and "n13 (gold − S)" in error
    error = failed(run("paths", NEURON, "--from", "w1", "--to", "Lss"), 2)
    assert "did you mean Loss?" in error
    usage = run("paths", NEURON)
    assert usage.exit_code == 2 and "Missing option '--from'" in usage.output


# --------------------------------------------------------------------------- export


def test_export_summarises_big_arrays_unless_asked(tmp_path):
    big = write(tmp_path, "big.py", "import numpy as np\nx = np.linspace(0.0, 1.0, 5000)\n"
                "loss = np.sum(x ** 2)\n")
    result = run("export", big)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    x = next(node for node in data["nodes"] if node["id"] == "x")
    assert x["value"] == {"summary": "array summary", "shape": [5000], "dtype": "float64",
                          "size": 5000, "nonfinite": 0, "min": 0.0, "max": 1.0,
                          "mean": pytest.approx(0.5), "norm": pytest.approx(math.sqrt(
                              sum((i / 4999) ** 2 for i in range(5000)))),
                          "first": [pytest.approx(i / 4999) for i in range(5)]}
    assert x["grad"]["max"] == pytest.approx(2.0)
    assert data["graph"]["max_elements"] == 1000 and data["graph"]["summarised_arrays"] == 6  # 2 nodes × (value, grad), 2 edges
    assert len(result.stdout) < 10_000
    assert "note: 6 arrays over 1,000 elements written as summaries" in result.stderr
    assert "--all writes every element" in result.stderr
    everything = json.loads(run("export", big, "--all").stdout)
    assert next(n for n in everything["nodes"] if n["id"] == "x")["value"][4999] == 1.0
    assert "max_elements" not in everything["graph"]
    raised = json.loads(run("export", big, "--max-elements", "5000").stdout)
    assert raised["graph"]["summarised_arrays"] == 0
    scalars = run("export", NEURON, "--max-elements", "0")  # numbers are never summarised
    assert json.loads(scalars.stdout)["graph"]["summarised_arrays"] == 0
    assert "note:" not in scalars.stderr


def test_export_json_to_stdout_is_the_annotated_graph():
    result = run("export", NEURON)
    data = json.loads(result.stdout)
    nodes = {node["id"]: node for node in data["nodes"]}
    assert data["graph"]["output"] == "Loss"
    assert nodes["S"]["value"] == pytest.approx(S)
    assert nodes["G"]["grad"] == pytest.approx(-2 * (1 - S) * S * (1 - S))
    edge = next(e for e in data["edges"] if e["source"] == "G" and e["target"] == "S")
    assert edge["formula"] == "S·(1 − S)" and edge["local"] == pytest.approx(S * (1 - S))


def test_export_graphml_reads_back_with_networkx(tmp_path):
    out = tmp_path / "mlp.graphml"
    result = run("export", EXAMPLES / "mlp.py", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out} (graphml: ")
    graph = nx.read_graphml(io.BytesIO(out.read_bytes()))
    assert graph.nodes["W1"]["value"].startswith("array[3×5], norm ")
    assert graph.nodes["W1"]["shape"] == "3, 5"
    assert float(graph.nodes["loss"]["grad"]) == 1.0
    assert files_in(tmp_path) == ["mlp.graphml"]


def test_export_dot_and_format_errors(tmp_path):
    result = run("export", NEURON, "--format", "dot")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("digraph")
    error = failed(run("export", NEURON, "-o", tmp_path / "out.xml"), 2)
    assert "cannot tell the format from '.xml'" in error
    error = failed(run("export", NEURON, "-o", tmp_path / "g.json", "-f", "dot"), 2)
    assert "looks like json, but --format is dot" in error
    assert files_in(tmp_path) == []


def test_dash_is_stdout_for_export_and_refused_by_render(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a file named "-" would land here
    result = run("export", NEURON, "-o", "-", "--format", "dot")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("digraph")
    error = failed(run("render", NEURON, "-o", "-", "--format", "dot"), 2)
    assert "cannot write the diagram to stdout" in error and "tracegraph export" in error
    assert files_in(tmp_path) == []


# --------------------------------------------------------------------------- rules


def test_rules_lists_the_derivative_table():
    result = run("rules")
    assert result.exit_code == 0
    assert "sigmoid" in result.stdout and "∂out/∂x = out·(1 − out)" in result.stdout
    markdown = run("rules", "multiply", "--markdown").stdout.splitlines()
    assert markdown[2] == ("| multiply | arithmetic | np.multiply, np.multiply.outer | ∂out/∂x = y<br>∂out/∂y = x "
                           "| x · y |")
    assert len(markdown) == 3
    error = failed(run("rules", "spacing"), 2)
    assert "no rule matches 'spacing'" in error


# --------------------------------------------------------------------------- render


def test_render_dot_writes_only_the_named_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("render", NEURON, "-f", "dot")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote neuron.dot: 14 nodes, Loss = {(1 - S) ** 2:.4f}")
    assert f"∂Loss/∂w1 = {-2 * (1 - S) * S * (1 - S) * 1.0:.4f}" in result.stdout
    assert files_in(tmp_path) == ["neuron.dot"]
    dot = (tmp_path / "neuron.dot").read_text()
    assert dot.startswith("digraph") and "G = A + B + C" in dot


def test_render_json_and_its_options(tmp_path):
    out = tmp_path / "path.json"
    result = run("render", NEURON, "-o", out, "--path", "w1", "--wrt", "w1")
    assert result.exit_code == 0, result.output
    nodes = {node["id"] for node in json.loads(out.read_text())["nodes"]}
    assert nodes == {"w1", "A", "G", "S", "n13", "Loss"}
    gradient_lines = [line for line in result.stdout.splitlines() if line.startswith("  ∂")]
    assert gradient_lines == [f"  ∂Loss/∂w1 = {-2 * (1 - S) * S * (1 - S):.4g}"]


def test_render_notes_use_the_command_line_flags(tmp_path):
    result = run("render", EXAMPLES / "mlp.py", "-o", tmp_path / "mlp.dot", "--max-nodes", "5")
    assert result.exit_code == 0, result.output
    assert "note: " in result.stderr and "--max-nodes" in result.stderr
    assert "max_nodes=" not in result.stderr  # the library's spelling is translated


@pytest.mark.needs_dot
@pytest.mark.parametrize("suffix", ["svg", "png", "pdf"])
def test_render_images(tmp_path, suffix):
    out = tmp_path / f"neuron.{suffix}"
    result = run("render", NEURON, "-o", out)
    assert result.exit_code == 0, result.output
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}[suffix]
    assert out.read_bytes().startswith(magic)
    assert files_in(tmp_path) == [f"neuron.{suffix}"]


@pytest.mark.needs_dot
def test_render_default_svg_names_every_lecture_node(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("render", NEURON)
    assert result.exit_code == 0, result.output
    svg = (tmp_path / "neuron.svg").read_text()
    for name in ("A = w1·x1", "G = A + B + C", "S = σ(G)", "Loss"):
        assert name in svg


def test_render_refuses_missing_folders_and_the_input_file(tmp_path):
    script = write(tmp_path, "n.py", NEURON.read_text())
    error = failed(run("render", script, "-o", tmp_path / "nowhere" / "n.svg"), 5)
    assert "the folder" in error and "does not exist" in error and "mkdir -p" in error
    error = failed(run("render", script, "-o", script, "-f", "dot"), 5)
    assert "the expression file itself" in error
    error = failed(run("render", script, "-o", tmp_path), 5)
    assert "this is a folder" in error and f"-o {tmp_path / 'n.svg'}" in error
    error = failed(run("render", script, "-o", tmp_path, "-f", "png"), 5)
    assert f"-o {tmp_path / 'n.png'}" in error  # the example name has the format asked for
    assert files_in(tmp_path) == ["n.py"]
    assert script.read_text() == NEURON.read_text()


def test_render_and_export_never_write_into_a_python_file(tmp_path):
    # `-o helper.py -f dot` once replaced helper.py with DOT source: a typo cost a file.
    script = write(tmp_path, "n.py", NEURON.read_text())
    helper = write(tmp_path, "helper.py", "SCALE = 2.0\n")
    for command in ("render", "export"):
        error = failed(run(command, script, "-o", helper, "-f", "dot"), 5)
        assert f"-o {helper}: tracegraph does not write into Python files" in error
    assert helper.read_text() == "SCALE = 2.0\n"
    assert files_in(tmp_path) == ["helper.py", "n.py"]


def test_render_writes_where_it_was_asked_when_the_file_changes_folder(tmp_path, monkeypatch):
    # The output followed the file's os.chdir: `-o g.dot` landed in another folder.
    (tmp_path / "elsewhere").mkdir()
    write(tmp_path, "moves.py", """
        import os
        os.chdir("elsewhere")
        x = 2.0
        y = x * x
    """)
    monkeypatch.chdir(tmp_path)
    result = run("render", "moves.py", "-o", "g.dot")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert files_in(tmp_path / "elsewhere") == []


def test_render_format_errors(tmp_path):
    assert "cannot tell the format from the extension '.jpg'" in failed(
        run("render", NEURON, "-o", tmp_path / "x.jpg"), 2)
    assert "looks like svg, but --format is png" in failed(
        run("render", NEURON, "-o", tmp_path / "x.svg", "-f", "png"), 2)
    assert "a name with no extension" in failed(run("render", NEURON, "-o", tmp_path / "x"), 2)
    assert files_in(tmp_path) == []


def test_render_without_graphviz_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert shutil.which("dot") is None
    error = failed(run("render", NEURON, "-o", tmp_path / "n.svg"), 5)
    assert "needs Graphviz's `dot` program" in error and "apt-get install graphviz" in error
    assert files_in(tmp_path) == []
    result = run("render", NEURON, "-o", tmp_path / "n.dot")
    assert result.exit_code == 0 and files_in(tmp_path) == ["n.dot"]


def test_render_a_non_scalar_output(tmp_path):
    script = write(tmp_path, "v.py", """
        import numpy as np
        x = np.array([1.0, 2.0])
        loss = np.sum(x * x)
        probs = x / np.sum(x)
    """)
    error = failed(run("render", script, "-o", tmp_path / "v.dot"), 4)
    assert "'probs' has shape (2,)" in error and "--output NAME" in error
    assert "loss (line 4, scalar)" in error
    result = run("render", script, "-o", tmp_path / "v.dot", "--show", "values")
    assert result.exit_code == 0, result.output
    assert run("render", script, "-o", tmp_path / "l.dot", "--output", "loss").exit_code == 0


# --------------------------------------------------------------------------- errors


def test_file_errors(tmp_path):
    assert "did you mean" in failed(run("explain", EXAMPLES / "nueron.py"), 2)
    error = failed(run("explain", write(tmp_path, "notes.txt", "x = 1\n")), 2)
    assert "is not a Python file (.py)" in error
    error = failed(run("explain", write(tmp_path, "bad.py", "x = 1.0\ny = (x +\n")), 2)
    assert "bad.py:2:5: SyntaxError: '(' was never closed" in error and "    y = (x +" in error


def test_an_error_in_the_users_code(tmp_path):
    script = write(tmp_path, "raise.py", """
        x = 1.0

        def helper(a):
            return a / zero

        y = helper(x)
    """)
    error = failed(run("explain", script), 3)
    assert "raised NameError: name 'zero' is not defined at line 5" in error
    assert "raise.py:7\n    y = helper(x)" in error
    assert "--debug" in error
    debug = run("explain", script, "--debug")
    assert debug.exit_code == 3 and "Traceback (most recent call last)" in debug.stderr


def test_tracing_errors(tmp_path):
    error = failed(run("explain", write(tmp_path, "u.py", "import numpy as np\nx = 8.0\n"
                                                         "y = np.spacing(x)\n")), 4)
    assert "np.spacing is not supported" in error and "u.py:3: y = np.spacing(x)" in error
    assert "@tracegraph.primitive" in error
    error = failed(run("explain", write(tmp_path, "e.py", "import numpy as np\n")), 4)
    assert "no traced value found" in error and "docs/expr-files.md" in error


def test_option_errors():
    assert "'w4' is not an input" in failed(run("explain", NEURON, "--set", "w4=1"), 2)
    assert "is not NAME=VALUE" in failed(run("explain", NEURON, "--set", "w1"), 2)
    assert "did you mean Loss?" in failed(run("explain", NEURON, "--output", "Lss"), 2)
    error = failed(run("explain", NEURON, "--wrt", "w9"), 2)
    assert "'w9' is not an input" in error and "x1, x2, x3, w1" in error


def test_errors_name_the_library_options_as_the_commands_flags(tmp_path):
    vector = write(tmp_path, "w.py", "import numpy as np\nw = np.ones(3)\ny = np.sum(w * w)\n")
    error = failed(run("explain", vector, "--set", "w=2.0"), 2)
    assert "--set w: w is an array of shape 3 in the file" in error
    assert "e.g. --set w=[0.0,0.0,0.0]" in error and "override" not in error
    error = failed(run("explain", NEURON, "--set", "w4=1"), 2)
    assert error.startswith("error: --set w4: 'w4' is not an input")
    assert "--output Lss: no traced value named 'Lss'" in failed(
        run("explain", NEURON, "--output", "Lss"), 2)
    functions = write(tmp_path, "f.py", "def f(a): return a\ndef g(a): return a\n"
                                        "inputs = {'a': 1.0}\n")
    assert "pass --function f" in failed(run("explain", functions), 2)


def test_the_users_prints_do_not_mix_with_the_data(tmp_path):
    script = write(tmp_path, "p.py", "x = 2.0\nprint('hello from the file')\ny = x * x\n")
    result = run("export", script)
    assert json.loads(result.stdout)["graph"]["output"] == "y"
    assert "hello from the file" in result.stderr


def test_a_bug_in_tracegraph_is_reported_as_one(monkeypatch):
    from tracegraph.cli import explain

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(explain, "chain_rule_rows", broken)
    error = failed(run("explain", NEURON), 70)
    assert "tracegraph failed unexpectedly: RuntimeError: boom" in error
    assert "this is a bug in tracegraph" in error


def test_rules_lists_the_rules_a_file_registers(tmp_path):
    script = write(tmp_path, "cube.py", """
        import numpy as np
        import tracegraph as tg

        @tg.primitive(grads={"x": (lambda g, out, x: g / (3.0 * out ** 2), "1/(3·{out:p}²)")},
                      display="∛{x:p}", name="cli_test_cbrt",
                      replace=True)  # loaded twice in this process
        def cbrt(x):
            return np.cbrt(x)

        x = 8.0
        y = cbrt(x) * 2.0
    """)
    try:
        assert "no rule matches" in failed(run("rules", "cli_test_cbrt"), 2)
        result = run("rules", "cli_test_cbrt", "--file", script, "--markdown")
        assert result.exit_code == 0, result.output
        assert "| cli_test_cbrt | user | — | ∂out/∂x = 1/(3·out²) |" in result.stdout
        explained = run("explain", script, "--markdown").stdout
        assert "| y | (∛x)·2 | 4 | ∂y/∂(∛x) = 2 | 1 |" in explained
    finally:
        import tracegraph as tg

        tg.unregister("cli_test_cbrt")


def test_warnings_name_the_node_or_the_files_line(tmp_path):
    script = write(tmp_path, "w.py", """
        import warnings
        import numpy as np
        x = -1.0
        warnings.warn("check the data")
        y = np.log(x) * 2.0
    """)
    result = run("explain", script)
    assert result.exit_code == 0, result.output
    warnings_shown = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings_shown[0] == f"warning: UserWarning: check the data (at {script}:5)"
    assert warnings_shown[1].startswith("warning: NaN in the forward value of node")
    assert len(warnings_shown) == 2  # numpy's own "invalid value in log" is not repeated


def test_paths_from_a_node_to_itself():
    result = run("paths", NEURON, "--from", "S", "--to", "S")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("∂S/∂S = 1: a node's derivative with respect to itself")


# --------------------------------------------------------------------------- progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stdin_is_terminal", [True, False])
def test_no_spinner_while_the_file_may_read_standard_input(tmp_path, monkeypatch,
                                                          stdin_is_terminal):
    # The spinner drew over an input() prompt, so the file looked hung.
    from rich.console import Console

    from tracegraph.cli import _common

    spinners: list[str] = []
    screen = io.StringIO()
    monkeypatch.setattr(_common, "stderr_console",
                        lambda: Console(file=screen, force_terminal=True))
    monkeypatch.setattr(Console, "status",
                        lambda self, message, **_: spinners.append(str(message))
                        or contextlib.nullcontext())
    monkeypatch.setattr("sys.stdin", _Terminal("3\n") if stdin_is_terminal else io.StringIO("3\n"))
    path = write(tmp_path, "ask.py", "x = float(input('x? '))\ny = x * x\n")
    result = _common.load(path)
    assert result.trace.value == 9.0
    tracing = [f"Tracing {path}"] if not stdin_is_terminal else []
    assert spinners == tracing + [f"Building the graph of {path}"]


def test_render_lists_at_most_ten_gradients(tmp_path):
    source = "".join(f"w{i} = {i}.5\n" for i in range(15)) + "loss = " + \
        " + ".join(f"w{i} * w{i}" for i in range(15)) + "\n"
    result = run("render", write(tmp_path, "many.py", source), "-f", "dot", "-o",
                 tmp_path / "many.dot")
    assert result.exit_code == 0, result.output
    listed = [line for line in result.stdout.splitlines() if line.startswith("  ∂loss/∂")]
    assert listed[0] == "  ∂loss/∂w0 = 1" and len(listed) == 10
    assert "  … and 5 more gradients (tracegraph explain or export lists them all)" \
        in result.stdout


@pytest.mark.parametrize("command", [["check", "--numeric"], ["hessian"], ["explain"]])
def test_numpy_warnings_from_inside_the_rules_do_not_reach_the_user(tmp_path, command):
    path = tmp_path / "root.py"
    path.write_text("import numpy as np\nx = np.array([0.0, 1.0])\ny = np.sum(np.sqrt(x) * 2)\n")
    result = CliRunner().invoke(app, [*command, str(path)])
    assert "RuntimeWarning" not in result.stderr and "tracegraph/" not in result.stderr
    assert "warning: inf in the gradient of node 'x'" in result.stderr


def test_paths_of_numbers_among_paths_through_arrays_show_their_product(tmp_path):
    path = write(tmp_path, "mixed.py", """
        a = 1.0
        b = 3.0
        vals = [a * 2, b - 1]
        s = sum(vals)
        n = min(vals)
        L = 6 * n + s
    """)
    result = run("paths", str(path), "--from", "a")
    assert result.exit_code == 0, result.output
    first, second = result.stdout.split("\n\n  2. ")[0], result.stdout.split("\n\n  2. ")[1]
    assert "a → a·2 → s → L" in first and "product = 2" in first
    assert "stack" in second and "product of Jacobians" in second


def test_warnings_python_hides_by_default_are_not_shown(tmp_path):
    (tmp_path / "data.txt").write_text("2.5\n")
    path = tmp_path / "reads.py"
    path.write_text("import pathlib, warnings\n"
                    "x = float(open(pathlib.Path(__file__).parent / 'data.txt').read())\n"
                    "warnings.warn('soon', PendingDeprecationWarning)\n"
                    "warnings.warn('look', UserWarning)\n"
                    "y = x * 2.0\n")
    done = CliRunner().invoke(app, ["explain", str(path)])
    assert done.exit_code == 0, done.output
    assert "ResourceWarning" not in done.stderr and "PendingDeprecation" not in done.stderr
    assert "UserWarning: look" in done.stderr  # as python reads.py shows it


def test_focus_and_path_together_are_refused_and_a_bad_path_is_a_usage_error(tmp_path):
    neuron = Path(__file__).resolve().parent.parent / "examples" / "neuron.py"
    out = tmp_path / "n.dot"
    both = CliRunner().invoke(app, ["render", str(neuron), "--focus", "S", "--path",
                                    "w1,Loss", "-f", "dot", "-o", str(out)])
    assert both.exit_code == 2 and not out.exists()
    assert "--focus S and --path w1,Loss cannot be combined" in both.stderr
    backwards = CliRunner().invoke(app, ["render", str(neuron), "--path", "Loss,w1", "-f",
                                         "dot", "-o", str(out)])
    assert backwards.exit_code == 2
    assert "error: --path Loss,w1: 'w1' does not depend on 'Loss'" in backwards.stderr


def test_paths_on_a_long_integrator_counts_in_powers_of_ten_not_thousands_of_digits(tmp_path):
    path = tmp_path / "spring.py"
    path.write_text("k = 4.0\nc = 0.3\nx = 1.0\nv = 0.0\ndt = 0.001\n"
                    "for step in range(10000):\n    a = -k * x - c * v\n"
                    "    v = v + a * dt\n    x = x + v * dt\n"
                    "energy = 0.5 * v ** 2 + 0.5 * k * x ** 2\n")
    done = CliRunner().invoke(app, ["paths", str(path), "--from", "k"])
    assert done.exit_code == 0, done.output
    first = done.stdout.splitlines()[0]
    assert first.startswith("≈") and "× 10^" in first and len(first) < 200
    assert "✓ equal" in done.stdout
