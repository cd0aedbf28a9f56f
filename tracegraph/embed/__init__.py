"""Diagrams in documentation, whatever builds it: what the Sphinx extension
(:mod:`tracegraph.sphinx`) and the Markdown fence (:mod:`tracegraph.markdown`)
share.

- :mod:`.options`: the options, spelled and meant as ``tracegraph render``'s.
- :mod:`.drawing`: trace, check and draw an expression file or inline code.
- :mod:`.table`: the chain-rule table (``tracegraph explain`` as data).
- :mod:`.cache`: the content-addressed cache, and the files a trace reads.

Nothing here imports Sphinx, docutils or Markdown.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "square.py"
    >>> _ = path.write_text("x = 3.0\\ny = x * x\\n")
    >>> drawing = draw(Source.file(path), parse_options({"show": "grads"}), cache=Cache(None),
    ...                image=None)
    >>> drawing.table.rows[0][4]
    '6'
"""

from .cache import Cache, fingerprint, recording_reads
from .drawing import Drawing, DrawingError, Problem, Source, draw
from .options import OPTION_NAMES, EmbedOptionError, EmbedOptions, parse_options
from ..table import ChainRuleTable, chain_rule_table

__all__ = [
    "Cache", "ChainRuleTable", "Drawing", "DrawingError", "EmbedOptionError", "EmbedOptions",
    "OPTION_NAMES", "Problem", "Source", "chain_rule_table", "draw", "fingerprint",
    "parse_options", "recording_reads",
]
