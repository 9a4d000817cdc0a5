"""JSON responses in Hugging Face's daily-papers dialect (the field names and nesting of hf.co's
``/api/daily_papers`` and ``/api/papers/{id}``), built from ``PaperCard``s — never from ORM rows.

The pydantic models document the API (OpenAPI at ``/docs``) and ``hf_paper``/``hf_daily_item``
build them (search results reuse them). Listings are written by plain functions that build the
same JSON with orjson (``daily_items_json`` & co.), because validating a model per paper and per
author cost most of an API request; ``tests/web/test_api.py`` checks that both give the same
bytes. Absent values are left out (``exclude_none``), as hf.co does.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, TypeAdapter

from dailypapers.services.papers import OrgRef, PaperCard


def iso_z(value: dt.datetime) -> str:
    """Naive-UTC time → ``2025-11-19T03:18:29.000Z``, the exact form hf.co sends (and
    ``huggingface_hub.utils.parse_datetime`` requires: a trailing ``Z``)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


IsoTime = Annotated[dt.datetime, PlainSerializer(iso_z, return_type=str)]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_text(value: object) -> object:
    # pydantic alone would also take "0" or "1700000000" as Unix times: the API takes what its
    # schema says, a date written YYYY-MM-DD.
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


#: A request's date: ``{"type": "string", "format": "date"}`` and nothing else.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_text)]


def object_id(kind: int, number: int) -> str:
    """A stable 24-hex-digit id in the place of hf.co's MongoDB ``_id``s (``kind`` keeps authors,
    organizations and users apart)."""
    return f"{kind:08x}{number:016x}"


@functools.lru_cache(maxsize=16384)  # authors and submitters recur on every page
def content_id(kind: int, text: str) -> str:
    """``object_id`` of a name rather than a row id: the same author, organization, user or paper
    gets the same id on every instance, so an instance mirroring another serves identical JSON."""
    return object_id(kind, int(hashlib.sha1(text.encode()).hexdigest()[:16], 16))


_AUTHOR, _ORG, _USER, _DISCUSSION = 1, 2, 3, 4


class _HfModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class HfAuthorUser(_HfModel):
    """``authors[].user``: the Hugging Face account linked to an author."""

    id_: str = Field(alias="_id")
    user: str = Field(description="The user name.")
    type: str = "user"


class HfAuthor(_HfModel):
    id_: str = Field(alias="_id", description="Stable id of this author entry.")
    user: HfAuthorUser | None = None
    name: str
    hidden: bool = False


class HfOrganization(_HfModel):
    id_: str = Field(alias="_id")
    name: str = Field(description="The handle, e.g. `SakanaAI`.")
    fullname: str = Field(description="The display name, e.g. `Sakana AI`.")
    avatar: str | None = Field(None, description="URL of the organization's avatar.")


class HfSubmitter(_HfModel):
    """``submittedBy`` of a daily item: ``name`` is the user name, ``fullname`` the display name
    (the user name again when the source gave none)."""

    id_: str = Field(alias="_id")
    avatarUrl: str | None = None
    name: str
    fullname: str
    type: str = "user"


class HfUser(HfSubmitter):
    """``paper.submittedOnDailyBy``: hf.co names the user name ``user`` here."""

    user: str


class HfPaper(_HfModel):
    """``paper`` of a daily item, and the whole body of ``GET /api/papers/{id}``."""

    id: str = Field(description="arXiv id without version (or the local key of a paper without one).")
    title: str
    summary: str = Field(description="The abstract, LaTeX left as is.")
    authors: list[HfAuthor]
    publishedAt: IsoTime | None = Field(None, description="First arXiv version.")
    submittedOnDailyAt: IsoTime | None = Field(None, description="When it was featured.")
    submittedOnDailyBy: HfUser | None = None
    upvotes: int
    discussionId: str | None = None
    githubRepo: str | None = None
    projectPage: str | None = None
    githubStars: int | None = None
    mediaUrls: list[str] | None = None
    ai_summary: str | None = Field(None, description="A one-sentence summary written by a model.")
    ai_summary_model: str | None = None
    ai_keywords: list[str] | None = None
    organization: HfOrganization | None = None


class HfPaperInfo(HfPaper):
    """The body of ``GET /api/papers/{id}`` and the items of ``GET /api/papers``."""

    numComments: int = 0


class HfDailyItem(_HfModel):
    """One entry of ``GET /api/daily_papers``."""

    paper: HfPaper
    title: str
    summary: str
    publishedAt: IsoTime | None = Field(
        None, description="When the paper was featured (the daily submission time, as in hf.co's older responses).")
    mediaUrls: list[str] | None = None
    thumbnail: str | None = None
    numComments: int = 0
    submittedBy: HfSubmitter | None = None
    organization: HfOrganization | None = None
    isAuthorParticipating: bool = False


def _org(org: OrgRef | None) -> HfOrganization | None:
    if org is None:
        return None
    return HfOrganization(id_=content_id(_ORG, org.handle), name=org.handle, fullname=org.name,
                          avatar=org.avatar_url)


def _user(card: PaperCard) -> HfUser | None:
    name = card.submitted_by
    if not name:
        return None
    return HfUser(id_=content_id(_USER, name), avatarUrl=card.submitter_avatar_url, name=name,
                  user=name, fullname=card.submitter_fullname or name)


def _submitter(card: PaperCard) -> HfSubmitter | None:
    name = card.submitted_by
    if not name:
        return None
    return HfSubmitter(id_=content_id(_USER, name), avatarUrl=card.submitter_avatar_url, name=name,
                       fullname=card.submitter_fullname or name)


def _author(name: str, user: str | None) -> HfAuthor:
    linked = HfAuthorUser(id_=content_id(_USER, user), user=user) if user else None
    return HfAuthor(id_=content_id(_AUTHOR, name), user=linked, name=name)


def _list(values: tuple[str, ...] | None) -> list[str] | None:
    return list(values) if values else None


def _paper_fields(card: PaperCard) -> dict[str, Any]:
    return {
        "id": card.key,
        "title": card.title,
        "summary": card.abstract,
        "authors": [_author(a.name, a.user) for a in card.authors],
        "publishedAt": card.published_at,
        "submittedOnDailyAt": card.featured_at,
        "submittedOnDailyBy": _user(card),
        "upvotes": card.upvotes,
        "discussionId": content_id(_DISCUSSION, card.key),
        "githubRepo": card.github_repo,
        "projectPage": card.project_page,
        "githubStars": card.github_stars,
        "mediaUrls": _list(card.media_urls),
        "ai_summary": card.ai_summary,
        "ai_summary_model": card.ai_summary_model,
        "ai_keywords": _list(card.ai_keywords),
        "organization": _org(card.organization),
    }


def hf_paper(card: PaperCard) -> HfPaper:
    """The ``paper`` object of a daily item."""
    return HfPaper(**_paper_fields(card))


def hf_paper_info(card: PaperCard) -> HfPaperInfo:
    """A paper as ``GET /api/papers/{id}`` sends it."""
    return HfPaperInfo(**_paper_fields(card), numComments=card.num_comments)


def hf_daily_item(card: PaperCard) -> HfDailyItem:
    return HfDailyItem(
        paper=hf_paper(card),
        title=card.title,
        summary=card.abstract,
        publishedAt=card.featured_at,
        mediaUrls=_list(card.media_urls),
        thumbnail=card.thumbnail,
        numComments=card.num_comments,
        submittedBy=_submitter(card),
        organization=_org(card.organization),
    )


_ITEMS: TypeAdapter[list[HfDailyItem]] = TypeAdapter(list[HfDailyItem])
_PAPERS: TypeAdapter[list[HfPaperInfo]] = TypeAdapter(list[HfPaperInfo])


def _drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _time(value: dt.datetime | None) -> str | None:
    return iso_z(value) if value is not None else None


def _org_dict(org: OrgRef | None) -> dict[str, Any] | None:
    if org is None:
        return None
    return _drop_none({"_id": content_id(_ORG, org.handle), "name": org.handle, "fullname": org.name,
                       "avatar": org.avatar_url})


def _author_dict(name: str, user: str | None) -> dict[str, Any]:
    if user:
        return {"_id": content_id(_AUTHOR, name),
                "user": {"_id": content_id(_USER, user), "user": user, "type": "user"},
                "name": name, "hidden": False}
    return {"_id": content_id(_AUTHOR, name), "name": name, "hidden": False}


def _submitter_dict(card: PaperCard, *, user: bool) -> dict[str, Any] | None:
    """``submittedBy`` (``HfSubmitter``), or with ``user`` ``paper.submittedOnDailyBy`` (``HfUser``)."""
    name = card.submitted_by
    if not name:
        return None
    fields = _drop_none({"_id": content_id(_USER, name), "avatarUrl": card.submitter_avatar_url,
                         "name": name, "fullname": card.submitter_fullname or name, "type": "user"})
    if user:
        fields["user"] = name
    return fields


def _paper_dict(card: PaperCard) -> dict[str, Any]:
    """``HfPaper``'s JSON object, field for field (same order, ``None`` left out)."""
    return _drop_none({
        "id": card.key,
        "title": card.title,
        "summary": card.abstract,
        "authors": [_author_dict(a.name, a.user) for a in card.authors],
        "publishedAt": _time(card.published_at),
        "submittedOnDailyAt": _time(card.featured_at),
        "submittedOnDailyBy": _submitter_dict(card, user=True),
        "upvotes": card.upvotes,
        "discussionId": content_id(_DISCUSSION, card.key),
        "githubRepo": card.github_repo,
        "projectPage": card.project_page,
        "githubStars": card.github_stars,
        "mediaUrls": _list(card.media_urls),
        "ai_summary": card.ai_summary,
        "ai_summary_model": card.ai_summary_model,
        "ai_keywords": _list(card.ai_keywords),
        "organization": _org_dict(card.organization),
    })


def _daily_item_dict(card: PaperCard) -> dict[str, Any]:
    """``HfDailyItem``'s JSON object."""
    return _drop_none({
        "paper": _paper_dict(card),
        "title": card.title,
        "summary": card.abstract,
        "publishedAt": _time(card.featured_at),
        "mediaUrls": _list(card.media_urls),
        "thumbnail": card.thumbnail,
        "numComments": card.num_comments,
        "submittedBy": _submitter_dict(card, user=False),
        "organization": _org_dict(card.organization),
        "isAuthorParticipating": False,
    })


def _paper_info_dict(card: PaperCard) -> dict[str, Any]:
    return {**_paper_dict(card), "numComments": card.num_comments}


class _ItemBytes:
    """Each card's JSON object, serialized once per distinct card and kept (most recently used
    first, up to ``size`` per worker): a list is then the kept objects joined by commas, which is
    byte for byte what ``orjson.dumps`` of the list writes (compact, no spaces).

    The key is the whole ``PaperCard`` value as the request's own query just read it (authors,
    organization, counts, dates: every field an item shows), and an item shows nothing else (no
    viewer, no request, no setting), so a vote, an edit or a new author is another key: what is
    kept is never stale, in any worker, on either database, and nothing is invalidated (the same
    reasoning as ``web/rendering.CardBodies`` for HTML). Building the 50 dicts of
    ``/api/daily_papers`` (authors, ids, dates) was a third of the request.
    """

    def __init__(self, item: Callable[[PaperCard], dict[str, Any]], size: int = 4096) -> None:
        self._item = item
        self._kept = functools.lru_cache(maxsize=size)(self._dump)

    def _dump(self, card: PaperCard) -> bytes:
        return orjson.dumps(self._item(card))

    def one(self, card: PaperCard) -> bytes:
        try:
            return self._kept(card)
        except TypeError:  # an unhashable field (a list where a tuple was expected): no memo
            return self._dump(card)

    def many(self, cards: Sequence[PaperCard]) -> bytes:
        return b"[" + b",".join([self.one(c) for c in cards]) + b"]"


_DAILY_ITEMS = _ItemBytes(_daily_item_dict)
_PAPER_INFOS = _ItemBytes(_paper_info_dict)


def daily_items_json(cards: Sequence[PaperCard]) -> bytes:
    """``[HfDailyItem, ...]`` as JSON bytes."""
    return _DAILY_ITEMS.many(cards)


def papers_json(cards: Sequence[PaperCard]) -> bytes:
    """``[HfPaperInfo, ...]`` as JSON bytes."""
    return _PAPER_INFOS.many(cards)


def paper_json(card: PaperCard) -> bytes:
    return orjson.dumps(_paper_info_dict(card))


def daily_items_json_validated(cards: Sequence[PaperCard]) -> bytes:
    """``daily_items_json`` through the pydantic models (what the tests compare it with)."""
    return _ITEMS.dump_json([hf_daily_item(c) for c in cards], exclude_none=True, by_alias=True)


def papers_json_validated(cards: Sequence[PaperCard]) -> bytes:
    return _PAPERS.dump_json([hf_paper_info(c) for c in cards], exclude_none=True, by_alias=True)


class ApiError(BaseModel):
    """Every API error: hf.co's ``{"error": ...}`` (which huggingface_hub shows to the user)."""

    error: str = Field(description="What went wrong, for the person who sent the request.")
    detail: Any = Field(None, description="For 422: each problem, with its location (`loc`).")
    url: str | None = Field(None, description="For 409: the page of what the request clashed with.")
