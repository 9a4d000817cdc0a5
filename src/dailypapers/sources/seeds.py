"""Parser for the text of a Daily Papers search-result page (the format of ``shared/seeds/*.txt``).

The day at the top of a page ("Nov 20") is the day the page was viewed, not a featured day: a card
is a catalog paper, featured (marked as estimated) on its own date when no source featured it.

A page is blocks separated by blank lines: a boilerplate header, the day ("Nov 20"), then cards of
title, abstract and a meta block ("  • 13 authors" or "SakanaAI Sakana AI", then "·", then the
published date with the upvote count after it when non-zero). Some cards have no meta block at
all; the next card's title then follows the abstract directly.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from dailypapers.sources.records import Org, PaperRecord, Rejected, collapse_ws, seed_key

_DATE = r"(?P<mon>[A-Z][a-z]{2}) (?P<day>\d{1,2})(?:, (?P<year>\d{4}))?"
DATE_LINE = re.compile(rf"^{_DATE}(?: (?P<upvotes>\d+))?$")
AUTHORS_LINE = re.compile(r"^•\s*(?P<n>\d+)\s+authors?$")
BOILERPLATE = {
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
    "by AK and the research community",
}
MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)}


@dataclass
class _Block:
    line: int
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class _Meta:
    num_authors: int | None = None
    org: Org | None = None
    date: dt.date | None = None
    upvotes: int | None = None


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    current: _Block | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            current = None
            continue
        if current is None:
            current = _Block(number, [])
            blocks.append(current)
        current.lines.append(line)
    return blocks


def _date(line: str, year: int) -> tuple[dt.date, int | None] | None:
    match = DATE_LINE.match(line)
    if not match or match.group("mon") not in MONTHS:
        return None
    try:
        day = dt.date(int(match.group("year") or year), MONTHS[match.group("mon")], int(match.group("day")))
    except ValueError:
        return None
    upvotes = int(match.group("upvotes")) if match.group("upvotes") else None
    return day, upvotes


def _meta(block: _Block, year: int) -> _Meta | None:
    """A meta block, a lone "·" or a lone date; ``None`` when the block is ordinary text."""
    lines = block.lines
    if "·" not in lines and not (len(lines) == 1 and _date(lines[0], year)):
        return None
    meta = _Meta()
    for line in lines:
        if line == "·":
            continue
        if (authors := AUTHORS_LINE.match(line)) is not None:
            meta.num_authors = int(authors.group("n"))
        elif (date := _date(line, year)) is not None:
            meta.date, meta.upvotes = date
        elif len(parts := line.split(" ", 1)) == 2 and re.fullmatch(r"[\w.\-]+", parts[0]):
            meta.org = Org(handle=parts[0], name=parts[1].strip())
        else:
            return None
    return meta


def parse_seed_page(
    text: str, *, year: int, source: str = "<page>"
) -> tuple[list[PaperRecord], list[Rejected]]:
    """Parse one page; dates without a year belong to ``year``. Returns records and rejected blocks."""
    records: list[PaperRecord] = []
    rejected: list[Rejected] = []
    day: dt.date | None = None
    pending: list[_Block] = []  # title, then abstract, of the card being read

    def close(meta: _Meta | None) -> None:
        title_block, abstract_block = pending[0], pending[1] if len(pending) > 1 else None
        title = collapse_ws(title_block.text)
        record = PaperRecord(
            title=title,
            key=seed_key(title),
            abstract=collapse_ws(abstract_block.text) if abstract_block else "",
        )
        if meta is not None:
            record.num_authors = meta.num_authors
            record.organization = meta.org
            record.upvotes = meta.upvotes if meta.upvotes is not None else 0
            if meta.date:
                record.published_at = dt.datetime.combine(meta.date, dt.time())
                # The page is search results: its header is the day it was viewed, not a day its
                # cards were featured. The card's own date is the best guess there is, marked so
                # that a day a source really featured the paper on always wins.
                record.featured_on = meta.date
                record.featured_estimated = True
        if day is None:
            rejected.append(Rejected(source, title_block.line, "card before the page's date header"))
        else:
            records.append(record)
        pending.clear()

    for block in _blocks(text):
        if block.text in BOILERPLATE:
            continue
        meta = _meta(block, year)
        if meta is not None:
            lone_date = meta.date and meta.num_authors is None and meta.org is None
            if not pending and lone_date and "·" not in block.lines and not records:
                day = meta.date  # the page's day header ("Nov 20")
            elif len(pending) == 2:
                close(meta)
            elif pending:
                rejected.append(Rejected(source, block.line, "meta line without an abstract before it"))
                pending.clear()
            # A stray "·" or date with no card open carries nothing to import.
            continue
        if len(pending) == 2:
            close(None)  # the previous card had no meta block
        pending.append(block)
    if len(pending) == 2:
        close(None)
    elif pending:
        rejected.append(Rejected(source, pending[0].line, "title without an abstract at end of page"))
    return records, rejected
