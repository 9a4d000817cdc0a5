"""Parser for responses of the arXiv export API (Atom 1.0 with the arxiv: extension)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from dailypapers.sources.records import (
    PaperRecord,
    Rejected,
    RecordError,
    collapse_ws,
    parse_arxiv_id,
    parse_datetime,
)

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
GITHUB = re.compile(r"https?://github\.com/[\w.\-]+/[\w.\-]+", re.IGNORECASE)
WITHDRAWN = re.compile(r"\b(this (paper|submission|article) (has been|is) withdrawn|withdrawn)\b", re.I)


def _text(entry: ET.Element, path: str) -> str:
    node = entry.find(path, NS)
    return collapse_ws(node.text or "") if node is not None and node.text else ""


def parse_arxiv_entry(entry: ET.Element) -> PaperRecord:
    raw_id = _text(entry, "atom:id")
    if "/api/errors" in raw_id:
        raise RecordError(f"arXiv API error: {_text(entry, 'atom:summary') or raw_id}")
    arxiv_id, version = parse_arxiv_id(raw_id)
    title = _text(entry, "atom:title")
    if not title:
        raise RecordError(f"entry {arxiv_id} has no title")
    abstract = _text(entry, "atom:summary")
    comment = _text(entry, "arxiv:comment")
    updated = parse_datetime(_text(entry, "atom:updated"))
    code = GITHUB.search(f"{comment} {abstract}")
    categories = [c.get("term", "") for c in entry.findall("atom:category", NS) if c.get("term")]
    primary = entry.find("arxiv:primary_category", NS)
    if primary is not None and primary.get("term") in categories:
        categories.remove(primary.get("term", ""))
        categories.insert(0, primary.get("term", ""))
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=[_text(a, "atom:name") for a in entry.findall("atom:author", NS) if _text(a, "atom:name")],
        categories=categories,
        published_at=parse_datetime(_text(entry, "atom:published")),
        updated_at=updated,
        withdrawn_at=updated if WITHDRAWN.search(comment) else None,
        github_repo=code.group(0).rstrip(".") if code else None,
    )


def parse_arxiv_feed(text: str | bytes, *, source: str = "<arxiv>") -> tuple[list[PaperRecord], list[Rejected]]:
    """Every ``<entry>`` of an arXiv API response; a malformed entry is rejected, the rest kept."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else 0
        return [], [Rejected(source, line, f"not well-formed XML: {exc}")]
    if root.tag != f"{{{NS['atom']}}}feed":
        return [], [Rejected(source, 1, "not an Atom feed")]
    records: list[PaperRecord] = []
    rejected: list[Rejected] = []
    for number, entry in enumerate(root.findall("atom:entry", NS), 1):
        try:
            records.append(parse_arxiv_entry(entry))
        except RecordError as exc:
            rejected.append(Rejected(source, number, f"entry {number}: {exc}"))
    return records, rejected
