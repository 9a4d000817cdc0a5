"""What a "term" is: the tantivy analyzers used to index and to query, and the highlighter.

Indexing, querying and highlighting must agree on terms (``Gated`` and ``gates`` are both the
stem ``gate``), so all three go through the analyzers built here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tantivy import Filter, TextAnalyzer, TextAnalyzerBuilder, Tokenizer

TEXT = "dp_text"  # titles and abstracts: lowercased, ASCII-folded, English-stemmed
NAMES = "dp_names"  # author names: lowercased and ASCII-folded, never stemmed

# tantivy's simple tokenizer splits on anything that is not alphanumeric; so does this pattern.
WORD = re.compile(r"[^\W_]+")

# Words too common in paper abstracts to rank by: dropped from OR-queries (never from phrases).
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers him his how i if in into is it its itself just may me might more
most my no nor not now of off on once only or other our ours out over own same she should so some
such than that the their theirs them then there these they this those through to too under until
up upon very via was we were what when where which while who whom why will with would you your
""".split())


def _builder(stem: bool) -> TextAnalyzer:
    builder = (TextAnalyzerBuilder(Tokenizer.simple()).filter(Filter.remove_long(40))
               .filter(Filter.lowercase()).filter(Filter.ascii_fold()))
    if stem:
        builder = builder.filter(Filter.stemmer("english"))
    return builder.build()


@dataclass
class Analyzers:
    """The two analyzers, plus a cache of single-word analyses for highlighting."""

    text: TextAnalyzer = field(default_factory=lambda: _builder(stem=True))
    names: TextAnalyzer = field(default_factory=lambda: _builder(stem=False))
    _word_cache: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def terms(self, text: str) -> list[str]:
        return list(self.text.analyze(text))

    def name_terms(self, text: str) -> list[str]:
        return list(self.names.analyze(text))

    def word_terms(self, word: str) -> tuple[str, ...]:
        found = self._word_cache.get(word)
        if found is None:
            found = tuple(self.text.analyze(word))
            if len(self._word_cache) < 100_000:
                self._word_cache[word] = found
        return found

    def first_match(self, text: str, terms: Iterable[str]) -> int | None:
        """Offset of the first word of ``text`` whose term is in ``terms``."""
        return Highlighter(self, terms).first_match(text)

    def highlight(self, text: str, terms: Iterable[str]) -> str:
        """``text`` as HTML: every character escaped, words whose term is in ``terms`` in ``<mark>``.

        Neighbouring marked words (separated by spaces only) share one ``<mark>``.
        """
        return Highlighter(self, terms).highlight(text)


class Highlighter:
    """``Analyzers.highlight`` for one query's terms over many texts (a page of results).

    A text is analysed in one call (not word by word), and a text's spans serve both its highlight
    and its first match: a page of 20 abstracts is ~4,000 words, and this pass took ~5 ms of a
    search at 1M papers when every word went through the analyzer's cache and an ``any`` over its
    terms, three times per abstract (bench/search_latency.py, end to end).
    """

    def __init__(self, analyzers: Analyzers, terms: Iterable[str]) -> None:
        self._analyzers = analyzers
        self._wanted = frozenset(terms)
        self._seen: dict[str, bool] = {}

    def _hit(self, word: str) -> bool:
        hit = self._seen.get(word)
        if hit is None:
            hit = self._seen[word] = not self._wanted.isdisjoint(self._analyzers.word_terms(word))
        return hit

    def spans(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` of the marked stretches of ``text``: matching words, neighbours joined."""
        if not self._wanted:
            return []
        words = list(WORD.finditer(text))
        terms = self._analyzers.terms(text)  # the whole text in one call: one term per word, in order
        if len(terms) == len(words):
            hits = [m for m, term in zip(words, terms, strict=True) if term in self._wanted]
        else:  # a word the analyzer drops (over 40 bytes) or splits: look at each word alone
            seen = self._seen
            hits = [m for m in words if seen.get(m.group(), None) or self._hit(m.group())]
        spans: list[tuple[int, int]] = []
        for match in hits:
            start, end = match.span()
            if spans and text[spans[-1][1]:start].strip(" ") == "":
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        return spans

    def first_match(self, text: str, spans: list[tuple[int, int]] | None = None) -> int | None:
        found = self.spans(text) if spans is None else spans
        return found[0][0] if found else None

    def highlight(self, text: str, spans: list[tuple[int, int]] | None = None) -> str:
        out: list[str] = []
        last = 0
        for start, end in self.spans(text) if spans is None else spans:
            out.append(html.escape(text[last:start]))
            out.append(f"<mark>{html.escape(text[start:end])}</mark>")
            last = end
        out.append(html.escape(text[last:]))
        return "".join(out)


def window(text: str, first_match: int | None, *, width: int = 320) -> str:
    """About ``width`` characters of plain ``text`` around ``first_match``, cut at spaces, with "…"."""
    if len(text) <= width:
        return text
    start = 0 if first_match is None or first_match < width // 3 else first_match - width // 3
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first_match else start  # type: ignore[operator]
    end = start + width
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return ("… " if start else "") + text[start:end].strip() + (" …" if end < len(text) else "")
