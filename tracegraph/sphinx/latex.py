"""LaTeX with the default pdflatex engine: the characters tracegraph's text uses.

Formulas and tables are written with ∂, −, σ, ‖·‖, superscripts and arrows, which
pdflatex's ``inputenc`` does not know; the extension declares them (as math)
in the preamble, so ``make latexpdf`` works without switching to xelatex.
"""

from __future__ import annotations

from typing import Any

_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-"))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉ᵢⱼ", "0123456789ij"))

PDFLATEX_CHARACTERS: dict[str, str] = {
    "∂": r"\ensuremath{\partial}", "−": r"\ensuremath{-}", "Σ": r"\ensuremath{\Sigma}",
    "δ": r"\ensuremath{\delta}", "σ": r"\ensuremath{\sigma}", "ḡ": r"\ensuremath{\bar{g}}",
    "‖": r"\ensuremath{\|}", "′": r"\ensuremath{'}", "ᵀ": r"\ensuremath{^{\mathsf{T}}}",
    "√": r"\ensuremath{\surd}", "∛": r"\ensuremath{\sqrt[3]{\;}}",
    "≈": r"\ensuremath{\approx}", "≤": r"\ensuremath{\leq}",
    "←": r"\ensuremath{\leftarrow}", "→": r"\ensuremath{\rightarrow}",
    "↳": r"\ensuremath{\hookrightarrow}", "∄": r"\ensuremath{\nexists}",
    "✓": r"\ensuremath{\checkmark}", "✗": r"\ensuremath{\times}", "⚠": r"\textbf{!}",
    "⧵": r"\textbackslash{}",
    **{c: rf"\ensuremath{{^{{{d}}}}}" for c, d in _SUPERSCRIPTS.items() if c not in "¹²³"},
    **{c: rf"\ensuremath{{_{{{d}}}}}" for c, d in _SUBSCRIPTS.items()},
}


def pdflatex_preamble() -> str:
    r"""The ``\DeclareUnicodeCharacter`` lines for :data:`PDFLATEX_CHARACTERS`.

    Example:
        >>> print(pdflatex_preamble().splitlines()[1])
          \DeclareUnicodeCharacter{2202}{\ensuremath{\partial}}
    """
    lines = [rf"  \DeclareUnicodeCharacter{{{ord(c):04X}}}{{{tex}}}"
             for c, tex in PDFLATEX_CHARACTERS.items()]
    return "\\ifdefined\\DeclareUnicodeCharacter\n" + "\n".join(lines) + "\n\\fi\n"


def declare_characters(app: Any, config: Any) -> None:
    """``config-inited``: add the declarations to ``latex_elements["preamble"]`` when the
    engine is pdflatex (xelatex and lualatex read Unicode themselves).

    Example:
        >>> from types import SimpleNamespace
        >>> config = SimpleNamespace(latex_engine="pdflatex", latex_elements={"papersize": "a4"})
        >>> declare_characters(None, config)
        >>> sorted(config.latex_elements), config.latex_elements["preamble"].splitlines()[1]
        (['papersize', 'preamble'], '% tracegraph')
    """
    if config.latex_engine != "pdflatex":
        return
    elements = dict(config.latex_elements)
    elements["preamble"] = elements.get("preamble", "") + "\n% tracegraph\n" + (
        pdflatex_preamble())
    config.latex_elements = elements
