"""arXiv's own metadata record → ``PaperRecord``: what the metadata snapshot (JSON Lines) and
OAI-PMH ``arXivRaw`` (XML) both carry.

Both formats describe a paper by its id, its version list (``v1`` … ``vN`` with RFC 2822 dates),
the raw author string, space-separated categories (primary first), comments and abstract, so one
mapping serves both. Versions collapse as everywhere else: ``published_at`` is v1's date,
``updated_at`` and ``version`` the latest's; a withdrawal (a notice opening the comment or the
abstract of a later version) sets ``withdrawn_at`` to that version's date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from dailypapers.sources.arxiv import GITHUB, is_withdrawal_notice
from dailypapers.sources.records import (
    PaperRecord,
    RecordError,
    collapse_ws,
    parse_arxiv_id,
)

_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
# "C. Balázs (CERN), E. L. Berger and P. Nadolsky" → names: affiliations in parentheses dropped,
# split on commas and on a final "and".
_AFFILIATION = re.compile(r"\([^()]*\)")
_AUTHOR_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")


def parse_version_date(text: str) -> dt.datetime:
    """``Mon, 2 Apr 2007 19:18:42 GMT`` → naive UTC. Hand-split: ``strptime`` costs ~10x more,
    and a million-record snapshot parses ~2 million of these."""
    try:
        _, day, month, year, clock, _zone = text.split()
        hour, minute, second = clock.split(":")
        return dt.datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second))
    except (ValueError, KeyError) as exc:
        raise RecordError(f"bad version date {text[:40]!r}") from exc


def split_authors(raw: str) -> list[str]:
    """The authors of arXiv's raw author string, in order."""
    text = collapse_ws(_AFFILIATION.sub(" ", raw))
    return [name for part in _AUTHOR_SPLIT.split(text) if (name := part.strip(" ,;"))]


def metadata_record(
    *,
    raw_id: str,
    title: str,
    abstract: str,
    versions: Sequence[tuple[int, dt.datetime]],
    authors: Iterable[str],
    categories: str,
    comments: str,
) -> PaperRecord:
    """One arXiv metadata record → a record. ``versions`` are (number, date) in any order."""
    arxiv_id, _ = parse_arxiv_id(raw_id)
    title = collapse_ws(title)
    if not title:
        raise RecordError(f"paper {arxiv_id} has no title")
    if not versions:
        raise RecordError(f"paper {arxiv_id} has no versions")
    ordered = sorted(versions)
    latest, updated = ordered[-1]
    abstract = collapse_ws(abstract)
    comments = collapse_ws(comments)
    withdrawn = latest > 1 and (is_withdrawal_notice(comments) or is_withdrawal_notice(abstract))
    code = GITHUB.search(f"{comments} {abstract}") if "github.com" in f"{comments}{abstract}" else None
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=latest,
        title=title,
        abstract=abstract,
        authors=list(authors),
        categories=list(dict.fromkeys(categories.split())),
        published_at=ordered[0][1],
        updated_at=updated,
        withdrawn_at=updated if withdrawn else None,
        github_repo=code.group(0).rstrip(".") if code else None,
    )


def version_number(label: str) -> int:
    """``v3`` → 3."""
    if len(label) < 2 or label[0] not in "vV" or not label[1:].isdigit():
        raise RecordError(f"bad version {label[:20]!r}")
    return int(label[1:])
