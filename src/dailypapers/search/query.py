"""Any text → a structured query. Nothing here can fail: every string has a meaning.

We never hand user text to tantivy's query parser. We read it ourselves:

- ``"exact phrase"`` (a balanced pair of double quotes) is a phrase; an unbalanced quote is ignored
- ``-word`` at the start of a word excludes papers containing it
- ``AND``, ``OR``, ``NOT``, ``NEAR`` in capitals are dropped (BM25 ranks without them), and every
  other character that is not part of a word (``*``, parentheses, emoji, ``:``) separates words
- a query that is exactly an arXiv id (``2312.17276``, ``2312.17276v2``, ``arXiv:2312.17276``)
  or an arxiv.org / hf.co paper URL asks for that paper only; ids inside a longer query
  (new-style ``2312.17276`` and old-style ``hep-th/9901001``) pin those papers first
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dailypapers.sources.records import RecordError, normalize_title, parse_arxiv_id

#: Characters of a query that are read at all (a 10,000-character paste is cut, not refused).
MAX_QUERY_CHARS = 2_000
#: Distinct words and phrases that go into the keyword query.
MAX_TERMS = 48

_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})
_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+")
# New-style (2312.17276) and old-style (hep-th/9901001, math.GT/0309136) ids inside a query.
_ID_IN_TEXT = re.compile(
    r"(?<![\w./-])(\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?![\w.])", re.IGNORECASE)
_HF_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/papers/(?P<id>[^?#\s]+?)/?(?:[?#].*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedQuery:
    """``words``/``phrases``/``excluded`` are raw words (analysis happens in the keyword index)."""

    raw: str
    text: str  # the query as natural text, for the embedding model
    words: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]
    excluded: tuple[str, ...]
    arxiv_ids: tuple[str, ...]  # arXiv ids written in the query (pinned first, in this order)
    is_id_lookup: bool  # the whole query is one arXiv id or paper URL: only that paper is wanted
    title_key: str  # ``normalize_title`` of the query, to pin a paper with exactly this title

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.phrases or self.arxiv_ids)


def arxiv_id_of(text: str) -> str | None:
    """The arXiv id (without version) that ``text`` is, or ``None``."""
    value = text.strip()
    hf = _HF_URL.match(value)
    if hf:
        value = hf.group("id")
    elif re.match(r"(?:www\.|export\.)?arxiv\.org/", value, re.IGNORECASE):
        value = "https://" + value
    if not value or len(value) > 200:
        return None
    try:
        return parse_arxiv_id(value)[0]
    except RecordError:
        return None


def parse_query(raw: str) -> ParsedQuery:
    text = " ".join((raw or "")[:MAX_QUERY_CHARS].split())
    phrases: list[tuple[str, ...]] = []
    rest: list[str] = []
    pos = 0
    for match in _PHRASE.finditer(text):
        rest.append(text[pos:match.start()])
        quoted = tuple(_WORD.findall(match.group(1)))
        if len(quoted) > 1:
            phrases.append(quoted)
        else:
            rest.append(" ".join(quoted))  # a quoted single word is just a word
        pos = match.end()
    rest.append(text[pos:].replace('"', " "))
    words: list[str] = []
    excluded: list[str] = []
    for chunk in " ".join(rest).split():
        if chunk in _OPERATORS:
            continue
        found = _WORD.findall(chunk)
        if chunk.startswith("-") and len(chunk) > 1 and found and chunk[1:2].isalnum():
            excluded.append(found[0])
            words.extend(found[1:])
        else:
            words.extend(found)
    whole = arxiv_id_of(text)
    natural = " ".join(w for w in text.replace('"', " ").split()
                       if w not in _OPERATORS and not (w.startswith("-") and w[1:2].isalnum()))
    return ParsedQuery(
        raw=raw or "",
        text=natural,
        words=tuple(dict.fromkeys(words))[:MAX_TERMS],
        phrases=tuple(dict.fromkeys(phrases))[:MAX_TERMS],
        excluded=tuple(dict.fromkeys(excluded))[:MAX_TERMS],
        arxiv_ids=tuple(dict.fromkeys(([whole] if whole else []) + _ID_IN_TEXT.findall(text)))[:10],
        is_id_lookup=whole is not None,
        title_key=normalize_title(text),
    )
