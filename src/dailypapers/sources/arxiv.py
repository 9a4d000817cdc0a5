"""Parser for responses of the arXiv export API (Atom 1.0 with the ``arxiv:`` extension).

Both shapes arXiv has served are read: the classic one (namespaces declared on each element,
``<title type="html">ArXiv Query…``) and the 2025+ one (namespaces on ``<feed>``, ``https``
links, ``opensearch`` elements without attributes). Format reference:
https://info.arxiv.org/help/api/user-manual.html
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.parsers import expat

from dailypapers.sources.records import (
    PaperRecord,
    RecordError,
    Rejected,
    collapse_ws,
    parse_arxiv_id,
    parse_datetime,
)

ATOM = "http://www.w3.org/2005/Atom"
NS = {
    "atom": ATOM,
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
GITHUB = re.compile(r"https?://github\.com/[\w.\-]+/[\w.\-]+", re.IGNORECASE)
# arXiv's withdrawal notices open the comment (or, for old withdrawals, replace the abstract):
# "This paper has been withdrawn by the author…", "Withdrawn due to…", "arXiv admin note: This
# submission has been withdrawn by arXiv administrators…". Anchoring at the start keeps a live
# paper whose comment merely cites a withdrawn one from being marked withdrawn.
WITHDRAWN = re.compile(
    r"^(?:arxiv admin note:\s*)?(?:(?:this|the) (?:paper|submission|article|manuscript|preprint)"
    r"(?: [\w\-]+)? (?:has been|is|was|is being) (?:\w+ )?withdrawn|withdrawn\b|withdrawal\b)",
    re.IGNORECASE,
)


class FeedError(RecordError):
    """The document as a whole is unusable (not XML, not an Atom feed); ``line`` says where."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line


@dataclass
class ArxivFeed:
    """What one API response holds: parsed papers, malformed entries, and API error entries."""

    records: list[PaperRecord] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    # The API reports a bad query as an entry whose id is under /api/errors (e.g. "incorrect id
    # format for abc"); these are kept apart from malformed paper entries.
    errors: list[Rejected] = field(default_factory=list)
    total_results: int | None = None


def _text(node: ET.Element, path: str) -> str:
    found = node.find(path, NS)
    return collapse_ws(found.text) if found is not None and found.text else ""


def is_withdrawal_notice(text: str) -> bool:
    return bool(WITHDRAWN.match(text.strip()))


def parse_arxiv_entry(entry: ET.Element) -> PaperRecord:
    """One ``<entry>`` → a record; ``RecordError`` when it is not a usable paper entry."""
    raw_id = _text(entry, "atom:id")
    if not raw_id:
        raise RecordError("entry has no <id>")
    arxiv_id, version = parse_arxiv_id(raw_id)
    title = _text(entry, "atom:title")
    if not title:
        raise RecordError(f"entry {arxiv_id} has no title")
    abstract = _text(entry, "atom:summary")
    comment = _text(entry, "arxiv:comment")
    updated = parse_datetime(_text(entry, "atom:updated"))
    code = GITHUB.search(f"{comment} {abstract}")
    categories: list[str] = []
    for node in entry.findall("atom:category", NS):
        term = node.get("term")
        if term and term not in categories:
            categories.append(term)
    primary = entry.find("arxiv:primary_category", NS)
    if primary is not None and (term := primary.get("term")):
        categories = [term, *(c for c in categories if c != term)]
    # A withdrawal always creates a new version, so a v1 is never the withdrawn one.
    withdrawn = (version is None or version > 1) and (
        is_withdrawal_notice(comment) or is_withdrawal_notice(abstract))
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=[name for a in entry.findall("atom:author", NS) if (name := _text(a, "atom:name"))],
        categories=categories,
        published_at=parse_datetime(_text(entry, "atom:published")),
        updated_at=updated,
        withdrawn_at=updated if withdrawn else None,
        github_repo=code.group(0).rstrip(".") if code else None,
    )


def parse_xml_with_lines(data: bytes, *, item: str = f"{{{ATOM}}}entry",
                         depth: int = 2) -> tuple[ET.Element, list[int]]:
    """Parse with expat so each ``item`` element at ``depth`` (the root is 1) keeps the line it
    starts on: Atom ``<entry>``s here, OAI-PMH ``<record>``s in ``arxiv_oai``."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator=" ")
    entry_lines: list[int] = []
    level = 0

    def qualify(name: str) -> str:
        uri, _, local = name.rpartition(" ")
        return f"{{{uri}}}{local}" if uri else local

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal level
        level += 1
        tag = qualify(name)
        if level == depth and tag == item:
            entry_lines.append(parser.CurrentLineNumber)
        builder.start(tag, {qualify(k): v for k, v in attrs.items()})

    def end(name: str) -> None:
        nonlocal level
        level -= 1
        builder.end(qualify(name))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise FeedError(exc.lineno, f"not well-formed XML: {expat.errors.messages[exc.code]} "
                                    f"(column {exc.offset + 1})") from exc
    return builder.close(), entry_lines


def parse_arxiv_feed(data: str | bytes, *, source: str = "<arxiv>") -> ArxivFeed:
    """Every ``<entry>`` of an API response; a malformed entry is rejected with its line, the rest kept.

    Raises ``FeedError`` when the document is not well-formed XML or not an Atom feed.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    root, lines = parse_xml_with_lines(raw)
    if root.tag != f"{{{ATOM}}}feed":
        raise FeedError(1, f"not an Atom feed (root element is <{root.tag.rpartition('}')[2]}>)")
    feed = ArxivFeed()
    total = _text(root, "opensearch:totalResults")
    feed.total_results = int(total) if total.isdigit() else None
    for entry, line in zip(root.findall("atom:entry", NS), lines, strict=True):
        raw_id = _text(entry, "atom:id")
        if "/api/errors" in raw_id:
            message = _text(entry, "atom:summary") or raw_id
            feed.errors.append(Rejected(source, line, f"arXiv API error: {message}"))
            continue
        try:
            feed.records.append(parse_arxiv_entry(entry))
        except RecordError as exc:
            feed.rejected.append(Rejected(source, line, str(exc)))
    return feed
