"""Parser for saved responses of Hugging Face's ``/api/daily_papers`` (every shape seen 2024–2026)."""

from __future__ import annotations

from typing import Any

from dailypapers.sources.records import (
    Org,
    PaperRecord,
    RecordError,
    collapse_ws,
    parse_arxiv_id,
    parse_date,
    parse_datetime,
)


def _org(value: Any) -> Org | None:
    if not isinstance(value, dict) or not value.get("name"):
        return None
    return Org(handle=str(value["name"]), name=str(value.get("fullname") or value["name"]))


def _user(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    return value.get("user") or value.get("name") or value.get("fullname")


def parse_hf_item(item: Any) -> PaperRecord:
    """One element of the ``/api/daily_papers`` list → a record; ``RecordError`` when malformed."""
    if not isinstance(item, dict):
        raise RecordError("item is not an object")
    paper = item.get("paper")
    if not isinstance(paper, dict) or not paper.get("id"):
        raise RecordError("item has no paper.id")
    arxiv_id, version = parse_arxiv_id(str(paper["id"]))
    title = collapse_ws(str(item.get("title") or paper.get("title") or ""))
    if not title:
        raise RecordError(f"paper {arxiv_id} has no title")
    authors = [
        collapse_ws(str(a["name"]))
        for a in paper.get("authors") or []
        if isinstance(a, dict) and a.get("name") and not a.get("hidden")
    ]
    submitted_at = parse_datetime(paper.get("submittedOnDailyAt"))
    featured = submitted_at.date() if submitted_at else parse_date(item.get("publishedAt"))
    upvotes = paper.get("upvotes")
    comments = item.get("numComments")
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=collapse_ws(str(paper.get("summary") or item.get("summary") or "")),
        authors=authors,
        published_at=parse_datetime(paper.get("publishedAt")),
        github_repo=paper.get("githubRepo") or None,
        project_page=paper.get("projectPage") or None,
        upvotes=int(upvotes) if isinstance(upvotes, int) else None,
        num_comments=int(comments) if isinstance(comments, int) else None,
        featured_on=featured,
        submitted_at=submitted_at or parse_datetime(item.get("publishedAt")),
        submitted_by=_user(paper.get("submittedOnDailyBy")) or _user(item.get("submittedBy")),
        organization=_org(paper.get("organization")) or _org(item.get("organization")),
    )
