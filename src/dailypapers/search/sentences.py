"""An abstract's sentences: what sentence-level matching embeds, aligns and shows as a reason.

A plain rule-based splitter (no model, no download): a sentence ends at ``.``, ``?`` or ``!``
followed by a space and a capital letter, digit, quote or bracket, except after the abbreviations
abstracts use (``e.g.``, ``i.e.``, ``et al.``, ``Fig.``, ``vs.``...), a single initial (``J. Smith``)
or a number's decimal point. Fragments shorter than ``MIN_CHARS`` join the sentence before them,
and at most ``MAX_SENTENCES`` are kept (the rest join the last), so a paper never costs more than a
bounded number of vectors. The split is a pure function of the text, so its content hash decides
when sentence vectors are stale, as for the whole-abstract vector.
"""

from __future__ import annotations

import hashlib
import re

#: A sentence shorter than this joins the previous one ("Code: github.com/x." is not a finding).
MIN_CHARS = 25
#: At most this many sentences (vectors) per paper; longer abstracts merge their tail.
MAX_SENTENCES = 16
#: Bumped when the split or the row layout changes, so stored sentence vectors are recomputed
#: (2: the title's vector is the row's first, ``paper_items``).
SPLIT_VERSION = 2

_ABBREVIATIONS = frozenset("""
e.g i.e et al etc cf vs fig figs eq eqs sec resp approx no nos ref refs dr mr ms prof st jr sr
viz ca al tab
""".split())
_BOUNDARY = re.compile(r"(?<=[.?!])[\"'”)\]]?\s+(?=[\"'“(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (whitespace collapsed), in order; ``[]`` for an empty text."""
    text = " ".join(text.split())
    if not text:
        return []
    out: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        piece = text[start:match.start()].strip()
        if not piece or _continues(piece):
            continue
        out.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    merged: list[str] = []
    for sentence in out:
        if merged and (len(sentence) < MIN_CHARS or len(merged[-1]) < MIN_CHARS):
            merged[-1] = f"{merged[-1]} {sentence}"
        else:
            merged.append(sentence)
    if len(merged) > MAX_SENTENCES:
        merged[MAX_SENTENCES - 1:] = [" ".join(merged[MAX_SENTENCES - 1:])]
    return merged


def _continues(piece: str) -> bool:
    """Whether the text up to a candidate boundary ends in an abbreviation or an initial."""
    last = piece.rsplit(" ", 1)[-1].rstrip(".?!").lstrip("(\"'[").lower()
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha() and piece.endswith("."))


def paper_sentences(title: str, abstract: str) -> list[str]:
    """What a paper is matched by sentence: its abstract's sentences (the title is in the
    whole-abstract vector already; a paper with no abstract is its title alone)."""
    sentences = split_sentences(abstract)
    return sentences or ([" ".join(title.split())] if title.strip() else [])


def paper_items(title: str, abstract: str) -> list[str]:
    """What a paper's ``sentence_embeddings`` row holds, in order: its title (``""`` when it has
    none: stored as a zero vector), then ``paper_sentences``; ``[]`` for a paper with neither.
    The title's own vector is a fourth similar-papers score (``alignment.fuse_similar``)."""
    sentences = paper_sentences(title, abstract)
    return [" ".join(title.split()), *sentences] if sentences else []


def sentences_hash(sentences: list[str]) -> str:
    """SHA-256 of the split (and its version): the sentence vectors are recomputed exactly when
    it changes."""
    return hashlib.sha256("\0".join([f"v{SPLIT_VERSION}", *sentences]).encode("utf-8")).hexdigest()
