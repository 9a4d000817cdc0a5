"""RSS 2.0 and Atom 1.0 feeds of paper cards, written with feedgen (which escapes every string).

``build_feed`` is the one builder for every feed of the site (a day, the latest days, trending,
an organization, a search query): callers choose the cards and their order, the feed keeps it.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]  # ships no py.typed

from dailypapers.services.papers import PaperCard

FeedFormat = Literal["rss", "atom"]
MEDIA_TYPES: dict[FeedFormat, str] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
# Characters XML 1.0 forbids (abstracts occasionally carry stray control codes from PDFs).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class FeedInfo:
    """What a feed says about itself. URLs are absolute (feed readers need them so)."""

    title: str
    description: str
    page_url: str  # the HTML page the feed mirrors
    self_url: str  # this feed's own URL (the RSS or Atom one)


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None else None


def feed_updated(cards: Sequence[PaperCard]) -> dt.datetime:
    """When a feed last changed: its newest item's time (naive UTC; the epoch when empty)."""
    times = [t for c in cards if (t := _utc(c.featured_at or c.published_at)) is not None]
    return max(times, default=_EPOCH).replace(tzinfo=None)


def build_feed(*, info: FeedInfo, cards: Sequence[PaperCard], fmt: FeedFormat, base_url: str,
               notes: Mapping[str, str] | None = None) -> bytes:
    """The feed document (UTF-8 bytes) listing ``cards`` in the given order; ``notes`` (by paper
    key: why the paper is there) open the entries' summaries.

    The feed's updated/lastBuildDate is the newest item time, not the clock, so the same data
    gives the same bytes (and the same ETag).
    """
    base = base_url.rstrip("/")
    fg = FeedGenerator()
    fg.load_extension("dc")
    fg.id(info.self_url)
    fg.title(_xml_text(info.title))
    fg.description(_xml_text(info.description))
    fg.subtitle(_xml_text(info.description))
    fg.link(href=info.page_url, rel="alternate", type="text/html")
    fg.link(href=info.self_url, rel="self")
    fg.language("en")
    fg.generator("dailypapers")
    updated = _utc(feed_updated(cards))
    fg.updated(updated)
    fg.lastBuildDate(updated)
    for card in cards:
        url = f"{base}/papers/{card.key}"
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(_xml_text(card.title))
        entry.link(href=url, rel="alternate", type="text/html")
        text = _xml_text(card.abstract) or _xml_text(card.title)
        if notes and card.key in notes:
            text = f"{_xml_text(notes[card.key])}. {text}"
        if fmt == "rss":
            # RSS readers render <description> as HTML: escape so an abstract shows as text.
            entry.description(html.escape(text, quote=False))
        else:
            entry.summary(text, type="text")
        when = _utc(card.featured_at or card.published_at) or _EPOCH
        entry.updated(when)
        entry.published(when)  # in RSS this is pubDate: when the paper entered the list
        names = [a.name for a in card.authors]
        for name in names:
            # Atom wants <author><name>; RSS <author> must be an e-mail, so names go to dc:creator.
            entry.author(name=_xml_text(name))
        if names:
            entry.dc.dc_creator(_xml_text(", ".join(names)))
        if card.organization is not None:
            entry.category(term=card.organization.handle, label=_xml_text(card.organization.name))
    document: bytes = fg.rss_str(pretty=False) if fmt == "rss" else fg.atom_str(pretty=False)
    return document
