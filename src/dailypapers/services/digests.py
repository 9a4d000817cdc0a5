"""Digests: which period is due for a subscriber, and what its mail says.

A digest is the period's top trending papers — ranked by ``services.trending.trending``, the
function behind the site's trending page, as of the send time (capped at the period's end) —
then one section per topic: the topic's best new matches from the hybrid search service. A
member's digest (trending or For you) also has a "From people and labs you follow" section: every
paper new since the previous digest from the authors, organizations and saved searches they follow
(``services/follow_news.py`` defines "new"), whatever any ranking says.
Papers this subscriber was already sent are skipped everywhere; a digest with nothing left
is not sent at all.

``DigestRun`` holds what every digest of one run shares (the trending list of a period, the
results of a topic query, the templates), so 10,000 digests do not rank 10,000 times.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.mail.message import compose
from dailypapers.search.engine import SearchEngine
from dailypapers.services import recommend
from dailypapers.services import topics as topic_search
from dailypapers.services.follow_news import new_from_follows
from dailypapers.services.follows import Follows, follows_of
from dailypapers.services.papers import PaperCard
from dailypapers.services.periods import Period, PeriodError, containing, parse_period
from dailypapers.services.subscriptions import SubscriptionError, manage_token
from dailypapers.services.trending import trending
from dailypapers.settings import Settings
from dailypapers.store.deliveries import Delivery
from dailypapers.store.subscriptions import Subscription

#: Papers a subscriber was sent within this many days are not sent again.
HISTORY_DAYS = 120
#: Trending papers ranked per period and run; each digest picks its unseen ones from these.
TRENDING_POOL = 200
#: Matches per topic section.
TOPIC_PAPERS = 5
#: Trending papers after the For you section of a "for_you" digest.
TRENDING_AFTER_FOR_YOU = 5
#: At most this many papers in the follows section (every new one, normally).
FOLLOWED_PAPERS = 30
FOLLOWS_TITLE = "From people and labs you follow"
#: Characters of abstract shown per paper.
ABSTRACT_CHARS = 280

_PERIOD = re.compile(r"^(?:(daily|weekly):)?(.+)$")


@dataclass(frozen=True)
class DigestPeriod:
    """A cadence and the day or ISO week it covers; ``key`` is what the outbox stores."""

    cadence: str
    period: Period

    @property
    def key(self) -> str:
        return f"{self.cadence}:{self.period.slug}"

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.period.end, dt.time())

    @property
    def title(self) -> str:
        if self.cadence == "daily":
            return self.period.start.strftime("%a, %b %-d, %Y")
        return self.period.label

    @classmethod
    def parse(cls, text: str) -> DigestPeriod:
        """``daily:2025-11-20``, ``weekly:2025-W47``, or the bare ``2025-11-20`` / ``2025-W47``."""
        match = _PERIOD.match(text.strip())
        slug = match.group(2) if match else ""
        cadence = (match.group(1) if match else None) or ("weekly" if "W" in slug else "daily")
        try:
            return cls(cadence, parse_period("day" if cadence == "daily" else "week", slug))
        except PeriodError as exc:
            raise SubscriptionError(
                f"period must look like daily:YYYY-MM-DD or weekly:YYYY-Www ({exc})") from exc


def due_period(*, cadence: str, weekday: int, send_hour: int, timezone: str,
               now: dt.datetime) -> DigestPeriod | None:
    """The period a subscriber is due for at ``now`` (naive UTC), or None.

    Daily digests go out on weekdays from the chosen local hour on; weekly ones from the chosen
    day and hour until the end of that ISO week (so a run missed on the day still catches up).
    """
    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local = now.replace(tzinfo=dt.UTC).astimezone(zone)
    today = local.date()
    if cadence == "daily":
        if today.weekday() < 5 and local.hour >= send_hour:
            return DigestPeriod("daily", containing("day", today))
        return None
    if today.weekday() > weekday or (today.weekday() == weekday and local.hour >= send_hour):
        return DigestPeriod("weekly", containing("week", today))
    return None


@dataclass(frozen=True)
class Section:
    kind: str  # "for_you", "follows", "trending" or "topic"
    title: str
    cards: list[PaperCard]
    # The Atom feed of a topic section (the no-email way to follow it).
    feed_url: str | None = None
    # Why each paper of a For you or follows section is there, by paper key.
    reasons: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Digest:
    subscription: Subscription
    period: DigestPeriod
    subject: str
    sections: list[Section]
    manage_url: str
    unsubscribe_url: str
    unsubscribe_mailto: str

    @property
    def paper_keys(self) -> list[str]:
        return [card.key for section in self.sections for card in section.cards]


def mail_templates() -> Environment:
    """The Jinja2 environment of mail templates (HTML autoescaped, text not)."""
    env = Environment(loader=PackageLoader("dailypapers", "mail/templates"),
                      autoescape=select_autoescape(enabled_extensions=("html",),
                                                   default_for_string=False, default=False),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["clip"] = _clip
    env.filters["meta"] = _meta
    return env


def _meta(card: PaperCard) -> str:
    """"Sakana AI · Jan 1, 2025 · ▲ 40" — who, when, how many upvotes."""
    parts = []
    if card.organization is not None:
        parts.append(card.organization.name)
    elif card.author_count:
        parts.append(f"{card.author_count} author{'s' if card.author_count != 1 else ''}")
    if card.published_at is not None:
        parts.append(card.published_at.strftime("%b %-d, %Y"))
    parts.append(f"▲ {card.upvotes}")
    return " · ".join(parts)


def _clip(text: str, limit: int = ABSTRACT_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def mail_domain(settings: Settings) -> str:
    return parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"


def unsubscribe_links(*, settings: Settings, token: str) -> tuple[str, str]:
    """The one-click https URL and the mailto alternative for ``List-Unsubscribe``."""
    base = settings.base_url.rstrip("/")
    address = settings.digest_unsubscribe_mailto or parseaddr(settings.mail_from)[1]
    return (f"{base}/unsubscribe?{urlencode({'token': token})}",
            f"mailto:{address}?subject={quote('unsubscribe ' + token)}")


class DigestRun:
    """Composes the digests of one run; caches what subscribers share."""

    def __init__(self, *, db: Session, settings: Settings, now: dt.datetime,
                 engine: SearchEngine | None = None) -> None:
        self.db, self.settings, self.now = db, settings, now
        self._engine = engine
        self.base = settings.base_url.rstrip("/")
        self.templates = mail_templates()
        self._trending: dict[str, list[PaperCard]] = {}
        self._topics: dict[tuple[str, str], list[PaperCard]] = {}
        self._history: dict[int, set[str]] = {}
        self._last_sent: dict[int, dt.datetime] = {}

    def paper_url(self, card: PaperCard) -> str:
        return f"{self.base}/papers/{quote(card.key)}"

    def load_history(self, subscription_ids: list[int]) -> None:
        """Load, in one query, the paper keys recently sent to these subscriptions."""
        since = self.now - dt.timedelta(days=HISTORY_DAYS)
        history: dict[int, set[str]] = {sid: set() for sid in subscription_ids}
        rows = self.db.execute(select(Delivery.subscription_id, Delivery.paper_keys, Delivery.sent_at).where(
            Delivery.subscription_id.in_(subscription_ids), Delivery.status == "sent",
            Delivery.sent_at >= since))
        for sid, keys, sent_at in rows:
            history[sid].update(keys or ())
            if sent_at is not None and (sid not in self._last_sent or sent_at > self._last_sent[sid]):
                self._last_sent[sid] = sent_at
        self._history.update(history)

    def sent_keys(self, subscription_id: int) -> set[str]:
        if subscription_id not in self._history:
            self.load_history([subscription_id])
        return self._history[subscription_id]

    def trending_cards(self, period: DigestPeriod) -> list[PaperCard]:
        if period.key not in self._trending:
            as_of = min(self.now, period.end)
            ranked = trending(db=self.db, now=as_of, limit=TRENDING_POOL).ranked
            self._trending[period.key] = [card for card, _score in ranked]
        return self._trending[period.key]

    @property
    def engine(self) -> SearchEngine:
        if self._engine is None:  # built on first use: runs without topics or searches never load it
            self._engine = SearchEngine(self.settings)
        return self._engine

    def topic_cards(self, query: str, period: DigestPeriod) -> list[PaperCard]:
        key = (" ".join(query.casefold().split()), period.key)
        if key not in self._topics:
            self._topics[key] = topic_search.new_matches(
                db=self.db, engine=self.engine, query=query, as_of=min(self.now, period.end),
                limit=TOPIC_PAPERS * 4)
        return self._topics[key]

    def since_last_digest(self, subscription: Subscription, period: DigestPeriod) -> dt.datetime:
        """Where the follows section's window starts: one period before the previous digest sent
        to the subscription (a paper featured late on that digest's day is not missed; papers it
        sent are never sent again), else (a first digest) the period before this one."""
        self.sent_keys(subscription.id)  # loads the history and the last sending
        length = dt.timedelta(days=1 if period.cadence == "daily" else 7)
        if subscription.id in self._last_sent:
            return self._last_sent[subscription.id] - length
        return period.end - 2 * length

    def follows_section(self, subscription: Subscription, period: DigestPeriod, follows: Follows,
                        seen: set[str]) -> Section | None:
        """The member's followed authors, organizations and saved searches: every paper new since
        the last digest (``follow_news``), whatever For you's ranking says."""
        if follows.empty:
            return None
        news = new_from_follows(db=self.db, engine=self.engine if follows.searches else None,
                                follows=follows, since=self.since_last_digest(subscription, period),
                                until=min(self.now, period.end), limit=FOLLOWED_PAPERS)
        items = [item for item in news if item.card.key not in seen]
        if not items:
            return None
        return Section("follows", FOLLOWS_TITLE, [item.card for item in items],
                       reasons={item.card.key: item.reason for item in items})

    def for_you_section(self, subscription: Subscription, period: DigestPeriod, follows: Follows,
                        seen: set[str]) -> Section | None:
        """The member's For you list as of the period's last day (per member: not shared)."""
        assert subscription.user_id is not None
        last_day = min(self.now, period.end - dt.timedelta(seconds=1)).date()
        ranked = recommend.for_you(db=self.db, user_id=subscription.user_id, day=last_day,
                                   limit=min(recommend.MAX_LIMIT, subscription.num_papers + len(seen)),
                                   model=self.settings.search_embedding_model,
                                   engine=self.engine if follows.searches else None)
        items = [item for item in ranked.items if item.card.key not in seen][:subscription.num_papers]
        if not items:
            return None
        reasons = {item.card.key: recommend.reason_text(item.reason) for item in items}
        return Section("for_you", "For you", [item.card for item in items], reasons=reasons)

    def compose(self, *, subscription: Subscription, period: DigestPeriod) -> Digest | None:
        """The digest of ``subscription`` for ``period``, or None when nothing new is left."""
        seen = set(self.sent_keys(subscription.id))
        sections = []
        trending_count = subscription.num_papers
        followed = None
        # Read once: the follows section and For you's saved searches both come from them.
        follows = follows_of(db=self.db, user_id=subscription.user_id) if subscription.user_id is not None else None
        if follows is not None:
            # First, so For you ranks what is left; shown after For you.
            followed = self.follows_section(subscription, period, follows, seen)
            if followed is not None:
                seen.update(c.key for c in followed.cards)
        if subscription.kind == "for_you" and follows is not None:
            mine = self.for_you_section(subscription, period, follows, seen)
            if mine is not None:
                sections.append(mine)
                seen.update(c.key for c in mine.cards)
                trending_count = min(trending_count, TRENDING_AFTER_FOR_YOU)
        if followed is not None:
            sections.append(followed)
        top = [c for c in self.trending_cards(period) if c.key not in seen]
        top = top[:trending_count]
        seen.update(c.key for c in top)
        if top:
            sections.append(Section("trending", "Trending", top))
        for query in subscription.topics or ():
            cards = [c for c in self.topic_cards(query, period) if c.key not in seen]
            cards = cards[:TOPIC_PAPERS]
            seen.update(c.key for c in cards)
            if cards:
                sections.append(Section("topic", query, cards,
                                        feed_url=topic_search.feed_url(base=self.base, query=query)))
        if not sections:
            return None
        token = manage_token(secret=self.settings.secret_key, subscription=subscription)
        unsubscribe_url, mailto = unsubscribe_links(settings=self.settings, token=token)
        noun = "today's" if period.cadence == "daily" else "this week's"
        what = "papers for you" if sections[0].kind in ("for_you", "follows") else "trending papers"
        return Digest(
            subscription=subscription, period=period,
            subject=f"{self.settings.site_name}: {noun} {what} · {period.title}",
            sections=sections,
            manage_url=f"{self.base}/subscriptions/manage?{urlencode({'token': token})}",
            unsubscribe_url=unsubscribe_url, unsubscribe_mailto=mailto)

    def message(self, digest: Digest, *, delivery_id: int) -> EmailMessage:
        """The mail of a digest: HTML + text, the RFC 8058 headers, a Message-ID naming the row."""
        context = {"digest": digest, "site_name": self.settings.site_name, "base_url": self.base,
                   "paper_url": self.paper_url}
        message = compose(
            sender=self.settings.mail_from, to=digest.subscription.email, subject=digest.subject,
            text=self.templates.get_template("digest.txt").render(context),
            html=self.templates.get_template("digest.html").render(context),
            headers={
                "List-Unsubscribe": f"<{digest.unsubscribe_url}>, <{digest.unsubscribe_mailto}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "List-Id": f"{self.settings.site_name} digest <digest.{mail_domain(self.settings)}>",
            },
        )
        del message["Message-ID"]
        message["Message-ID"] = (f"<digest.{delivery_id}.{digest.period.key.replace(':', '.')}"
                                 f"@{mail_domain(self.settings)}>")
        return message
