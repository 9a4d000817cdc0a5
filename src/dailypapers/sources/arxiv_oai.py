"""Parser for arXiv's OAI-PMH ``ListRecords`` responses in the ``arXivRaw`` metadata format.

A response holds up to ~1000 ``<record>``s of one OAI set (an archive: ``cs``, ``math``,
``physics:hep-th``…) whose metadata changed on or after the ``from`` day, and a
``<resumptionToken>`` for the next page (empty on the last). ``arXivRaw`` carries every version
with its date, so versions collapse exactly as the snapshot's do (``sources/arxiv_metadata``).
Format references: https://www.openarchives.org/OAI/openarchivesprotocol.html and
https://info.arxiv.org/help/oa/index.html.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from dailypapers.sources.arxiv import FeedError, parse_xml_with_lines
from dailypapers.sources.arxiv_metadata import (
    metadata_record,
    parse_version_date,
    split_authors,
    version_number,
)
from dailypapers.sources.records import (
    PaperRecord,
    RecordError,
    Rejected,
    parse_datetime,
)

OAI = "http://www.openarchives.org/OAI/2.0/"
RAW = "http://arxiv.org/OAI/arXivRaw/"
NS = {"oai": OAI, "raw": RAW}
# Archives that OAI-PMH lists under the "physics" set (arXiv's set hierarchy).
PHYSICS_ARCHIVES = frozenset({
    "astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nlin",
    "nucl-ex", "nucl-th", "physics", "quant-ph",
})


class OaiError(Exception):
    """An OAI-PMH ``<error code=…>`` answer (``badResumptionToken``, ``badArgument``, …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"OAI-PMH error {code}: {message}")
        self.code = code


@dataclass
class OaiPage:
    """One ``ListRecords`` response: its papers, malformed records, and where to go on."""

    records: list[PaperRecord] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    token: str | None = None  # None on the last page
    complete_list_size: int | None = None
    response_date: dt.datetime | None = None
    deleted: int = 0


def oai_set(category: str) -> str:
    """The OAI set that holds a category: ``cs.LG`` → ``cs``, ``hep-th`` → ``physics:hep-th``,
    ``astro-ph.GA`` → ``physics:astro-ph``, ``physics.optics`` → ``physics:physics``."""
    archive = category.split(".", 1)[0]
    if not archive or not all(ch.isalpha() or ch == "-" for ch in archive):
        raise ValueError(f"not an arXiv category: {category!r}")
    return f"physics:{archive}" if archive in PHYSICS_ARCHIVES else archive


def _text(node: ET.Element, path: str) -> str:
    found = node.find(path, NS)
    return found.text or "" if found is not None else ""


def parse_raw_record(record: ET.Element) -> PaperRecord | None:
    """One ``<record>`` → a record, ``None`` for a deleted one; ``RecordError`` when malformed."""
    header = record.find("oai:header", NS)
    if header is not None and header.get("status") == "deleted":
        return None
    raw = record.find("oai:metadata/raw:arXivRaw", NS)
    if raw is None:
        raise RecordError("record has no arXivRaw metadata")
    versions = []
    for node in raw.findall("raw:version", NS):
        versions.append((version_number(node.get("version") or ""), parse_version_date(_text(node, "raw:date"))))
    return metadata_record(
        raw_id=_text(raw, "raw:id"),
        title=_text(raw, "raw:title"),
        abstract=_text(raw, "raw:abstract"),
        versions=versions,
        authors=split_authors(_text(raw, "raw:authors")),
        categories=_text(raw, "raw:categories"),
        comments=_text(raw, "raw:comments"),
    )


def parse_list_records(data: bytes, *, source: str = "<oai>") -> OaiPage:
    """A ``ListRecords`` response → its page. ``noRecordsMatch`` is an empty last page.

    Raises ``FeedError`` when the document is unusable (cut off, not XML, not OAI-PMH) and
    ``OaiError`` for any other OAI-PMH error answer.
    """
    root, lines = parse_xml_with_lines(data, item=f"{{{OAI}}}record", depth=3)
    if root.tag != f"{{{OAI}}}OAI-PMH":
        raise FeedError(1, f"not an OAI-PMH response (root element is <{root.tag.rpartition('}')[2]}>)")
    page = OaiPage(response_date=parse_datetime(_text(root, "oai:responseDate") or None))
    error = root.find("oai:error", NS)
    if error is not None:
        code = error.get("code") or "unknown"
        if code == "noRecordsMatch":
            return page
        raise OaiError(code, " ".join((error.text or "").split()))
    listing = root.find("oai:ListRecords", NS)
    if listing is None:
        raise FeedError(1, "OAI-PMH response without <ListRecords>")
    for record, line in zip(listing.findall("oai:record", NS), lines, strict=True):
        try:
            parsed = parse_raw_record(record)
        except RecordError as exc:
            page.rejected.append(Rejected(source, line, str(exc)))
            continue
        if parsed is None:
            page.deleted += 1
        else:
            page.records.append(parsed)
    token = listing.find("oai:resumptionToken", NS)
    if token is not None:
        page.token = (token.text or "").strip() or None
        size = token.get("completeListSize")
        page.complete_list_size = int(size) if size and size.isdigit() else None
    return page
