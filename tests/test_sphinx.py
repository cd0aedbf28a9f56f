"""The Sphinx extension, built with Sphinx's own test fixtures (sphinx.testing)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")

from sphinx.cmd.build import build_main
from sphinx.testing.fixtures import make_app, test_params  # noqa: F401 (fixtures)

from tracegraph.numbers import value_summary
from tracegraph.script import load_script

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CONF = 'extensions = ["myst_parser", "tracegraph.sphinx"]\nexclude_patterns = ["_build"]\n'
COUNT_LINE = re.compile(r"tracegraph: (\d+) diagrams? \((\d+) from cache(?:, \d+ failed)?\)")
NOTHING_READ = "tracegraph: 0 diagrams (no page that draws one was read again)"
DIAGRAM_BLOCK = re.compile(r'<div class="tracegraph-diagram".*?</svg></div>', re.DOTALL)


def project(folder: Path, pages: dict[str, str], conf: str = CONF) -> Path:
    """A Sphinx source folder with ``pages`` and a copy of the neuron example."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conf.py").write_text(conf, encoding="utf-8")
    shutil.copy(EXAMPLES / "neuron.py", folder / "neuron.py")
    for name, text in pages.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def built(make_app, srcdir: Path, builder: str = "html", **kwargs):
    app = make_app(builder, srcdir=srcdir, **kwargs)
    app.build()
    return app


def svg_attributes(block: str) -> dict[str, str]:
    opening = re.search(r"<svg ([^>]*)>", block).group(1)
    return dict(re.findall(r'([\w:-]+)="([^"]*)"', opening))


def ours(app) -> list[str]:
    """The extension's warnings (several apps in one test also warn about Sphinx's own
    node classes being registered again)."""
    return [line for line in app.warning.getvalue().splitlines() if "[tracegraph." in line]


def counts(app) -> tuple[int, int]:
    status = app.status.getvalue()
    if NOTHING_READ in status:
        assert not COUNT_LINE.findall(status), status
        return 0, 0
    found = COUNT_LINE.findall(status)
    assert len(found) == 1, status
    return int(found[0][0]), int(found[0][1])


INDEX = """\
Neuron
======

.. toctree::

   other

.. tracegraph:: neuron.py
   :rankdir: TB
   :table:
   :caption: The *seed-002* neuron.
   :name: fig-neuron

.. tracegraph::
   :show: grads

   x = 3.0
   y = x * x
"""

OTHER_MD = """\
# Other

```{tracegraph} /neuron.py
:path: w1,Loss
:set: w1=0.1
```
"""


# --------------------------------------------------------------------------- html


@pytest.mark.needs_dot
def test_html_is_inline_svg_with_unique_ids_caption_and_table(make_app, tmp_path):
    app = built(make_app, project(tmp_path / "src", {"index.rst": INDEX, "other.md": OTHER_MD}))
    assert app.warning.getvalue() == ""
    page = (app.outdir / "index.html").read_text(encoding="utf-8")
    blocks = DIAGRAM_BLOCK.findall(page)
    assert len(blocks) == 2
    assert "<object" not in page and "<img" not in page
    for block in blocks:
        root = svg_attributes(block)
        assert root["class"] == "tracegraph-svg" and root["role"] == "img"
        assert re.fullmatch(r"[\d.]+ [\d.]+ [\d.]+ [\d.]+", root["viewBox"])
        assert root["style"].startswith("max-width:100%;height:auto;min-width:")
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "duplicate ids in one page"
    assert "Chain-rule diagram of neuron.py: Loss = 0.1811" in page
    assert '<span class="caption-text">The <em>seed-002</em> neuron.</span>' in page
    assert 'id="fig-neuron"' in page
    # The :table: follows the figure (a LaTeX float could not break across pages).
    table = page.index("tracegraph-table")
    assert page.index("</figure>") < table < page.index('<div class="line">∂A/∂w1 = x1 = 1')
    other = (app.outdir / "other.html").read_text(encoding="utf-8")
    loss = load_script(EXAMPLES / "neuron.py", overrides={"w1": 0.1}).trace.value
    assert f"Chain-rule diagram of /neuron.py: Loss = {value_summary(loss)}" in other
    assert counts(app) == (3, 0)


@pytest.mark.needs_dot
def test_two_clean_builds_give_byte_identical_diagrams(make_app, tmp_path):
    pages = {"index.rst": INDEX, "other.md": OTHER_MD}
    first = built(make_app, project(tmp_path / "a", pages))
    second = built(make_app, project(tmp_path / "b", pages))
    for name in ("index.html", "other.html"):
        one = DIAGRAM_BLOCK.findall((first.outdir / name).read_text(encoding="utf-8"))
        two = DIAGRAM_BLOCK.findall((second.outdir / name).read_text(encoding="utf-8"))
        assert one and one == two


@pytest.mark.needs_dot
def test_an_unchanged_rebuild_traces_and_lays_out_nothing(make_app, tmp_path, traces):
    srcdir = project(tmp_path / "src", {"index.rst": INDEX, "other.md": OTHER_MD})
    first = built(make_app, srcdir)
    assert counts(first) == (3, 0) and len(traces) == 3
    page = (first.outdir / "index.html").read_text(encoding="utf-8")
    traces.clear()
    again = built(make_app, srcdir, freshenv=True)  # every page is read again
    assert counts(again) == (3, 3)
    assert traces == []
    assert (again.outdir / "index.html").read_text(encoding="utf-8") == page


@pytest.mark.needs_dot
def test_editing_the_expression_file_rebuilds_only_its_pages(make_app, tmp_path, traces):
    shared = "Shared\n======\n\n.. tracegraph:: neuron.py\n"
    srcdir = project(tmp_path / "src", {
        "index.rst": "Index\n=====\n\n.. toctree::\n\n   uses\n   plain\n",
        "uses.rst": "Uses\n====\n\n.. tracegraph:: square.py\n", "plain.rst": shared})
    (srcdir / "square.py").write_text("x = 3.0\ny = x * x\n")
    app = built(make_app, srcdir)
    assert str((srcdir / "square.py").resolve()) in {
        str(Path(srcdir, d)) for d in app.env.dependencies["uses"]}
    traces.clear()
    (srcdir / "square.py").write_text("x = 5.0\ny = x * x\n")
    again = built(make_app, srcdir)
    assert counts(again) == (1, 0)
    assert [p.name for p in traces] == ["square.py"]
    assert "Chain-rule diagram of square.py: y = 25" in (again.outdir / "uses.html").read_text(
        encoding="utf-8")


@pytest.mark.needs_dot
def test_a_data_file_the_expression_reads_is_a_dependency(make_app, tmp_path, traces):
    srcdir = project(tmp_path / "src", {"index.rst": "Data\n====\n\n.. tracegraph:: fit.py\n"})
    (srcdir / "weight.txt").write_text("2.0\n")
    (srcdir / "fit.py").write_text(
        "from pathlib import Path\n"
        "w = float(Path(__file__).with_name('weight.txt').read_text())\n"
        "loss = w * w\n")
    first = built(make_app, srcdir)
    assert "loss = 4" in (first.outdir / "index.html").read_text(encoding="utf-8")
    (srcdir / "weight.txt").write_text("3.0\n")
    again = built(make_app, srcdir)  # the page is outdated through its dependency...
    assert counts(again) == (1, 0)  # ...and the cache entry is stale through its hash
    assert "loss = 9" in (again.outdir / "index.html").read_text(encoding="utf-8")


@pytest.mark.needs_dot
def test_parallel_build(make_app, tmp_path):
    pages = {"index.rst": "Index\n=====\n\n.. toctree::\n   :glob:\n\n   page*\n"}
    for k in range(8):
        pages[f"page{k}.rst"] = (f"Page {k}\n=======\n\n.. tracegraph::\n   :set: x={k}.5\n\n"
                                 "   x = 1.0\n   y = x * x\n")
    app = built(make_app, project(tmp_path / "src", pages), parallel=2)
    status = re.sub(r"\x1b\[[\d;]*m", "", app.status.getvalue())
    assert re.search(r"reading sources\.\.\. \[ *\d+%\] \w+ \.\. \w+", status), status  # in chunks
    assert app.warning.getvalue() == ""
    assert counts(app) == (8, 0)
    for k in range(8):
        page = (app.outdir / f"page{k}.html").read_text(encoding="utf-8")
        assert f"y = {(k + 0.5) ** 2:g}" in page and "<svg " in page


@pytest.mark.needs_dot
def test_what_the_docs_say_fits_a_column_does(tmp_path):
    """docs/embedding.md said `:rankdir: TB` "usually fits" a column; the neuron drawn TB
    is wider than Furo's 736 px column even at 70 %.  The page's numbers are the drawings'."""
    from tracegraph.embed import Cache, Source, draw, parse_options

    text = " ".join((ROOT / "docs" / "embedding.md").read_text(encoding="utf-8").split())
    assert "usually fits" not in text
    column = int(re.search(r"Furo's (\d+) px column", text).group(1))
    claims = {"LR": r"(\d+) px wide drawn `LR`", "TB": r"still (\d+) px drawn `TB`",
              "path": r"`:path: w1,Loss` example above is (\d+) px in `TB`"}
    options = {"LR": ("neuron.py", {}), "TB": ("neuron.py", {"rankdir": "TB"}),
               "path": ("neuron_homework_wrong.py", {"rankdir": "TB", "path": "w1,Loss",
                                                    "check": "", "expect-wrong": ""})}
    for name, pattern in claims.items():
        said = int(re.search(pattern, text).group(1))
        example, given = options[name]
        svg = draw(Source.file(EXAMPLES / example), parse_options(given), cache=Cache(None),
                   image="svg").svg
        width = float(svg_attributes(svg)["width"].removesuffix("px"))
        assert abs(width - said) <= 0.05 * said, (name, width, said)  # Graphviz versions differ
        assert (0.7 * width > column) == (name != "path"), (name, width)


# --------------------------------------------------------------------------- other builders


@pytest.mark.needs_dot
def test_latex_gets_a_pdf_image(make_app, tmp_path):
    app = built(make_app, project(tmp_path / "src", {"index.rst": INDEX, "other.md": OTHER_MD}),
                "latex")
    tex = next(app.outdir.glob("*.tex")).read_text(encoding="utf-8")
    images = re.findall(r"\\sphinxincludegraphics\{(tracegraph-[0-9a-f]+\.pdf)\}", tex)
    assert len(images) == 3
    # shrunk to the line width and to 3/4 of the text height (room for a heading or caption)
    assert tex.count("{\\csname spx@image@maxheight\\endcsname=0.75\\textheight\\relax\n"
                     "\\sphinxincludegraphics{tracegraph-") == 3
    for name in images:
        assert (app.outdir / name).read_bytes().startswith(b"%PDF-")
    assert "The \\sphinxstyleemphasis{seed\\sphinxhyphen{}002} neuron." in tex
    assert "\\DeclareUnicodeCharacter{2202}{\\ensuremath{\\partial}}" in tex  # pdflatex: ∂


@pytest.mark.slow
@pytest.mark.needs_dot
@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdflatex") is None,
                    reason="needs a TeX installation (latexmk, pdflatex)")
def test_the_latex_output_compiles_with_pdflatex(make_app, tmp_path):
    app = built(make_app, project(tmp_path / "src", {"index.rst": INDEX, "other.md": OTHER_MD}),
                "latex")
    tex = next(app.outdir.glob("*.tex"))
    done = subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
                           tex.name], cwd=app.outdir, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert tex.with_suffix(".pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.slow
@pytest.mark.needs_dot
@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdflatex") is None,
                    reason="needs a TeX installation (latexmk, pdflatex)")
def test_a_tall_diagram_under_a_chapter_heading_stays_on_its_page(make_app, tmp_path):
    srcdir = project(tmp_path / "src", {"index.rst": (
        "Doc\n===\n\nTall\n----\n\n.. tracegraph:: mlp.py\n   :rankdir: TB\n\n"
        "Captioned\n---------\n\n.. tracegraph:: mlp.py\n   :rankdir: TB\n"
        "   :caption: " + "A caption long enough for a few lines of the text block. " * 6 + "\n")})
    shutil.copy(EXAMPLES / "mlp.py", srcdir / "mlp.py")
    app = built(make_app, srcdir, "latex")
    tex = next(app.outdir.glob("*.tex"))
    done = subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
                           tex.name], cwd=app.outdir, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    log = tex.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    # scaled to the width only, the picture ran 120pt past the text block into the footer
    assert "Overfull \\vbox" not in log and "Float too large" not in log


def test_text_builder_writes_the_chain_rule_table(make_app, tmp_path, no_dot):
    app = built(make_app, project(tmp_path / "src", {"index.rst": INDEX, "other.md": OTHER_MD}),
                "text")
    assert app.warning.getvalue() == ""  # no Graphviz needed
    text = (app.outdir / "index.txt").read_text(encoding="utf-8")
    assert "| node " in text and "∂Loss/∂node" in text and "∂y/∂node" in text
    assert text.count("∂A/∂w1 = x1 = 1") == 1  # :table: given: the table is not repeated
    assert "digraph" not in text


def test_without_dot_a_warning_and_the_table_and_dot_source(make_app, tmp_path, no_dot):
    app = built(make_app, project(tmp_path / "src", {
        "index.rst": "Neuron\n======\n\n.. tracegraph:: neuron.py\n"}))
    warnings = app.warning.getvalue()
    assert re.search(r"index\.rst:4: WARNING: drawing the diagram needs Graphviz's `dot` "
                     r"program", warnings), warnings
    assert "apt-get install graphviz" in warnings
    assert ".json" not in warnings  # the command line's advice: a page cannot choose
    page = (app.outdir / "index.html").read_text(encoding="utf-8")
    assert "∂Loss/∂node" in page and "digraph tracegraph {" in page and "<svg" not in page
    # the DOT source is not highlighted as Python (which coloured words like "in")
    assert re.search(r'<div class="tracegraph-dot highlight-none notranslate">', page), page


# --------------------------------------------------------------------------- failures


FAILING = {
    "missing file": ("Page\n====\n\n.. tracegraph:: nueron.py\n", 4,
                     "nueron.py does not exist"),
    "the file's own error": ("Page\n====\n\nText.\n\n.. tracegraph::\n\n   x = 1.0\n"
                             "   y = x / zero\n", 9,
                             "raised NameError: name 'zero' is not defined"),
    "syntax error": ("Page\n====\n\n.. tracegraph::\n\n   x = 1.0\n   y = (x +\n", 7,
                     "SyntaxError"),
    "unsupported operation": ("Page\n====\n\n.. tracegraph::\n\n   import numpy as np\n"
                              "   x = 2.0\n   y = np.spacing(x)\n", 8,
                              "np.spacing is not supported on traced values"),
    "wrong claim": ("Page\n====\n\n.. tracegraph::\n   :check:\n\n   w = 2.0\n   loss = w * w\n"
                    "   dloss_dw = 3 * w\n", 9, "first wrong step: dloss_dw (line 9)"),
    "bad option": ("Page\n====\n\n.. tracegraph:: neuron.py\n   :max-nodes: 3\n", 4,
                   "max-nodes: 3: a diagram needs room for at least 5 boxes"),
    "unknown node": ("Page\n====\n\n.. tracegraph:: neuron.py\n   :focus: Lose\n", 4,
                     "did you mean Loss?"),
}


@pytest.mark.parametrize("case", sorted(FAILING))
def test_a_failing_page_fails_a_W_build_at_its_file_and_line(case, tmp_path, capsys):
    page, line, message = FAILING[case]
    srcdir = project(tmp_path / "src", {"index.rst": page})
    status = build_main(["-W", "-q", "-b", "text", str(srcdir), str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status != 0
    assert f"index.rst:{line}: WARNING: " in err, err
    assert message in err
    assert "Traceback" not in err


def test_an_error_box_is_plain_text_and_a_build_where_all_failed_says_so(make_app, tmp_path):
    app = built(make_app, project(tmp_path / "src", {"index.rst": (
        "Page\n====\n\n.. tracegraph:: nueron.py\n\n.. tracegraph::\n\n   x = 1.0\n"
        "   y = x in zero\n")}))
    page = (app.outdir / "index.html").read_text(encoding="utf-8")
    boxes = re.findall(r'<div class="(highlight-\w+) notranslate">', page)
    assert boxes == ["highlight-none", "highlight-none"], boxes  # not Python ("in", "from")
    status = app.status.getvalue()
    assert "tracegraph: 0 diagrams (2 failed)" in status, status
    assert "was read again" not in status


def test_a_resource_warning_of_the_file_does_not_fail_a_W_build(tmp_path, capsys):
    srcdir = project(tmp_path / "src", {"index.rst": "Page\n====\n\n.. tracegraph:: f.py\n"})
    (srcdir / "w.txt").write_text("2.0\n")
    (srcdir / "f.py").write_text("from pathlib import Path\n"
                                 "w = float(open(Path(__file__).with_name('w.txt')).read())\n"
                                 "loss = w * w\n")
    status = build_main(["-W", "-q", "-b", "text", str(srcdir), str(tmp_path / "out")])
    assert status == 0, capsys.readouterr().err  # `python f.py` shows no ResourceWarning


def test_the_latex_build_without_dot_gives_advice_for_a_page(make_app, tmp_path, no_dot):
    app = built(make_app, project(tmp_path / "src", {
        "index.rst": "Neuron\n======\n\n.. tracegraph:: neuron.py\n"}), "latex")
    warnings = app.warning.getvalue()
    assert "apt-get install graphviz" in warnings and ".json" not in warnings, warnings


def test_the_count_line_says_diagram_for_one(make_app, tmp_path, no_dot):
    app = built(make_app, project(tmp_path / "src", {"index.rst": (
        "Page\n====\n\n.. tracegraph:: neuron.py\n\n.. tracegraph:: nueron.py\n")}), "text")
    assert "tracegraph: 1 diagram (0 from cache, 1 failed)" in app.status.getvalue()


@pytest.mark.needs_dot
def test_myst_inline_code_points_at_the_page_line(make_app, tmp_path):
    page = ("# Claims\n\nText.\n\n```{tracegraph}\n:check:\n:show: grads\nw = 2.0\n"
            "loss = w * w\ndloss_dw = 3 * w\n```\n")
    app = built(make_app, project(tmp_path / "src", {"index.md": page}))
    assert re.search(r"index\.md:10: WARNING: .*first wrong step: dloss_dw \(line 10\)",
                     app.warning.getvalue()), app.warning.getvalue()


def test_warnings_in_and_after_an_included_file_point_at_the_true_file_and_line(tmp_path,
                                                                              capsys):
    srcdir = project(tmp_path / "src", {
        "index.rst": "Page\n====\n\n.. include:: part.txt\n\nText.\n\n"
                     ".. tracegraph:: neuron.py\n   :show:\n\n"
                     ".. tracegraph::\n\n   x = 1.0\n   y = x / zero\n",
        "part.txt": "Included.\n\n.. tracegraph:: nueron.py\n\n.. tracegraph::\n\n"
                    "   x = 1.0\n   y = x / nothing\n"})
    status = build_main(["-q", "-b", "text", str(srcdir), str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 0
    where = re.findall(r"^(\S+?):(\d+): WARNING: (.*)$", err, re.MULTILINE)
    assert [(Path(f).name, int(n)) for f, n, _ in where] == [
        ("part.txt", 3), ("part.txt", 8), ("index.rst", 8), ("index.rst", 14)], err
    assert "your code in part.txt (the tracegraph block) raised NameError: name 'nothing' " \
           "is not defined at line 8" in err


def test_an_error_in_the_body_gives_the_pages_line_only(tmp_path, capsys):
    page = "# Page\n\nText.\n\n```{tracegraph}\nx = 1.0\ny = x / zero\n```\n"
    srcdir = project(tmp_path / "src", {"index.md": page})
    build_main(["-q", "-b", "text", str(srcdir), str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert "index.md:7: WARNING: your code in index.md (the tracegraph block) raised " \
           "NameError: name 'zero' is not defined at line 7\n" in err, err
    assert not re.search(r"\bline [1-6]\b|:[1-6]\b", err), err


@pytest.mark.needs_dot
def test_expect_wrong_draws_the_marks_without_a_warning(make_app, tmp_path):
    shutil_copy = EXAMPLES / "neuron_homework_wrong.py"
    srcdir = project(tmp_path / "src", {"index.rst": (
        "Wrong\n=====\n\n.. tracegraph:: homework.py\n   :check:\n   :expect-wrong:\n\n"
        ".. tracegraph:: right.py\n   :check:\n   :expect-wrong:\n")})
    shutil.copy(shutil_copy, srcdir / "homework.py")
    shutil.copy(EXAMPLES / "neuron_homework.py", srcdir / "right.py")
    app = built(make_app, srcdir)
    warnings = app.warning.getvalue()
    assert "homework.py:" not in warnings.replace("right.py", "")  # the wrong one is expected
    assert re.search(r"index\.rst:8: WARNING: right\.py: \d+ claims: \d+ exact.*but the page "
                     r"expects a wrong one", warnings), warnings
    page = (app.outdir / "index.html").read_text(encoding="utf-8")
    assert "✗ WRONG" in page and "first wrong step" in page


def test_a_page_that_warned_warns_again_in_an_incremental_build(make_app, tmp_path):
    srcdir = project(tmp_path / "src", {
        "index.rst": "Index\n=====\n\n.. toctree::\n\n   fine\n\n.. tracegraph::\n   :check:\n\n"
                     "   w = 2.0\n   loss = w * w\n   dloss_dw = 3 * w\n",
        "fine.rst": "Fine\n====\n\n.. tracegraph:: neuron.py\n"})
    first = built(make_app, srcdir, "text")
    assert "index.rst:13: WARNING" in first.warning.getvalue()
    again = built(make_app, srcdir, "text")  # nothing changed
    assert "index.rst:13: WARNING" in again.warning.getvalue()
    assert counts(again) == (1, 1)  # only the page that warned was read, from the cache
    (srcdir / "index.rst").write_text((srcdir / "index.rst").read_text().replace(
        "dloss_dw = 3 * w", "dloss_dw = 2 * w"))
    fixed = built(make_app, srcdir, "text")
    assert ours(fixed) == [] and counts(fixed) == (1, 0)
    unchanged = built(make_app, srcdir, "text")
    assert counts(unchanged) == (0, 0) and NOTHING_READ in unchanged.status.getvalue()
