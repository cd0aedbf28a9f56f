"""Inline, themable SVG for HTML pages (tracegraph.diagram.inline) and Trace's HTML/SVG reprs."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from seed002 import neuron

import tracegraph as tg
from tracegraph.diagram import style, svg
from tracegraph.diagram.inline import (
    MIN_SCALE,
    THEME_CLASSES,
    html_block,
    inline_svg,
    theme_css,
    with_id_prefix,
)
from tracegraph.diagram.output import html, mimebundle

SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"
THEMED = {name for name, _ in THEME_CLASSES}


@pytest.fixture(scope="module")
def seed_trace():
    return tg.trace(neuron, w1=0.5, x1=1.0, w2=-0.3, x2=2.0, w3=0.8, x3=0.5, gold=1.0)


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def groups(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == kind]


def drawn(element: ET.Element):
    """The element and its descendants, leaving out clip-path definitions (never painted)."""
    if local(element.tag) == "clipPath":
        return
    yield element
    for child in element:
        yield from drawn(child)


def classes(element: ET.Element) -> set[str]:
    return set((element.get("class") or "").split())


def test_a_small_svg_without_graphviz_is_sized_in_pixels_with_a_floor():
    raw = ('<svg width="300pt" height="60pt" viewBox="0.00 0.00 300.00 60.00" '
           'xmlns="http://www.w3.org/2000/svg"><g id="graph0" class="graph"><title>t</title>'
           '<polygon fill="white" stroke="transparent" points="0,0 1,1"/></g></svg>')
    root = ET.fromstring(inline_svg(raw, alt="tiny"))
    assert (root.get("width"), root.get("height")) == ("400", "80")
    assert root.get("style") == f"max-width:100%;height:auto;min-width:{round(400 * MIN_SCALE)}px"
    assert root.get("aria-label") == "tiny" and root.find(f"{SVG}g/{SVG}title").text == "tiny"
    assert root.find(f"{SVG}g/{SVG}polygon").get("fill") == "none"  # the page shows through
    assert root.find(f"{SVG}style").text == theme_css()


def test_id_prefixes_must_be_valid_and_change_references_too():
    markup = '<g id="tg-node1"/><path clip-path="url(#tg-clip-node1)"/><use href="#tg-node1"/>'
    assert with_id_prefix(markup, "p2-") == ('<g id="p2-node1"/><path clip-path="url(#p2-clip-'
                                             'node1)"/><use href="#p2-node1"/>')
    with pytest.raises(ValueError, match="id prefix"):
        with_id_prefix(markup, '1"><script>')
    assert html_block("<svg/>", css_class="wide").startswith(
        '<div class="tracegraph-diagram wide" style="overflow-x:auto">')


@pytest.mark.needs_dot
def test_what_is_on_the_page_follows_the_theme_and_the_boxes_keep_their_colours(seed_trace):
    raw_text = svg(seed_trace)
    raw, themed = ET.fromstring(raw_text), ET.fromstring(inline_svg(raw_text))
    # Every edge line, arrowhead and label is drawn in the page's colours ...
    for edge in groups(themed, "edge"):
        for element in edge.iter():
            tag = local(element.tag)
            if tag in ("path", "polyline") or (tag == "polygon" and element.get("stroke")):
                assert classes(element) & {"tg-line", "tg-arrow", "tg-faint", "tg-faint-arrow"}
            if tag == "text":
                assert "tg-ink" in classes(element)
    # ... while every box keeps exactly the fills (the gradient scale) and text colours
    # Graphviz drew, untouched by any theme class.
    def box_paint(root):
        return [(local(e.tag), e.get("fill"), e.get("stroke")) for g in groups(root, "node")
                for e in drawn(g) if local(e.tag) in ("path", "polygon", "text")]
    assert box_paint(themed) == box_paint(raw)
    for g in groups(themed, "node"):
        assert not any(classes(e) & THEMED for e in g.iter())
    gradient_fills = {style.gradient_colour(abs(d["grad"])).fill
                      for _, d in seed_trace.graph.nodes(data=True)
                      if d["kind"] != "constant" and d["grad"]}
    assert gradient_fills <= {e.get("fill") for e in themed.iter()}


@pytest.mark.needs_dot
def test_marked_and_nonfinite_edges_keep_their_colour(seed_trace):
    report = tg.check(seed_trace, {"dS/dG": 1.0, "dA/dw1": 1.0})
    themed = ET.fromstring(inline_svg(svg(seed_trace, marks=report.marks())))
    wrong = style.MARK_STYLES["wrong"].colour
    correct = style.MARK_STYLES["correct"].colour
    painted = [e for g in groups(themed, "edge") for e in g.iter()
               if e.get("stroke") in (wrong, correct)]
    assert {e.get("stroke") for e in painted} == {wrong, correct}
    assert not any(classes(e) & THEMED for e in painted)


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """WCAG contrast ratio of two sRGB colours (0-255 channels)."""
    def luminance(rgb):
        linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4
                  for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    low, high = sorted((luminance(a), luminance(b)))
    return (high + 0.05) / (low + 0.05)


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


# (page text colour, page background): a white page, and Furo's and pydata-sphinx-theme's
# dark themes.
PAGES = {"light": ("#000000", "#ffffff"), "furo dark": ("#cfd0d0", "#131416"),
         "pydata dark": ("#ced6dd", "#121212")}
MIX = re.compile(r"fill:color-mix\(in srgb,(#[0-9a-f]{6}) (\d+)%,"
                 r"var\(--tracegraph-ink,currentColor\)\)")


@pytest.mark.needs_dot
def test_labels_of_marked_edges_read_on_light_and_dark_pages(seed_trace):
    with pytest.warns(tg.NonFiniteWarning), np.errstate(all="ignore"):
        nan_trace = tg.trace(lambda x, y: np.sqrt(x) * y, x=0.0, y=1.0)
    report = tg.check(seed_trace, {"dS/dG": 1.0, "dA/dw1": 1.0})
    labels = [e for t, marks in ((seed_trace, report.marks()), (nan_trace, {}))
              for g in groups(ET.fromstring(inline_svg(svg(t, marks=marks))), "edge")
              for e in g.iter(f"{SVG}text") if not classes(e) & THEMED]
    painted = {e.get("fill") for e in labels}
    assert {style.MARK_STYLES["wrong"].label_colour, style.MARK_STYLES["correct"].label_colour,
            style.NONFINITE_EDGE.label_colour} <= painted
    for label in labels:
        match = MIX.fullmatch(label.get("style") or "")
        assert match, f"{label.text!r} keeps a fixed colour: {label.get('style')!r}"
        colour, share = rgb(match.group(1)), int(match.group(2)) / 100
        assert match.group(1) == label.get("fill")  # the fallback without color-mix
        for page, (ink, background) in PAGES.items():
            seen = tuple(share * c + (1 - share) * i for c, i in zip(colour, rgb(ink)))
            assert contrast(seen, rgb(background)) >= 4.5, (label.text, page)


@pytest.mark.needs_dot
def test_scopes_are_tinted_in_the_page_colour():
    def f(x, w):
        with tg.scope("layer1"):
            h = tg.name(tg.relu(w * x), "h")
        return tg.name(h * h, "y")

    themed = ET.fromstring(inline_svg(svg(tg.trace(f, x=1.0, w=0.5))))
    (cluster,) = groups(themed, "cluster")
    assert any("tg-area" in classes(e) for e in cluster)
    assert any("tg-ink" in classes(e) for e in cluster if local(e.tag) == "text")


@pytest.mark.needs_dot
def test_tooltips_become_titles_links_go_and_ids_are_prefixed(seed_trace):
    raw_text = svg(seed_trace)
    raw, themed = ET.fromstring(raw_text), ET.fromstring(inline_svg(raw_text, id_prefix="p1-"))
    tooltips = {g.get("id"): next((e.get(XLINK_TITLE) for e in g.iter() if e.get(XLINK_TITLE)),
                                  g.find(f"{SVG}title").text) for g in groups(raw, "node")}
    titles = {g.get("id"): g.find(f"{SVG}title").text for g in groups(themed, "node")}
    assert titles == {f"p1-{k}": v for k, v in tooltips.items()}
    assert "~legend" in titles.values()  # no tooltip: the title stays
    assert "w1 (input, op input)\nvalue:\n\xa0 0.5\n∂Loss/∂w1:\n\xa0 −0.2081".replace(
        "\xa0", " ") in [t.replace("\xa0", " ") for t in titles.values()]
    assert not any(local(e.tag) == "a" or XLINK_TITLE in e.attrib for e in themed.iter())
    ids = [e.get("id") for e in themed.iter() if e.get("id")]
    assert ids and all(i.startswith("p1-") for i in ids) and len(ids) == len(set(ids))
    references = re.findall(r"url\(#([^)]+)\)", inline_svg(raw_text, id_prefix="p1-"))
    assert references and set(references) <= set(ids)  # the rounded boxes' clip paths


@pytest.mark.needs_dot
def test_inline_markup_is_byte_identical_run_to_run(seed_trace):
    assert inline_svg(svg(seed_trace)) == inline_svg(svg(seed_trace))


@pytest.mark.needs_dot
def test_trace_reprs_for_notebooks_and_galleries(seed_trace):
    first, second = seed_trace._repr_html_(), seed_trace._repr_html_()
    assert first.startswith('<div class="tracegraph-diagram" style="overflow-x:auto"><svg ')
    prefix = lambda block: re.search(r'id="([^"]+)graph0"', block).group(1)
    assert prefix(first) != prefix(second)  # two outputs in one notebook stay valid HTML
    ids = [set(re.findall(r'\bid="([^"]+)"', seed_trace._repr_svg_())) for _ in range(2)]
    assert ids[0] and not ids[0] & ids[1]  # the same for the bare SVG (VS Code, JupyterLab)
    assert re.sub(r'id="tg\w+-\d+-', 'id="', seed_trace._repr_svg_()) == re.sub(
        r'id="tg\w+-\d+-', 'id="', mimebundle(seed_trace)["image/svg+xml"])
    assert set(mimebundle(seed_trace)) == {"image/svg+xml", "text/html", "text/plain"}
    assert 'id="c1-graph0"' in html(seed_trace, id_prefix="c1-")


def test_trace_reprs_without_dot_are_none(seed_trace, no_dot):
    assert seed_trace._repr_html_() is None and seed_trace._repr_svg_() is None
