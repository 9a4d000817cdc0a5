"""Parser for Hugging Face's ``/api/daily_papers`` items (every shape seen 2024–2026), read from
saved responses or from the live API by ``sources.hf_client``.

Besides arXiv's metadata an item carries what the site shows and our API serves again: the AI
summary and keywords, GitHub stars, media and thumbnail URLs, who submitted it (user name, full
name, avatar), the organization's avatar and the HF user names of linked authors.
"""

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

# Where Hugging Face serves the site paths it gives for default avatars.
HF_SITE = "https://huggingface.co"


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _image(value: Any) -> str | None:
    """An image URL as served: Hugging Face gives default avatars as site paths (``/avatars/…``),
    which become absolute on its host; anything else is kept as given for ``PaperRecord`` to
    check (only http(s) URLs are kept)."""
    text = _str(value)
    if text is not None and text.startswith("/") and not text.startswith("//"):
        return HF_SITE + text
    return text


def _images(value: Any) -> list[str] | None:
    kept = [_image(url) for url in _strings(value) or []]
    return [url for url in kept if url] or None


def _org(value: Any) -> Org | None:
    if not isinstance(value, dict) or not value.get("name"):
        return None
    return Org(handle=str(value["name"]), name=str(value.get("fullname") or value["name"]),
               avatar_url=_image(value.get("avatar")) or _image(value.get("avatarUrl")))


def _user(value: Any) -> str | None:
    """The user name: ``user`` in ``submittedOnDailyBy``, ``name`` in ``submittedBy``."""
    if not isinstance(value, dict):
        return None
    return _str(value.get("user")) or _str(value.get("name")) or _str(value.get("fullname"))


def _strings(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    return [item for item in value if isinstance(item, str) and item]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
    raw_authors = paper.get("authors") or []
    if not isinstance(raw_authors, list):
        raise RecordError(f"paper {arxiv_id}: authors is not a list")
    shown = [a for a in raw_authors if isinstance(a, dict) and a.get("name") and not a.get("hidden")]
    authors = [collapse_ws(str(a["name"])) for a in shown]
    author_users = [_user(a.get("user")) for a in shown]
    submitted_at = parse_datetime(paper.get("submittedOnDailyAt"))
    featured = submitted_at.date() if submitted_at else parse_date(item.get("publishedAt"))
    first = paper.get("submittedOnDailyBy") or item.get("submittedBy")
    submitter: dict[str, Any] = first if isinstance(first, dict) else {}
    second = item.get("submittedBy")
    other: dict[str, Any] = second if isinstance(second, dict) else {}
    # 2024 responses name the social thumbnail ``mediaUrl``; later ones ``thumbnail``.
    thumbnail = _image(item.get("thumbnail")) or _image(item.get("mediaUrl"))
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=collapse_ws(str(paper.get("summary") or item.get("summary") or "")),
        authors=authors,
        author_users=author_users if any(author_users) else [],
        published_at=parse_datetime(paper.get("publishedAt")),
        github_repo=paper.get("githubRepo") or None,
        project_page=paper.get("projectPage") or None,
        upvotes=_int(paper.get("upvotes")),
        num_comments=_int(item.get("numComments")),
        featured_on=featured,
        submitted_at=submitted_at or parse_datetime(item.get("publishedAt")),
        submitted_by=_user(paper.get("submittedOnDailyBy")) or _user(item.get("submittedBy")),
        submitter_fullname=_str(submitter.get("fullname")) or _str(other.get("fullname")),
        submitter_avatar_url=_image(submitter.get("avatarUrl")) or _image(other.get("avatarUrl")),
        organization=_org(paper.get("organization")) or _org(item.get("organization")),
        ai_summary=_str(paper.get("ai_summary")),
        ai_summary_model=_str(paper.get("ai_summary_model")),
        ai_keywords=_strings(paper.get("ai_keywords")),
        github_stars=_int(paper.get("githubStars")),
        media_urls=_images(paper.get("mediaUrls")) or _images(item.get("mediaUrls")),
        thumbnail=thumbnail,
    )
