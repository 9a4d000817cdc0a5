"""Reference lists for reference managers: any list of paper cards as BibTeX, RIS or CSL-JSON.

``build_references`` is the one builder for every export of the site (a day, a week, a month,
trending, a search, an organization, an author, one paper): callers choose the cards and their
order, the file keeps it. BibTeX is written by bibtexparser, RIS by rispy; CSL-JSON is the CSL
schema's plain JSON. Papers are arXiv preprints: BibTeX follows arXiv's own ``@misc`` form
(eprint, archivePrefix) and every arXiv paper carries its DataCite DOI ``10.48550/arXiv.<id>``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import rispy  # type: ignore[import-untyped]  # ships no py.typed
from bibtexparser import model
from bibtexparser.entrypoint import write_string
from bibtexparser.library import Library
from pylatexenc.latexencode import (  # type: ignore[import-untyped]  # ships no py.typed
    RULE_REGEX,
    UnicodeToLatexConversionRule,
    UnicodeToLatexEncoder,
)

from dailypapers.services.papers import PaperCard

CitationFormat = Literal["bibtex", "ris", "csl-json"]
MEDIA_TYPES: dict[CitationFormat, str] = {
    "bibtex": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "csl-json": "application/vnd.citationstyles.csl+json; charset=utf-8",
}
FILE_SUFFIXES: dict[CitationFormat, str] = {"bibtex": "bib", "ris": "ris", "csl-json": "csl.json"}

# Lower-case words that start a family name ("Ludwig van Beethoven" → "van Beethoven").
PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos",
                       "du", "la", "le", "ten", "ter", "bin", "al", "el", "zu"})
# Skipped when a citation key takes the first word of a title (as Google Scholar's keys do).
_KEY_STOPWORDS = frozenset({"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "is",
                            "are", "do", "does", "can", "how", "what", "why", "when", "towards",
                            "toward", "via", "from", "by", "at"})
# Math ($...$) stays as written: titles such as "$\pi_0$: ..." are already LaTeX.
_ENCODER = UnicodeToLatexEncoder(conversion_rules=[
    UnicodeToLatexConversionRule(rule_type=RULE_REGEX, rule=[(re.compile(r"(?<!\\)(\$.*[^\\]\$)"), r"\1")]),
    "defaults",
])


@dataclass(frozen=True)
class Name:
    family: str
    given: str


def split_name(full: str) -> Name:
    """A full-name string as family and given names, the simple way (docs/site.md "Exports").

    "Given Family"; a comma means "Family, Given" already; lower-case particles just before the
    last word join the family name ("Ludwig van Beethoven" → "van Beethoven", "Ludwig"). One
    word is a family name alone (a mononym or a team). Suffixes (Jr., III) are not recognised.
    """
    full = " ".join(full.split())
    if "," in full:
        family, _, given = full.partition(",")
        return Name(family=family.strip(), given=given.strip())
    words = full.split(" ")
    start = len(words) - 1
    while start > 1 and words[start - 1] in PARTICLES:
        start -= 1
    return Name(family=" ".join(words[start:]), given=" ".join(words[:start]))


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _year(card: PaperCard) -> int | None:
    if card.published_at is not None:
        return card.published_at.year
    return card.featured_on.year if card.featured_on is not None else None


def _date(card: PaperCard) -> dt.date | None:
    if card.published_at is not None:
        return card.published_at.date()
    return card.featured_on


def _base_key(card: PaperCard) -> str:
    family = split_name(card.authors[0].name).family if card.authors else ""
    surname = _ascii_word(family.split(" ")[-1]) or "anon"
    words = [w for w in (_ascii_word(w) for w in re.split(r"[\s\-:/]+", card.title)) if w]
    first = next((w for w in words if w not in _KEY_STOPWORDS), words[0] if words else "paper")
    year = _year(card)
    return f"{surname}{year if year is not None else 'nd'}{first}"


def citation_keys(cards: Sequence[PaperCard]) -> dict[int, str]:
    """A key per paper id, unique within the list: ``surname + year + first title word``.

    Papers sharing a key get ``a``, ``b``, … in the order of their site keys (arXiv ids), not of
    the list, so a paper's key does not change when the same papers are listed in another order.
    """
    unique = {card.id: card for card in cards}
    bases = {pid: _base_key(card) for pid, card in unique.items()}
    counts = Counter(bases.values())
    keys: dict[int, str] = {}
    taken = set(bases.values())
    for base in sorted(b for b, n in counts.items() if n > 1):
        sharing = sorted((pid for pid, b in bases.items() if b == base), key=lambda p: unique[p].key)
        suffixes = (chr(ord("a") + i) if i < 26 else str(i) for i in range(10_000))
        for pid in sharing:
            candidate = base + next(suffixes)
            while candidate in taken:
                candidate = base + next(suffixes)
            taken.add(candidate)
            keys[pid] = candidate
    return {pid: keys.get(pid, base) for pid, base in bases.items()}


def _balanced(text: str) -> bool:
    # BibTeX counts every brace, escaped or not: a field must open and close as many.
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _unpaired_braces_dropped(text: str) -> str:
    opened: list[int] = []
    drop: set[int] = set()
    for i, char in enumerate(text):
        if char == "{":
            opened.append(i)
        elif char == "}":
            if opened:
                opened.pop()
            else:
                drop.add(i)
    drop.update(opened)
    return "".join(c for i, c in enumerate(text) if i not in drop)


def latex(text: str) -> str:
    """``text`` as a BibTeX field value: LaTeX specials escaped, accents as macros, math kept.

    A brace without a partner can't be written in BibTeX (it counts escaped braces too), so it
    is dropped; everything else reads back the same through bibtexparser's LaTeX decoding.
    """
    encoded: str = _ENCODER.unicode_to_latex(text)
    if not _balanced(encoded):
        encoded = _ENCODER.unicode_to_latex(_unpaired_braces_dropped(text))
    return encoded


def _bibtex_name(name: str) -> str:
    # A name with "and" in it (a team) is braced whole: BibTeX would split it into two authors.
    if re.search(r"\band\b", name, re.IGNORECASE):
        return f"{{{latex(name)}}}"
    parts = split_name(name)
    return f"{latex(parts.family)}, {latex(parts.given)}" if parts.given else latex(parts.family)


class _RisWriter(rispy.RisWriter):  # type: ignore[misc]  # rispy ships no types
    """rispy's writer without its numbered header lines ("1."), which RIS does not define."""

    def set_header(self, count: int) -> str:
        return ""


@dataclass(frozen=True)
class _Ref:
    key: str
    card: PaperCard
    url: str

    @property
    def doi(self) -> str | None:
        return f"10.48550/arXiv.{self.card.arxiv_id}" if self.card.arxiv_id else None


def _bibtex(refs: Sequence[_Ref]) -> str:
    library = Library()
    for ref in refs:
        card = ref.card
        fields = {"title": latex(card.title),
                  "author": " and ".join(_bibtex_name(a.name) for a in card.authors) or None,
                  "year": str(_year(card)) if _year(card) is not None else None,
                  "eprint": card.arxiv_id, "archiveprefix": "arXiv" if card.arxiv_id else None,
                  "doi": ref.doi, "url": ref.url, "abstract": latex(card.abstract) or None}
        library.add(model.Entry("misc", ref.key, [model.Field(k, v) for k, v in fields.items()
                                                  if v is not None]))
    return write_string(library)


def _ris(refs: Sequence[_Ref]) -> str:
    entries: list[dict[str, Any]] = []
    for ref in refs:
        card = ref.card
        names = [split_name(a.name) for a in card.authors]
        entry: dict[str, Any] = {
            # One line per tag: RIS has no continuation lines, so line breaks become spaces.
            "type_of_reference": "JOUR", "id": ref.key, "title": " ".join(card.title.split()),
            "authors": [f"{n.family}, {n.given}" if n.given else n.family for n in names],
            "journal_name": "arXiv" if card.arxiv_id else None, "urls": [ref.url], "doi": ref.doi,
            "abstract": " ".join(card.abstract.split()) or None,
            "note": f"arXiv:{card.arxiv_id}" if card.arxiv_id else None,
        }
        if (day := _date(card)) is not None:
            entry.update(year=str(day.year), date=f"{day.year}/{day.month:02d}/{day.day:02d}/")
        entries.append({k: v for k, v in entry.items() if v not in (None, [], "")})
    text: str = rispy.dumps(entries, implementation=_RisWriter)
    return text


def _csl_json(refs: Sequence[_Ref]) -> bytes:
    items: list[dict[str, Any]] = []
    for ref in refs:
        card = ref.card
        item: dict[str, Any] = {
            "id": ref.key, "type": "article", "title": card.title,
            "author": [{"family": n.family, "given": n.given} if n.given else {"literal": n.family}
                       for n in (split_name(a.name) for a in card.authors)],
            "URL": ref.url,
        }
        if (day := _date(card)) is not None:
            item["issued"] = {"date-parts": [[day.year, day.month, day.day]]}
        if card.arxiv_id:
            item.update(DOI=ref.doi, archive="arXiv", number=card.arxiv_id, note=f"arXiv:{card.arxiv_id}")
        if card.abstract:
            item["abstract"] = card.abstract
        items.append(item)
    return orjson.dumps(items, option=orjson.OPT_INDENT_2) + b"\n"


def build_references(*, cards: Sequence[PaperCard], fmt: CitationFormat, base_url: str) -> bytes:
    """The reference file (UTF-8) of ``cards`` in their order; a paper listed twice appears once.

    Each entry links to its arXiv page, else to its page on this site (``base_url``); the same
    cards give the same bytes.
    """
    base = base_url.rstrip("/")
    keys = citation_keys(cards)
    seen: set[int] = set()
    refs: list[_Ref] = []
    for card in cards:
        if card.id not in seen:
            seen.add(card.id)
            refs.append(_Ref(key=keys[card.id], card=card,
                             url=card.arxiv_url or f"{base}/papers/{card.key}"))
    if fmt == "csl-json":
        return _csl_json(refs)
    return (_bibtex(refs) if fmt == "bibtex" else _ris(refs)).encode()
