"""The common shape every importer produces, and the errors it reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

ARXIV_ID = re.compile(
    r"^(?:arxiv:)?(?P<id>\d{4}\.\d{4,5}|[a-z][a-z.\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>\d+))?$",
    re.IGNORECASE,
)
WORD = re.compile(r"\w+")
ARXIV_URL = re.compile(
    r"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<rest>[^?#]+?)(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)


LINK_FIELDS = ("github_repo", "project_page")
# Image URLs a source gives (rendered as <img src> and served by the API): the same rule.
IMAGE_FIELDS = ("submitter_avatar_url", "thumbnail")
MAX_URL = 500


def is_http_url(text: str) -> bool:
    """Whether a link may be stored and shown: http(s) with a host, no control characters.

    Anything else (``javascript:``, ``data:``, ``//host``, relative paths) would become a live link
    on the paper page, so it is refused wherever links come in (importers and curation). A space
    is allowed (the HF dataset has ``https://github.com/ owner/repo``; browsers encode it).
    """
    if len(text) > MAX_URL or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return False
    try:
        parts = urlsplit(text)
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return False


@dataclass(frozen=True)
class Org:
    handle: str
    name: str
    avatar_url: str | None = None


@dataclass
class PaperRecord:
    """One paper as a source saw it. ``None`` means "the source does not say" (keep what we have)."""

    title: str
    abstract: str = ""
    arxiv_id: str | None = None
    key: str | None = None
    version: int | None = None
    authors: list[str] = field(default_factory=list)
    num_authors: int | None = None
    categories: list[str] = field(default_factory=list)
    published_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    withdrawn_at: dt.datetime | None = None
    github_repo: str | None = None
    project_page: str | None = None
    upvotes: int | None = None
    num_comments: int | None = None
    featured_on: dt.date | None = None
    submitted_at: dt.datetime | None = None
    submitted_by: str | None = None
    organization: Org | None = None
    # Fields Hugging Face serves beyond arXiv's metadata.
    ai_summary: str | None = None
    ai_summary_model: str | None = None
    ai_keywords: list[str] | None = None
    github_stars: int | None = None
    media_urls: list[str] | None = None
    thumbnail: str | None = None
    # The HF user name of each author, parallel to ``authors`` (empty: the source does not say).
    author_users: list[str | None] = field(default_factory=list)
    submitter_fullname: str | None = None
    submitter_avatar_url: str | None = None
    # ``featured_on`` is a guess (a seed card's date): it never replaces a day a source featured
    # the paper on, and any such day replaces it.
    featured_estimated: bool = False
    # Why a field was dropped (e.g. a ``javascript:`` link); the importer reports each one as a
    # rejection at the entry's line while the rest of the record is kept.
    field_errors: list[str] = field(default_factory=list, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in (*LINK_FIELDS, *IMAGE_FIELDS):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, self._http_url(name, value))
        if self.media_urls is not None:
            kept = [self._http_url("media_urls", url) for url in self.media_urls]
            self.media_urls = [url for url in kept if url is not None]
        org = self.organization
        if org is not None and org.avatar_url is not None:
            avatar = self._http_url("organization avatar", org.avatar_url)
            if avatar != org.avatar_url:
                self.organization = replace(org, avatar_url=avatar)

    def _http_url(self, name: str, value: object) -> str | None:
        """The URL trimmed if it is http(s), else None and a field error saying it was dropped."""
        text = str(value).strip()
        if is_http_url(text):
            return text
        self.field_errors.append(f"{name} dropped: only http(s) URLs of at most "
                                 f"{MAX_URL} characters are kept, not {text[:60]!r}")
        return None

    def public_key(self) -> str:
        return self.arxiv_id or self.key or seed_key(self.title)


@dataclass(frozen=True)
class Rejected:
    """An input entry that could not be imported: where it was and why."""

    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


class RecordError(ValueError):
    """Raised by a parser for one malformed entry; the importer records it and goes on."""


def normalize_title(title: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a title, used to match the same paper."""
    if title.isascii():  # most titles: no accents to strip, skip the per-character pass
        text = title.casefold()
    else:
        text = unicodedata.normalize("NFKD", title)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(WORD.findall(text))[:512]


def seed_key(title: str) -> str:
    """Stable key for a paper without an arXiv id: derived from its normalized title."""
    return "seed-" + hashlib.sha1(normalize_title(title).encode()).hexdigest()[:12]


def collapse_ws(text: str) -> str:
    return " ".join(text.split())


def parse_arxiv_id(text: str) -> tuple[str, int | None]:
    """``2401.01234v3`` / ``arXiv:2401.01234`` / an arxiv.org URL → (``2401.01234``, 3).

    Raises ``RecordError`` for anything that is not an arXiv identifier.
    """
    value = text.strip()
    url = ARXIV_URL.match(value)
    if url:
        value = url.group("rest")
    match = ARXIV_ID.match(value)
    if not match:
        raise RecordError(f"not an arXiv id: {text[:80]!r}")
    version = int(match.group("v")) if match.group("v") else None
    return match.group("id"), version


def parse_datetime(value: object) -> dt.datetime | None:
    """ISO-8601 date or datetime (``Z`` or offset) → naive UTC; ``None``/empty → ``None``."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"expected a date string, got {type(value).__name__}")
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise RecordError(f"bad date {value[:40]!r}") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def parse_date(value: object) -> dt.date | None:
    parsed = parse_datetime(value)
    return parsed.date() if parsed else None


def is_older_version(record: PaperRecord, than: int | None) -> bool:
    """True when ``record`` describes an earlier arXiv version than ``than`` (so it must not win)."""
    return record.version is not None and than is not None and record.version < than


def merge_records(older: PaperRecord, newer: PaperRecord) -> PaperRecord:
    """Fold two records of the same paper: every field ``newer`` states wins, silence keeps ``older``.

    "Newer" is the later arXiv version when both records carry one (a v1 read after a v3 does not
    take the v3's title back), else the one read later.
    """
    if is_older_version(newer, older.version):
        older, newer = newer, older
    values = {}
    for name, spec in older.__dataclass_fields__.items():
        if not spec.init:
            continue
        new_value = getattr(newer, name)
        values[name] = getattr(older, name) if new_value in (None, "", []) else new_value
    # An author's handle belongs to the author list it came with.
    values["author_users"] = newer.author_users if newer.authors else older.author_users
    # The featured day, and whether it is a guess, come from the same record; a guess never
    # replaces a real day.
    day_from = newer if newer.featured_on is not None else older
    if newer.featured_estimated and older.featured_on is not None and not older.featured_estimated:
        day_from = older
    for name in ("featured_on", "featured_estimated"):
        values[name] = getattr(day_from, name)
    return PaperRecord(**values)
