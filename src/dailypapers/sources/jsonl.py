"""Our JSON Lines format (what ``dailypapers export`` writes); also reads ``hf_daily_papers.jsonl``.

Keys, in this order: arxiv_id, title, abstract, authors, published_at, featured_on, upvotes,
organization{name,fullname}, github_repo, num_comments (the shape of the shared HF dataset),
then key, version, num_authors, categories, updated_at, withdrawn_at, project_page,
submitted_by, submitted_at; then, only when known, what Hugging Face serves beyond arXiv
(``HF_EXTRAS``: ai_summary, ai_summary_model, ai_keywords, github_stars, media_urls, thumbnail,
author_users, submitter_fullname, submitter_avatar_url), ``featured_estimated`` when the featured
day is a guess, and ``organization.avatar``. Unknown keys (e.g. ``source_repo``) are ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from dailypapers.sources.records import (
    Org,
    PaperRecord,
    RecordError,
    collapse_ws,
    parse_arxiv_id,
    parse_date,
    parse_datetime,
)

# A paper's JSON is a few kB; a line far past this is not a paper and must not be read whole.
MAX_LINE_BYTES = 1 << 20


def numbered_lines(fh: BinaryIO, limit: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines of a binary file; ``None`` for a line longer than ``limit`` (skipped unread)."""
    number = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := fh.readline(limit)) and not rest.endswith(b"\n"):
                pass
            yield number, None
        else:
            yield number, line


def _opt_int(obj: dict[str, Any], name: str) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RecordError(f"{name} must be a non-negative integer")
    return value


def _opt_str(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"{name} must be a string")
    return value


def _str_list(obj: dict[str, Any], name: str) -> list[str]:
    value = obj.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError(f"{name} must be a list of strings")
    return [collapse_ws(v) for v in value if v.strip()]


HF_EXTRAS = ("ai_summary", "ai_summary_model", "ai_keywords", "github_stars", "media_urls",
             "thumbnail", "author_users", "submitter_fullname", "submitter_avatar_url")


def _extras(obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("ai_summary", "ai_summary_model", "thumbnail", "submitter_fullname",
                 "submitter_avatar_url"):
        out[name] = _opt_str(obj, name)
    out["github_stars"] = _opt_int(obj, "github_stars")
    for name in ("ai_keywords", "media_urls"):
        out[name] = _str_list(obj, name) if obj.get(name) is not None else None
    users = obj.get("author_users") or []
    if not isinstance(users, list) or not all(u is None or isinstance(u, str) for u in users):
        raise RecordError("author_users must be a list of user names or nulls")
    out["author_users"] = users
    out["featured_estimated"] = obj.get("featured_estimated") is True
    return out


def record_from_json(obj: Any) -> PaperRecord:
    if not isinstance(obj, dict):
        raise RecordError("line is not a JSON object")
    title = _opt_str(obj, "title")
    if not title or not title.strip():
        raise RecordError("missing title")
    arxiv_id, version = None, _opt_int(obj, "version")
    if (raw_id := _opt_str(obj, "arxiv_id")) is not None:
        arxiv_id, parsed_version = parse_arxiv_id(raw_id)
        version = version or parsed_version
    key = _opt_str(obj, "key")
    org = obj.get("organization")
    if org is not None and not (isinstance(org, dict) and isinstance(org.get("name"), str)):
        raise RecordError("organization must be {name, fullname}")
    return PaperRecord(
        arxiv_id=arxiv_id,
        key=key if arxiv_id is None else None,
        version=version,
        title=collapse_ws(title),
        abstract=collapse_ws(_opt_str(obj, "abstract") or ""),
        authors=_str_list(obj, "authors"),
        num_authors=_opt_int(obj, "num_authors"),
        categories=_str_list(obj, "categories"),
        published_at=parse_datetime(obj.get("published_at")),
        updated_at=parse_datetime(obj.get("updated_at")),
        withdrawn_at=parse_datetime(obj.get("withdrawn_at")),
        github_repo=_opt_str(obj, "github_repo"),
        project_page=_opt_str(obj, "project_page"),
        upvotes=_opt_int(obj, "upvotes"),
        num_comments=_opt_int(obj, "num_comments"),
        featured_on=parse_date(obj.get("featured_on")),
        submitted_at=parse_datetime(obj.get("submitted_at")),
        submitted_by=_opt_str(obj, "submitted_by"),
        organization=Org(org["name"], str(org.get("fullname") or org["name"]),
                         _opt_str(org, "avatar")) if org else None,
        **_extras(obj),
    )


def load_json_line(line: str | bytes) -> Any:
    """One line's JSON value; ``RecordError`` when it is not JSON."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"invalid JSON: {exc}") from exc


def parse_jsonl_line(line: str | bytes) -> PaperRecord:
    return record_from_json(load_json_line(line))


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def record_to_json(record: PaperRecord) -> bytes:
    """One export line (no newline). Times are naive-UTC ISO strings, dates ``YYYY-MM-DD``."""
    org = record.organization
    obj = {
        "arxiv_id": record.arxiv_id,
        "title": record.title,
        "abstract": record.abstract,
        "authors": record.authors,
        "published_at": _iso(record.published_at),
        "featured_on": _iso(record.featured_on),
        "upvotes": record.upvotes,
        "organization": {"name": org.handle, "fullname": org.name} if org else None,
        "github_repo": record.github_repo,
        "num_comments": record.num_comments,
        "key": record.key,
        "version": record.version,
        "num_authors": record.num_authors,
        "categories": record.categories,
        "updated_at": _iso(record.updated_at),
        "withdrawn_at": _iso(record.withdrawn_at),
        "project_page": record.project_page,
        "submitted_by": record.submitted_by,
        "submitted_at": _iso(record.submitted_at),
    }
    if org is not None and org.avatar_url:
        obj["organization"] = {"name": org.handle, "fullname": org.name, "avatar": org.avatar_url}
    for name in HF_EXTRAS:
        if (value := getattr(record, name)) not in (None, "", []):
            obj[name] = value
    if record.featured_estimated:
        obj["featured_estimated"] = True
    return orjson.dumps(obj)
