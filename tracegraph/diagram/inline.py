"""Diagrams inside HTML pages: Graphviz's SVG made inline, scalable and themable.

Graphviz writes a stand-alone drawing: a white background, black text and
grey edges, a fixed size in points, ids such as ``node1`` and tooltips in
``xlink:title``.  :func:`inline_svg` turns it into an ``<svg>`` element to
paste into a page:

- **Sizing.** The viewBox is kept and the size becomes pixels, so the picture
  shrinks to its column (``max-width: 100%``) but never below
  :data:`MIN_SCALE` of its natural size: past that the wrapper made by
  :func:`html_block` scrolls sideways instead of making the text unreadable.
- **Themes.** What is drawn on the page itself - the background, edges,
  edge labels, the title and notes, scope frames - is tagged with a class that
  the embedded style sheet draws in the page's own text colour
  (``currentColor``), so it follows any light or dark theme, however the
  theme switches (``prefers-color-scheme``, Furo's or pydata-sphinx-theme's
  ``data-theme``, JupyterLab, MkDocs Material).  Boxes keep their colours:
  each one is a card whose fill is the gradient scale (never inverted) and
  whose text colour was chosen for that fill.  The label of an edge a claim
  or a NaN coloured keeps its hue, mixed half and half with the page's text
  colour (:data:`MARK_INK_SHARE`), so it reads on a dark page as on a light
  one.  Sites can override the ``--tracegraph-*`` custom properties of
  :data:`THEME_CLASSES`.
- **Ids.** Every id starts with a prefix (:func:`with_id_prefix` changes it;
  :func:`unique_id_prefix` makes one), so a page can hold several diagrams and
  stay valid HTML.
- **Tooltips** (the full values) move into ``<title>`` elements, which every
  browser shows on hover; the ``<a>`` elements that carried them go, so the
  page's link style cannot restyle the drawing.

:func:`tracegraph.diagram.output.html` draws a trace straight into such a block.

Example:
    >>> raw = ('<svg width="75pt" height="30pt" viewBox="0.00 0.00 75.00 30.00" '
    ...        'xmlns="http://www.w3.org/2000/svg"><g id="graph0" class="graph">'
    ...        '<title>tracegraph</title><polygon fill="white" stroke="transparent" '
    ...        'points="0,0 75,0 75,30 0,30"/><text>Loss</text></g></svg>')
    >>> markup = inline_svg(raw, alt="the loss")
    >>> 'id="tg-graph0"' in markup, 'width="100"' in markup, 'class="tg-ink"' in markup
    (True, True, True)
    >>> 'id="tg7-graph0"' in with_id_prefix(markup, "tg7-")
    True
"""

from __future__ import annotations

import hashlib
import itertools
import re
import xml.etree.ElementTree as ET

from . import style

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"
SVG_CLASS = "tracegraph-svg"
WRAPPER_CLASS = "tracegraph-diagram"
DEFAULT_ID_PREFIX = "tg-"
MIN_SCALE = 0.7  # below this the smallest labels (9 pt) are smaller than 8 px
PX_PER_PT = 4 / 3

# The classes put on what is drawn on the page, and how the style sheet draws them:
# (class, CSS declarations).  Each colour is a custom property defaulting to the page's
# text colour; the opacities give the lighter weights Graphviz's greys had.
THEME_CLASSES: tuple[tuple[str, str], ...] = (
    ("tg-ink", "fill:var(--tracegraph-ink,currentColor)"),
    ("tg-muted", "fill:var(--tracegraph-muted,currentColor);fill-opacity:.7"),
    ("tg-line", "stroke:var(--tracegraph-edge,currentColor);stroke-opacity:.75"),
    ("tg-arrow", "fill:var(--tracegraph-edge,currentColor);fill-opacity:.75;"
                 "stroke:var(--tracegraph-edge,currentColor);stroke-opacity:.75"),
    ("tg-faint", "stroke:var(--tracegraph-faint,currentColor);stroke-opacity:.4"),
    ("tg-faint-arrow", "fill:var(--tracegraph-faint,currentColor);fill-opacity:.4;"
                       "stroke:var(--tracegraph-faint,currentColor);stroke-opacity:.4"),
    ("tg-area", "fill:var(--tracegraph-scope,currentColor);fill-opacity:.05;"
                "stroke:var(--tracegraph-scope-line,currentColor);stroke-opacity:.4"),
)

MARK_INK_SHARE = 50
"""Percent of a marked edge label's colour kept when it is mixed with the page's text
colour: the marks' own colours (``style.MARK_STYLES``) are dark enough for white pages
only, and 50 % reads at 4.5:1 or more on white and on the usual dark themes."""

_serials = itertools.count(1)
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                            "\n": "&#10;", "\t": "&#9;", "\r": "&#13;"})
_SIZE = re.compile(r"([\d.]+)pt")
_ID_REFERENCE = re.compile(r'(\bid="|\bhref="#|url\(#)' + re.escape(DEFAULT_ID_PREFIX))


def theme_css() -> str:
    """The style sheet embedded in every inline diagram (scoped to its class).

    Example:
        >>> ".tracegraph-svg .tg-line{stroke:var(--tracegraph-edge,currentColor)" in theme_css()
        True
    """
    return "".join(f".{SVG_CLASS} .{name}{{{rules}}}" for name, rules in THEME_CLASSES)


def inline_svg(svg_text: str, *, alt: str = "", id_prefix: str = DEFAULT_ID_PREFIX) -> str:
    """A Graphviz SVG document as an inline, themable ``<svg>`` element (see the module).

    ``alt`` is the text for screen readers (``aria-label``) and the tooltip of
    the background.

    Example:
        >>> import shutil, tracegraph as tg
        >>> from tracegraph.diagram import svg
        >>> if shutil.which("dot"):
        ...     markup = inline_svg(svg(tg.trace(lambda x: x * 2.0, x=1.0)), alt="double")
        ...     assert markup.startswith('<svg ') and 'aria-label="double"' in markup
    """
    root = ET.fromstring(svg_text)
    _size(root)
    root.set("class", SVG_CLASS)
    root.set("role", "img")
    if alt:
        root.set("aria-label", alt)
    for group in root.iter(f"{{{SVG_NS}}}g"):
        kind = group.get("class")
        if kind == "graph":
            _page(group, alt)
        elif kind == "edge":
            _edge(group)
        elif kind == "cluster":
            _cluster(group)
        elif kind == "node":
            _round_corners(group)
        if kind in ("node", "edge", "cluster"):
            _tooltip(group)
    _unwrap_links(root)
    for element in root.iter():
        if element.get("id"):
            element.set("id", DEFAULT_ID_PREFIX + element.get("id"))
    css = ET.Element(f"{{{SVG_NS}}}style")
    css.text = theme_css()
    root.insert(0, css)
    root.set("xmlns", SVG_NS)
    return with_id_prefix("".join(_markup(root)), id_prefix)


def with_id_prefix(markup: str, prefix: str) -> str:
    """``markup`` from :func:`inline_svg` with its ids (and references to them)
    starting with ``prefix`` instead of the default ``tg-``.

    Example:
        >>> with_id_prefix('<g id="tg-node1"/><use href="#tg-node1"/>', "doc-3-")
        '<g id="doc-3-node1"/><use href="#doc-3-node1"/>'
    """
    if prefix == DEFAULT_ID_PREFIX:
        return markup
    if not re.fullmatch(r"[A-Za-z][\w.-]*", prefix):
        raise ValueError(f"id prefix {prefix!r} must be a letter followed by letters, digits, "
                         "'-', '_' or '.'")
    return _ID_REFERENCE.sub(lambda m: m.group(1) + prefix, markup)


def html_block(markup: str, *, css_class: str = "") -> str:
    """The wrapper an inline diagram sits in: it scrolls sideways when the column is
    narrower than the diagram at :data:`MIN_SCALE`, so nothing is ever cropped.

    Example:
        >>> html_block("<svg/>")
        '<div class="tracegraph-diagram" style="overflow-x:auto"><svg/></div>'
    """
    classes = " ".join(filter(None, (WRAPPER_CLASS, css_class)))
    return f'<div class="{classes}" style="overflow-x:auto">{markup}</div>'


def unique_id_prefix(content: str) -> str:
    """An id prefix for one more diagram on a page this process makes (a notebook):
    a counter, and a hash of the content so outputs kept from an earlier session differ.

    Example:
        >>> first, second = unique_id_prefix("<svg/>"), unique_id_prefix("<svg/>")
        >>> first != second and first.startswith("tg") and first.endswith("-")
        True
    """
    return f"tg{hashlib.sha256(content.encode('utf-8')).hexdigest()[:6]}-{next(_serials)}-"


# --------------------------------------------------------------------------- the parts


def _size(root: ET.Element) -> None:
    """Pixels instead of points; the CSS lets the picture shrink to the column, down to
    MIN_SCALE."""
    width = _points(root.attrib.pop("width", ""))
    height = _points(root.attrib.pop("height", ""))
    if width is None or height is None:
        root.set("style", "max-width:100%;height:auto")
        return
    pixels_wide, pixels_high = round(width * PX_PER_PT), round(height * PX_PER_PT)
    root.set("width", str(pixels_wide))
    root.set("height", str(pixels_high))
    root.set("style", f"max-width:100%;height:auto;min-width:{round(pixels_wide * MIN_SCALE)}px")


def _points(text: str) -> float | None:
    match = _SIZE.fullmatch(text.strip())
    return float(match.group(1)) if match else None


def _page(group: ET.Element, alt: str) -> None:
    """The graph's own layer: a transparent background; title and notes in the page's
    colours."""
    for child in group:
        tag = _tag(child)
        if tag == "title" and alt:
            child.text = alt
        elif tag == "polygon" and child.get("fill") == "white":
            child.set("fill", "none")
        elif tag == "text":
            _text_on_page(child)


def _edge(group: ET.Element) -> None:
    """An edge's line, arrowhead, label and label connector, unless a mark or a NaN gave
    it a colour of its own."""
    for element in group.iter():
        tag = _tag(element)
        stroke = element.get("stroke")
        if tag == "text":
            _text_on_page(element)
            if "class" not in element.attrib:
                _mark_label(element)
        elif tag == "polyline" and stroke == "black":  # the line from a label to its edge
            _add_class(element, "tg-line")
        elif stroke == style.EDGE_COLOUR:
            _add_class(element, "tg-arrow" if tag == "polygon" else "tg-line")
        elif stroke == style.CONSTANT_EDGE_COLOUR:
            _add_class(element, "tg-faint-arrow" if tag == "polygon" else "tg-faint")


def _cluster(group: ET.Element) -> None:
    for child in group:
        tag = _tag(child)
        if tag in ("path", "polygon") and child.get("fill") == style.CLUSTER_FILL:
            _add_class(child, "tg-area")
        elif tag == "text":
            _text_on_page(child)


def _round_corners(group: ET.Element) -> None:
    """Clip a rounded box's square title cells to its outline: their corners would
    otherwise show on a dark page (on white they are invisible)."""
    for parent in group.iter():
        shapes = [child for child in parent if _tag(child) in ("path", "polygon")]
        if not shapes:
            continue
        outline = shapes[0]
        if _tag(outline) != "path" or outline.get("fill") in (None, "none"):
            return
        clip_id = f"clip-{group.get('id')}"
        clip = ET.Element(f"{{{SVG_NS}}}clipPath", {"id": clip_id})
        ET.SubElement(clip, f"{{{SVG_NS}}}path", {"d": outline.get("d", "")})
        parent.insert(list(parent).index(outline), clip)
        for shape in shapes[1:]:
            if _tag(shape) == "polygon":
                shape.set("clip-path", f"url(#{DEFAULT_ID_PREFIX}{clip_id})")
        return


def _text_on_page(text: ET.Element) -> None:
    fill = text.get("fill")
    if fill is None or fill == "black":
        _add_class(text, "tg-ink")
    elif fill == style.MUTED:
        _add_class(text, "tg-muted")


def _mark_label(text: ET.Element) -> None:
    """A label in a mark's colour: that colour mixed with the page's text colour.  The
    ``fill`` attribute stays for a browser without ``color-mix`` (it ignores the style)."""
    fill = text.get("fill")
    if fill:
        text.set("style", f"fill:color-mix(in srgb,{fill} {MARK_INK_SHARE}%,"
                          "var(--tracegraph-ink,currentColor))")


def _tooltip(group: ET.Element) -> None:
    """The first tooltip inside ``group`` becomes the group's ``<title>`` (the node id
    Graphviz puts there says less)."""
    tooltip = next((e.get(XLINK_TITLE) for e in group.iter() if e.get(XLINK_TITLE)), None)
    title = next((child for child in group if _tag(child) == "title"), None)
    if tooltip is None or title is None:
        return
    title.text = tooltip


def _markup(element: ET.Element) -> list[str]:
    """``element`` as XML text without namespace prefixes (every element here is SVG)."""
    parts = ["<" + _tag(element)]
    parts += [f' {_local(key)}="{value.translate(_ATTRIBUTE)}"'
              for key, value in element.attrib.items()]
    children = list(element)
    if not children and not element.text:
        parts.append("/>")
    else:
        parts.append(">" + (element.text or "").translate(_TEXT))
        for child in children:
            parts += _markup(child)
        parts.append(f"</{_tag(element)}>")
    if element.tail:
        parts.append(element.tail.translate(_TEXT))
    return parts


def _unwrap_links(root: ET.Element) -> None:
    """Graphviz wraps shapes in ``<a>`` only to carry tooltips; now that ``<title>`` does,
    the links go, or a page's link style (colour, underline) would restyle the drawing."""
    parents = [parent for parent in root.iter() if any(_tag(c) == "a" for c in parent)]
    for parent in parents:
        for position in reversed(range(len(parent))):
            link = parent[position]
            if _tag(link) == "a":
                parent.remove(link)
                for offset, child in enumerate(list(link)):
                    parent.insert(position + offset, child)


def _add_class(element: ET.Element, name: str) -> None:
    classes = element.get("class")
    element.set("class", f"{classes} {name}" if classes else name)


def _tag(element: ET.Element) -> str:
    return _local(element.tag)


def _local(name: str) -> str:
    """A tag or attribute name without its namespace (``{...svg}path`` → ``path``)."""
    return name.rpartition("}")[2]
