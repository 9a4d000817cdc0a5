"""Jinja filters that turn stored text into readable, escaped HTML.

Titles and abstracts keep their LaTeX as the source wrote it (``PanGu-$π$``,
``$\\mathcal{O}(n^2)$``). ``readable_math`` shows inline math the way a reader expects without
any JavaScript: the dollar signs go, common commands become their Unicode symbols, ``^``/``_``
become superscripts/subscripts, and the result sits in ``<span class="math">``. Everything is
escaped first, so text can never inject markup.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from jinja2.filters import do_urlencode
from markupsafe import Markup, escape

# Pandoc's rule for inline math: the opening $ has a non-space right after it, the closing $ a
# non-space right before it and no digit after it ("costs $5 and $10" is not math).
_MATH = re.compile(r"(?<![\\$])\$\$(?P<display>[^$]{1,400}?)\$\$"
                   r"|(?<![\\$])\$(?P<inline>[^\s$](?:[^$]{0,300}?[^\s\\$])?)\$(?!\d)")
_WRAPPERS = re.compile(
    r"\\(?:mathbf|mathrm|mathit|mathsf|mathtt|mathcal|mathbb|mathfrak|boldsymbol|text|textbf|"
    r"textit|texttt|emph|operatorname|bm|hat|tilde|bar|vec|overline|underline|widetilde|widehat)"
    r"\s*\{([^{}]*)\}")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_SCRIPT = re.compile(r"([\^_])(?:\{([^{}]*)\}|(\\[A-Za-z]+|.))")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "ϕ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "times": "×", "cdot": "·", "cdots": "⋯", "ldots": "…",
    "dots": "…", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠",
    "approx": "≈", "sim": "∼", "simeq": "≃", "equiv": "≡", "propto": "∝", "infty": "∞",
    "rightarrow": "→", "to": "→", "leftarrow": "←", "Rightarrow": "⇒", "leftrightarrow": "↔",
    "mapsto": "↦", "pm": "±", "mp": "∓", "sum": "∑", "prod": "∏", "int": "∫", "in": "∈",
    "notin": "∉", "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩", "forall": "∀",
    "exists": "∃", "partial": "∂", "nabla": "∇", "ell": "ℓ", "log": "log", "exp": "exp",
    "max": "max", "min": "min", "arg": "arg", "sqrt": "√", "circ": "∘", "star": "⋆",
    "otimes": "⊗", "oplus": "⊕", "top": "⊤", "perp": "⊥", "langle": "⟨", "rangle": "⟩",
    "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "mid": "∣", "neg": "¬",
    "wedge": "∧", "vee": "∨", "emptyset": "∅", "varnothing": "∅", "times10": "×10",
    "left": "", "right": "", "big": "", "Big": "", "quad": " ", "qquad": "  ",
}
_SPACING = {r"\,": " ", r"\;": " ", r"\:": " ", r"\!": "", r"\%": "%", r"\{": "{", r"\}": "}",
            r"\_": "_", r"\&": "&", r"\#": "#", "~": " "}


def _group(part: str) -> str:
    return part if re.fullmatch(r"[\w.]+", part) else f"({part})"


def _plain(tex: str) -> str:
    """Math source → readable plain text (scripts still marked with ^ and _)."""
    for source, target in _SPACING.items():
        tex = tex.replace(source, target)
    for _ in range(3):  # nested wrappers, e.g. \mathbf{\hat{x}}
        tex = _WRAPPERS.sub(r"\1", tex)
    tex = _FRAC.sub(lambda m: f"{_group(m.group(1))}/{_group(m.group(2))}", tex)
    tex = _SQRT.sub(r"√(\1)", tex)
    return tex


def _symbols(text: str) -> str:
    return _COMMAND.sub(lambda m: SYMBOLS.get(m.group(1), m.group(1)), text)


def _math_html(tex: str) -> Markup:
    text = _plain(tex)
    parts: list[str] = []
    last = 0
    for match in _SCRIPT.finditer(text):
        parts.append(str(escape(_symbols(text[last:match.start()]).replace("{", "").replace("}", ""))))
        tag = "sup" if match.group(1) == "^" else "sub"
        inner = match.group(2) if match.group(2) is not None else match.group(3)
        inner = _symbols(inner).replace("{", "").replace("}", "")
        parts.append(f"<{tag}>{escape(inner)}</{tag}>")
        last = match.end()
    parts.append(str(escape(_symbols(text[last:]).replace("{", "").replace("}", ""))))
    return Markup('<span class="math">' + "".join(parts) + "</span>")


@functools.lru_cache(maxsize=8192)
def readable_math(text: str | None) -> Markup:
    """Escaped HTML of ``text`` with its ``$…$`` math shown readably (see the module docstring).

    Cached: the same titles and abstracts are rendered on many pages.
    """
    if not text:
        return Markup("")
    if "$" not in text:  # most abstracts: skip the regex scan
        return escape(text)
    out: list[str] = []
    last = 0
    for match in _MATH.finditer(text):
        out.append(str(escape(text[last:match.start()])))
        out.append(str(_math_html(match.group("display") or match.group("inline"))))
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def strip_math(text: str | None) -> str:
    """Plain-text version of ``readable_math`` (for <title>, feeds and alt text)."""
    if not text:
        return ""
    if "$" not in text:  # every match needs a "$": most titles and abstracts skip the regex scan
        return text
    def plain(match: re.Match[str]) -> str:
        tex = _plain(match.group("display") or match.group("inline"))
        return _symbols(tex).replace("{", "").replace("}", "")
    return _MATH.sub(plain, text)


def long_date(value: dt.date | dt.datetime | None) -> str:
    """``May 10, 2025``."""
    return value.strftime("%b %-d, %Y") if value is not None else ""


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 author`` / ``13 authors``."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


# A web address in an abstract: http(s) URLs and bare github.com/huggingface.co paths. Trailing
# sentence punctuation is not part of it, nor a LaTeX "{text}" that seed pages glue to links.
_URL = re.compile(r"(?:https?://|(?<![\w/.])(?:github\.com|huggingface\.co)/)[^\s<>\"'{}]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]'\""


def _link(match: re.Match[str]) -> str:
    url = match.group(0)
    tail = ""
    while url and url[-1] in _TRAILING and not (url[-1] == ")" and url.count("(") >= url.count(")")):
        url, tail = url[:-1], url[-1] + tail
    href = url if url.lower().startswith("http") else f"https://{url}"
    return (f'<a href="{escape(href)}" rel="nofollow noopener ugc">{escape(url)}</a>{escape(tail)}')


def _linked_text(text: str) -> str:
    """Escaped ``text`` (no math in it) with its web addresses as links."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(str(escape(text[last:match.start()])))
        out.append(_link(match))
        last = match.end()
    out.append(str(escape(text[last:])))
    return "".join(out)


@functools.lru_cache(maxsize=2048)
def linked_abstract(text: str | None) -> Markup:
    """``readable_math`` with the web addresses of the text made into links (paper pages)."""
    if not text:
        return Markup("")
    out: list[str] = []
    last = 0
    for match in (_MATH.finditer(text) if "$" in text else ()):
        out.append(_linked_text(text[last:match.start()]))
        out.append(str(_math_html(match.group("display") or match.group("inline"))))
        last = match.end()
    out.append(_linked_text(text[last:]))
    return Markup("".join(out))


def compact_number(value: int | None) -> str:
    """``1234`` → ``1.2k``, ``15300`` → ``15.3k`` (GitHub stars on cards, as hf.co shows them)."""
    if value is None:
        return ""
    if value < 1000:
        return str(value)
    if value < 1_000_000:
        return f"{value / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"


@functools.lru_cache(maxsize=4096)
def _urlencode_text(value: str) -> str:
    return do_urlencode(value)


def urlencode(value: object) -> str:
    """Jinja's ``urlencode``, cached for strings (organization handles repeat on every card)."""
    return _urlencode_text(value) if isinstance(value, str) else do_urlencode(value)  # type: ignore[arg-type]
