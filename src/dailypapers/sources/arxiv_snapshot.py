"""Parser for the arXiv metadata snapshot: one JSON object per line (the widely shared
``arxiv-metadata-oai-snapshot.json``, plain or gzip-compressed).

Keys: ``id, submitter, authors, title, comments, journal-ref, doi, report-no, categories,
license, abstract, versions[{version, created}], update_date, authors_parsed``. Old-style ids
(``hep-th/9901001``) are ids like any other. ``authors_parsed`` (``[last, first, suffix]`` per
author, accents already decoded) is preferred to the raw ``authors`` string; ``submitter``,
``journal-ref``, ``doi``, ``report-no``, ``license`` and ``update_date`` are not kept (the
catalog has no place for them; ``update_date`` is a metadata edit, not a new version).
"""

from __future__ import annotations

from typing import Any

from dailypapers.sources.arxiv_metadata import (
    metadata_record,
    parse_version_date,
    split_authors,
    version_number,
)
from dailypapers.sources.jsonl import load_json_line
from dailypapers.sources.records import PaperRecord, RecordError


def _str(obj: dict[str, Any], name: str, *, required: bool = False) -> str:
    value = obj.get(name)
    if value is None:
        if required:
            raise RecordError(f"missing {name}")
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{name} must be a string")
    return value


def _authors(obj: dict[str, Any]) -> list[str]:
    parsed = obj.get("authors_parsed")
    if not (isinstance(parsed, list) and parsed):
        return split_authors(_str(obj, "authors"))
    names = []
    for parts in parsed:
        try:
            last, first, suffix = parts[0], parts[1], parts[2] if len(parts) > 2 else ""
            name = f"{first} {last}" if first else last
            if suffix:
                name = f"{name} {suffix}"
        except (TypeError, IndexError, KeyError):
            raise RecordError("authors_parsed must be a list of [last, first, suffix]") from None
        if not isinstance(name, str):
            raise RecordError("authors_parsed must hold strings")
        if name := " ".join(name.split()):
            names.append(name)
    return names


def _versions(obj: dict[str, Any]) -> list[tuple[int, Any]]:
    versions = obj.get("versions")
    if not isinstance(versions, list) or not versions:
        raise RecordError("versions must be a non-empty list")
    out = []
    for item in versions:
        if not isinstance(item, dict) or not isinstance(item.get("version"), str) \
                or not isinstance(item.get("created"), str):
            raise RecordError("each version needs version and created")
        out.append((version_number(item["version"]), parse_version_date(item["created"])))
    return out


def record_from_snapshot(obj: Any) -> PaperRecord:
    """One snapshot object → a record; ``RecordError`` when it is malformed."""
    if not isinstance(obj, dict):
        raise RecordError("line is not a JSON object")
    return metadata_record(
        raw_id=_str(obj, "id", required=True),
        title=_str(obj, "title", required=True),
        abstract=_str(obj, "abstract"),
        versions=_versions(obj),
        authors=_authors(obj),
        categories=_str(obj, "categories"),
        comments=_str(obj, "comments"),
    )


def parse_snapshot_line(line: bytes | str) -> PaperRecord:
    return record_from_snapshot(load_json_line(line))
