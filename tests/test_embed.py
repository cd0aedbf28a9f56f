"""What the Sphinx extension and the Markdown fence share (tracegraph.embed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tracegraph.embed.drawing
from tracegraph.cli.explain import chain_rule_rows
from tracegraph.embed import (
    OPTION_NAMES,
    Cache,
    DrawingError,
    EmbedOptionError,
    EmbedOptions,
    Source,
    chain_rule_table,
    draw,
    parse_options,
    recording_reads,
)
from tracegraph.errors import ScriptError
from tracegraph.script import load_script

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- options


def test_options_have_the_command_lines_names_and_meanings():
    opts = parse_options({"show": "flow", "rankdir": "TB", "precision": "3", "max-nodes": "0",
                          "focus": "S", "path": "w1, Loss", "expand": "layer1, layer2",
                          "no-legend": "", "no-constants": None, "title": "T",
                          "set": "w1=0.1, x=[[1, 2], [3, 4]]", "output": "G",
                          "function": "loss", "wrt": "w1,w2", "caption": "C", "alt": "A",
                          "table": "", "check": "check", "expect-wrong": ""})
    assert opts == EmbedOptions(
        show="flow", rankdir="TB", precision=3, max_nodes=0, focus="S", path=("w1", "Loss"),
        expand=("layer1", "layer2"), constants=False, legend=False, title="T",
        sets=(("w1", 0.1), ("x", [[1.0, 2.0], [3.0, 4.0]])), output="G", function="loss",
        wrt=("w1", "w2"), caption="C", alt="A", table=True, check=True, expect_wrong=True)
    assert opts.overrides()["x"].shape == (2, 2)
    assert parse_options({"max_nodes": "40"}).max_nodes == 40  # fence spelling
    assert set(OPTION_NAMES) >= {"show", "rankdir", "precision", "max-nodes", "focus", "path",
                                 "wrt", "set", "output", "caption", "alt", "table", "check",
                                 "expect-wrong"}


@pytest.mark.parametrize("given, message", [
    ({"show": "everything"}, "show: 'everything' is not a display mode"),
    ({"rankdir": "RL"}, "rankdir: 'RL' is not a direction"),
    ({"precision": "0"}, "precision: 0 significant digits is out of range"),
    ({"precision": "four"}, "precision: 'four' is not a whole number"),
    ({"max-nodes": "3"}, "max-nodes: 3: a diagram needs room for at least 5 boxes"),
    ({"path": ",Loss"}, "path: ',Loss' is not FROM[,TO]"),
    ({"focus": ""}, "focus needs a value"),
    ({"table": "yes"}, "table is a flag and takes no value"),
    ({"colour": "red"}, "unknown option: colour"),
    ({"set": "w1=abc"}, "set: w1=abc: the value must be a number or a list of numbers"),
    ({"set": "w1"}, "set: 'w1' is not NAME=VALUE"),
    ({"set": "x=[1, 2"}, "set: x=[1, 2: the value must be"),
    ({"set": "=3"}, "set: '=3' is not NAME=VALUE"),
])
def test_bad_options_say_what_is_wrong(given, message):
    with pytest.raises(EmbedOptionError) as caught:
        parse_options(given)
    assert caught.value.message.startswith(message)


def test_set_is_parsed_by_the_command_lines_parser():
    # the command line's own parser and words, reported as an option problem (a page
    # warning, never a crash of the docs build)
    for text, words in (("w1", "is not NAME=VALUE"), ("w1=abc", "must be a number or a list")):
        with pytest.raises(EmbedOptionError, match=words) as caught:
            parse_options({"set": text})
        assert isinstance(caught.value.__cause__, ScriptError)


# --------------------------------------------------------------------------- the table


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_the_table_is_tracegraph_explains(example):
    result = load_script(EXAMPLES / example)
    table = chain_rule_table(result.trace.graph, result.output)
    rows = chain_rule_rows(result)
    assert table.rows == tuple((r.node, r.computes, r.value, r.local, r.grad) for r in rows)
    assert table.header[-1].startswith("∂") and table.header[-1].endswith("/∂node")


# --------------------------------------------------------------------------- drawing and cache


def test_a_drawing_comes_from_the_cache_until_something_it_depends_on_changes(tmp_path, traces):
    data = write(tmp_path, "w.txt", "2.0\n")
    path = write(tmp_path, "f.py", "from pathlib import Path\n"
                 "w = float(Path(__file__).with_name('w.txt').read_text())\nloss = w * w\n")
    cache = Cache(tmp_path / "cache")
    first = draw(Source.file(path), EmbedOptions(), cache=cache, image=None)
    assert not first.from_cache and first.dependencies == (str(path.resolve()),
                                                           str(data.resolve()))
    again = draw(Source.file(path), EmbedOptions(), cache=cache, image=None)
    assert again.from_cache and again.dot == first.dot and len(traces) == 1
    other = draw(Source.file(path), EmbedOptions(show="grads"), cache=cache, image=None)
    assert not other.from_cache and other.key != first.key and len(traces) == 2
    data.write_text("3.0\n")
    changed = draw(Source.file(path), EmbedOptions(), cache=cache, image=None)
    assert not changed.from_cache and changed.key == first.key and len(traces) == 3
    assert changed.alt.endswith("loss = 9")
    path.write_text(path.read_text() + "loss2 = loss + 1.0\n")
    assert draw(Source.file(path), EmbedOptions(), cache=cache, image=None).key != first.key


def test_each_file_imports_its_own_helper_module_afresh(tmp_path, traces):
    """Two files that import a same-named module from their own folders, drawn in one
    process (a docs build): each gets its own module, as ``python FILE`` would, and both
    drawings depend on it, so editing it redraws both."""
    paths, helpers = [], []
    for folder, k in (("one", "1.0"), ("two", "100.0")):
        (tmp_path / folder).mkdir()
        helpers.append(write(tmp_path / folder, "helper.py", f"K = {k}\n"))
        paths.append(write(tmp_path / folder, "f.py",
                           "from helper import K\nw = 2.0\nLoss = K * w\n"))
    assert [load_script(p).trace.value for p in paths] == [2.0, 200.0]
    assert "helper" not in __import__("sys").modules
    cache = Cache(tmp_path / "cache")
    drawings = [draw(Source.file(p), EmbedOptions(), cache=cache, image=None) for p in paths]
    assert drawings[0].alt.endswith("Loss = 2") and drawings[1].alt.endswith("Loss = 200")
    for drawing, helper in zip(drawings, helpers):
        assert str(helper.resolve()) in drawing.dependencies
    again = draw(Source.file(paths[0]), EmbedOptions(show="grads"), cache=cache, image=None)
    assert str(helpers[0].resolve()) in again.dependencies  # the module was read again
    helpers[1].write_text("K = 5.0\n")
    redrawn = draw(Source.file(paths[1]), EmbedOptions(), cache=cache, image=None)
    assert not redrawn.from_cache and redrawn.alt.endswith("Loss = 10")


def test_a_compiled_helper_counts_as_its_source(tmp_path):
    import py_compile
    import sys

    helper = write(tmp_path, "helper_compiled.py", "K = 3.0\n")
    py_compile.compile(str(helper), doraise=True)  # what the user's own `python FILE` leaves
    path = write(tmp_path, "f.py", "from helper_compiled import K\nw = 2.0\nLoss = K * w\n")
    drawing = draw(Source.file(path), EmbedOptions(), cache=Cache(None), image=None)
    assert str(helper.resolve()) in drawing.dependencies
    assert "helper_compiled" not in sys.modules


@pytest.mark.needs_dot
def test_an_image_is_laid_out_once(tmp_path, traces):
    path = write(tmp_path, "f.py", "x = 1.0\ny = x * 3.0\n")
    cache = Cache(tmp_path / "cache")
    plain = draw(Source.file(path), EmbedOptions(), cache=cache, image=None)
    assert plain.svg is None
    drawn = draw(Source.file(path), EmbedOptions(), cache=cache, image="svg")
    assert drawn.svg.startswith("<svg ") and not drawn.from_cache and len(traces) == 1
    cached = draw(Source.file(path), EmbedOptions(), cache=cache, image="svg")
    assert cached.from_cache and cached.svg == drawn.svg
    entry = json.loads((tmp_path / "cache" / f"{drawn.key}.json").read_text())
    assert entry["svg"] == drawn.svg


def test_reads_leave_out_pythons_own_files(tmp_path):
    data = write(tmp_path, "points.csv", "1,2\n")
    with recording_reads() as reads:
        np.loadtxt(data, delimiter=",")
        (Path(np.__file__).parent / "__init__.py").read_bytes()
    assert reads == [str(data.resolve())]


def test_inline_code_errors_point_at_the_page(tmp_path):
    cache = Cache(tmp_path / "cache")
    cases = {"x = 1.0\ny = (x +\n": 11, "x = 1.0\n\ny = x / zero\n": 12,
             "import numpy as np\nx = 2.0\ny = np.spacing(x)\n": 12}
    for code, line in cases.items():
        with pytest.raises(DrawingError) as caught:
            draw(Source.inline(code, name="page.md", first_line=10), EmbedOptions(), cache=cache)
        assert caught.value.line == line, str(caught.value)
        assert f"page.md:{line}" in str(caught.value)
        assert str(tmp_path) not in str(caught.value)  # never the file it ran from


def test_an_error_in_inline_code_gives_one_line_number_the_pages(tmp_path):
    # "raised NameError ... at line 3" named the code's own line next to the page's 12
    code = "def f(a):\n    return a / zero\nx = 1.0\ny = f(x)\n"
    with pytest.raises(DrawingError) as caught:
        draw(Source.inline(code, name="page.md", first_line=10), EmbedOptions(),
             cache=Cache(None))
    headline = str(caught.value).splitlines()[0]
    assert headline.endswith("raised NameError: name 'zero' is not defined at line 11"), headline
    assert caught.value.line == 11  # where the error was raised, as the headline says
    assert "page.md:11, in f" in str(caught.value) and "page.md:13" in str(caught.value)


def test_problems_a_page_should_warn_about(tmp_path):
    cache = Cache(None)
    nan = draw(Source.inline("import numpy as np\nx = -1.0\ny = np.log(x)\n", name="p"),
               EmbedOptions(), cache=cache, image=None)
    assert [p.kind for p in nan.problems] == ["nonfinite"]
    own = draw(Source.inline("import warnings\nx = 1.0\nwarnings.warn('careful')\ny = x + x\n",
                             name="p", first_line=5), EmbedOptions(), cache=cache, image=None)
    assert [(p.kind, p.line) for p in own.problems] == [("warning", 7)]
    assert "UserWarning: careful" in own.problems[0].message
    printed = draw(Source.inline("x = 1.0\nprint('hello')\ny = x + x\n", name="p"),
                   EmbedOptions(), cache=cache, image=None)
    assert printed.problems == ()


def test_warnings_python_hides_are_not_problems(tmp_path):
    # `python FILE` hides ResourceWarning, PendingDeprecationWarning and ImportWarning (its
    # default filters); a page warning about them failed `sphinx-build -W`
    data = write(tmp_path, "w.txt", "2.0\n")
    path = write(tmp_path, "f.py", "import warnings\n"
                 f"w = float(open({str(data)!r}).read())\n"
                 "warnings.warn('soon', PendingDeprecationWarning)\n"
                 "warnings.warn('imp', ImportWarning)\n"
                 "warnings.warn('old', DeprecationWarning)\n"
                 "loss = w * w\n")
    drawing = draw(Source.file(path, name="f.py"), EmbedOptions(), cache=Cache(None),
                   image=None)
    assert [p.message for p in drawing.problems] == ["f.py, line 5: DeprecationWarning: old"]


def test_messages_give_advice_a_docs_author_can_follow(no_dot):
    with pytest.raises(DrawingError) as caught:
        draw(Source.inline("x = 1.0\ny = x / zero\n", name="p"), EmbedOptions(),
             cache=Cache(None))
    assert "__cause__" not in str(caught.value)  # a page's author holds no exception
    assert "running the code with `python` shows the full traceback" in str(caught.value)
    drawing = draw(Source.inline("x = 1.0\ny = x + x\n", name="p"), EmbedOptions(),
                   cache=Cache(None), image="svg")
    message = drawing.problems[0].message
    assert "apt-get install graphviz" in message and ".json" not in message, message


@pytest.mark.parametrize("example, expect_wrong, complaint", [
    ("neuron_homework.py", False, None),
    ("neuron_homework_wrong.py", False, "first wrong step: dS_dG"),
    ("neuron_homework_wrong.py", True, None),
    ("neuron_homework.py", True, "but the page expects a wrong one"),
    ("neuron.py", False, "has no claims to check"),
])
def test_checked_claims(example, expect_wrong, complaint):
    drawing = draw(Source.file(EXAMPLES / example, name=example),
                   EmbedOptions(check=True, expect_wrong=expect_wrong), cache=Cache(None),
                   image=None)
    messages = [p.message for p in drawing.problems if p.kind == "claims"]
    if complaint is None:
        assert messages == []
    else:
        assert len(messages) == 1 and complaint in messages[0]
    if example != "neuron.py":
        assert "✓" in drawing.dot  # the marks are drawn either way


def test_names_in_options_are_checked_against_the_graph():
    source = Source.file(EXAMPLES / "neuron.py", name="neuron.py")
    unknown = "(?s)there is no node 'Lose'.*did you mean Loss.*n13 \\(gold − S\\)"
    with pytest.raises(DrawingError, match=unknown):
        draw(source, EmbedOptions(focus="Lose"), cache=Cache(None), image=None)
    with pytest.raises(DrawingError, match="(?s)'w9' is not an input.*inputs: x1"):
        draw(source, EmbedOptions(wrt=("w9",)), cache=Cache(None), image=None)
    table = draw(source, EmbedOptions(wrt=("w1",)), cache=Cache(None), image=None).table
    assert [row[0] for row in table.rows] == ["w1", "A", "G", "S", "gold − S", "Loss"]


def test_a_bug_is_reported_as_one_without_a_traceback(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(tracegraph.embed.drawing, "build_diagram", broken)
    with pytest.raises(DrawingError, match="(?s)failed unexpectedly.*RuntimeError: boom.*a bug in "
                       "tracegraph"):
        draw(Source.inline("x = 1.0\ny = x + x\n", name="p"), EmbedOptions(), cache=Cache(None))


def test_without_dot_the_svg_is_missing_and_said_so(no_dot):
    drawing = draw(Source.inline("x = 1.0\ny = x + x\n", name="p"), EmbedOptions(),
                   cache=Cache(None), image="svg")
    assert drawing.svg is None and drawing.dot.startswith("digraph")
    assert [p.kind for p in drawing.problems] == ["dot"]
