"""The MCP server: the catalog's tools for assistants, over stdio (``dailypapers mcp``) or HTTP (``/mcp``).

Each tool is a thin handler like a route: it checks its arguments (the SDK validates them
against the tool's schema), opens one session, calls the services (one transaction per use
case; reads run in the session's one transaction) and returns a model from ``schemas``. No SQL
here (tests/lint/no_sql.py reads this package too).

Public tools need nothing. The member's tools (``for_you``, ``save_paper``) act for the member of an
API token, the same tokens as the JSON API (made at /account): over HTTP from the request's
``Authorization: Bearer`` header, over stdio from ``dailypapers mcp --token`` (or
``DAILYPAPERS_MCP_TOKEN``). The token is looked up on every call (``for_you``: in the read's
transaction; ``save_paper``: with the rate limit, before the save's), so a revoked token stops
working at once, even in a stdio server that has been running for days.
Without a valid one a personal tool answers the JSON-RPC error ``UNAUTHORIZED``, which clients
show as an error rather than as a tool result the model might take for data.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from collections.abc import Callable
from typing import Annotated, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import ToolAnnotations
from pydantic import Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from dailypapers.mcp import schemas
from dailypapers.search.engine import SearchEngine
from dailypapers.search.query import MAX_QUERY_CHARS, arxiv_id_of
from dailypapers.services import daily, library, papers, ratelimits, recommend, sessions, trending
from dailypapers.services.errors import ServiceError
from dailypapers.services.paper_markdown import paper_markdown
from dailypapers.services.periods import Period, PeriodError, PeriodKind, containing, parse_period
from dailypapers.services.search import Mode, SearchError, SearchFilters, SearchRequest, Sort
from dailypapers.services.search import search_papers as run_search
from dailypapers.services.search import similar_papers as find_similar
from dailypapers.settings import Settings
from dailypapers.store import User
from dailypapers.store.base import utcnow
from dailypapers.store.db import Database

#: JSON-RPC error code of a personal tool called without a valid API token (the range -32000 to
#: -32099 is the implementation's; the SDK itself uses -32000, -32001 and -32020 to -32042).
UNAUTHORIZED = -32003

PaperId = Annotated[str, Field(min_length=1, max_length=200,
                               description="An arXiv id (2401.01234, any version), an arxiv.org or hf.co paper URL, "
                                           "or a paper id returned by another tool.")]
Limit = Annotated[int, Field(ge=1, le=50, description="How many papers.")]
PageNo = Annotated[int, Field(ge=1, le=1000, description="Page of results, from 1.")]
Day = Annotated[dt.date | None, Field(description="YYYY-MM-DD")]

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
SAVE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
T = TypeVar("T")


class Tools:
    """The tools, bound to one database, search engine and (over stdio) member token."""

    def __init__(self, *, settings: Settings, database: Database, engine: SearchEngine,
                 token: str | None = None) -> None:
        self.settings = settings
        self.database = database
        self.engine = engine
        self.token = token

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def _session(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` on a session of its own; service refusals and a busy database become tool
        errors the assistant can read (as the web answers 4xx and 503), never a crash."""
        try:
            with self.database.session() as db:
                return work(db)
        except ServiceError as exc:
            raise ToolError(exc.message) from exc
        except (PoolTimeout, OperationalError) as exc:
            raise ToolError("the site's database is busy right now; try again in a few seconds") from exc

    def member(self, *, db: Session, ctx: Context, tool: str) -> User:
        """The member whose API token came with this call, or the ``UNAUTHORIZED`` error."""
        headers = ctx.headers
        if headers is None:  # stdio: the token given to `dailypapers mcp`
            token, how = self.token, "start `dailypapers mcp` with DAILYPAPERS_MCP_TOKEN set to one"
        else:
            scheme, _, value = headers.get("authorization", "").partition(" ")
            token = value.strip() if scheme.lower() == "bearer" else None
            how = "send it as `Authorization: Bearer <token>`"
        where = f"{self.base_url.rstrip('/')}/account"
        if not token:
            raise MCPError(UNAUTHORIZED, f"{tool} acts for a member and needs their API token "
                                         f"(create one at {where}); {how}")
        user = sessions.user_for_api_token(db=db, token=token)
        if user is None:
            raise MCPError(UNAUTHORIZED, f"{tool}: unknown or revoked API token (create a new one at {where})")
        return user

    # -- public tools ------------------------------------------------------------------------

    def search_papers(
        self,
        query: Annotated[str, Field(max_length=MAX_QUERY_CHARS, description=(
            'Any text: words, "a phrase", -excluded words, an arXiv id or URL. Empty: browse by sort.'))] = "",
        limit: Limit = 10,
        page: PageNo = 1,
        sort: Annotated[Sort, Field(description="relevance, trending, newest or upvotes.")] = "relevance",
        mode: Annotated[Mode, Field(description="hybrid (keywords + meaning), keyword or semantic.")] = "hybrid",
        published_from: Day = None,
        published_to: Day = None,
        featured_from: Day = None,
        featured_to: Day = None,
        organization: Annotated[str | None, Field(max_length=100, description="Organization handle.")] = None,
        has_code: Annotated[bool | None, Field(description="Only papers with (true) or without (false) code.")] = None,
        min_upvotes: Annotated[int | None, Field(ge=0, le=1_000_000)] = None,
    ) -> schemas.SearchResults:
        """Search the catalog by keywords and meaning (the site's hybrid search), with filters."""
        filters = SearchFilters(published_from=published_from, published_to=published_to,
                                featured_from=featured_from, featured_to=featured_to,
                                organization=organization or None, has_code=has_code, min_upvotes=min_upvotes)
        request = SearchRequest(q=query, filters=filters, sort=sort, mode=mode, page=page, per_page=limit)

        def work(db: Session) -> schemas.SearchResults:
            if filters.matches_nothing:
                return schemas.SearchResults(papers=[], total=0, page=page)
            try:
                result = run_search(db=db, engine=self.engine, request=request)
            except SearchError as exc:
                raise ToolError(str(exc)) from exc
            return schemas.SearchResults(
                papers=schemas.summaries([hit.card for hit in result.hits], base_url=self.base_url),
                total=result.total, page=page, notice=result.notice)

        return self._session(work)

    def get_paper(self, paper_id: PaperId) -> str:
        """One paper as Markdown (title, authors, dates, links, abstract), as /papers/{id}.md serves it."""
        card = self._session(lambda db: _card(db, paper_id))
        return paper_markdown(card, base_url=self.base_url)

    def list_daily_papers(
        self,
        period: Annotated[str | None, Field(max_length=20, description=(
            "A day (2025-11-20), an ISO week (2025-W47) or a month (2025-11). "
            "Omitted: the newest day with featured papers."))] = None,
        sort: Annotated[daily.DailySort, Field(description=(
            "publishedAt: by featured day, most upvoted first; trending: the trending score."))] = "publishedAt",
        limit: Limit = 20,
        page: PageNo = 1,
    ) -> schemas.DailyPapers:
        """The papers featured in Daily Papers on a day, in a week or in a month."""
        asked = _period(period) if period else None

        def work(db: Session) -> schemas.DailyPapers:
            chosen = asked
            if chosen is None:
                newest = daily.latest_day(db=db)
                if newest is None:
                    return schemas.DailyPapers(period=None, papers=[])
                chosen = containing("day", newest)
            query = daily.DailyQuery(period=chosen, sort=sort, page=page - 1, limit=limit)
            cards = daily.daily_papers(db=db, query=query, now=utcnow())
            return schemas.DailyPapers(period=chosen.slug, papers=schemas.summaries(cards, base_url=self.base_url))

        return self._session(work)

    def similar_papers(self, paper_id: PaperId, limit: Limit = 10) -> schemas.PaperList:
        """Papers close to one paper in meaning and words, most similar first."""

        def work(db: Session) -> schemas.PaperList:
            card = _card(db, paper_id)
            cards = find_similar(db=db, engine=self.engine, paper_id=card.id, limit=limit)
            return schemas.PaperList(papers=schemas.summaries(cards, base_url=self.base_url))

        return self._session(work)

    def trending(self, limit: Limit = 10, page: PageNo = 1) -> schemas.Trending:
        """Trending papers: featured papers ranked by upvotes against age (the site's published formula)."""

        def work(db: Session) -> schemas.Trending:
            ranked = trending.trending(db=db, now=utcnow(), limit=limit, offset=(page - 1) * limit)
            items = [schemas.TrendingPaper(**schemas.summary(card, base_url=self.base_url).model_dump(),
                                           score=round(score, 4)) for card, score in ranked.ranked]
            return schemas.Trending(as_of=ranked.as_of, total=ranked.total, papers=items)

        return self._session(work)

    # -- the member's tools --------------------------------------------------------------------

    def for_you(
        self,
        ctx: Context,
        day: Annotated[dt.date | None, Field(description="YYYY-MM-DD; omitted: the newest featured day.")] = None,
        limit: Limit = 20,
    ) -> schemas.ForYou:
        """The day's papers and the recent catalog ranked for the member, from their library, upvotes
        and follows, each with the reason it is there. Needs the member's API token."""

        def work(db: Session) -> schemas.ForYou:
            user_id = self.member(db=db, ctx=ctx, tool="for_you").id
            ranked = recommend.for_you(db=db, user_id=user_id, day=day, limit=limit,
                                       model=self.settings.search_embedding_model, engine=self.engine)
            items = [schemas.ForYouPaper(**schemas.summary(item.card, base_url=self.base_url).model_dump(),
                                         reason=recommend.reason_text(item.reason),
                                         close_to=item.reason.paper_key, score=round(item.score, 6))
                     for item in ranked.items]
            return schemas.ForYou(day=ranked.day, cold_start=ranked.cold, kept=ranked.kept, papers=items)

        return self._session(work)

    def save_paper(
        self,
        paper_id: PaperId,
        ctx: Context,
        collection: Annotated[str | None, Field(max_length=100, description=(
            f"One of your collections, by name (made when new). Omitted: {library.DEFAULT_COLLECTION!r}."))] = None,
    ) -> schemas.SavedPaper:
        """Save a paper to the member's library, in a collection; saving it again changes nothing.
        Needs the member's API token."""

        def work(db: Session) -> schemas.SavedPaper:
            # Who, and the member's library rate limit (shared with the site's save buttons),
            # counted in a transaction of its own as the site's routes count it: a refused
            # save still counts.
            with db.begin():
                user_id = self.member(db=db, ctx=ctx, tool="save_paper").id
                ratelimits.hit(db=db, rule=ratelimits.LIBRARY_USER, subject=f"#{user_id}",
                               scale=self.settings.rate_limit_scale)
            with db.begin():  # the use case
                mark = library.save_paper(db=db, user_id=user_id, paper_key=_key(paper_id),
                                          collection=(collection or "").strip() or None)
            return schemas.SavedPaper(id=mark.key, saved=mark.saved, read=mark.read,
                                      collection=(collection or "").strip() or library.DEFAULT_COLLECTION,
                                      library_url=f"{self.base_url.rstrip('/')}/library")

        return self._session(work)


def _key(paper_id: str) -> str:
    """The paper key an id names: arxiv.org and hf.co paper URLs name their paper too."""
    return arxiv_id_of(paper_id) or paper_id.strip()


def _card(db: Session, paper_id: str) -> papers.PaperCard:
    """The card of the paper an id names, or a tool error."""
    card = papers.get_card(db=db, paper_id=_key(paper_id))
    if card is None:
        raise ToolError(f"no paper {paper_id[:80]!r}")
    return card


def _period(text: str) -> Period:
    kind: PeriodKind = "week" if "W" in text.upper() else ("month" if text.count("-") == 1 else "day")
    try:
        return parse_period(kind, text.strip().replace("w", "W"))
    except PeriodError as exc:
        raise ToolError(f"period: {exc} (or a day YYYY-MM-DD, a week YYYY-Www, a month YYYY-MM)") from exc


def build_server(tools: Tools) -> MCPServer:
    """An MCP server with every tool; ``http.install`` mounts it on the site, ``cli/mcp.py`` runs it."""
    server: MCPServer = MCPServer(
        "dailypapers", title=tools.settings.site_name, version=importlib.metadata.version("dailypapers"),
        website_url=tools.base_url,
        instructions=("Research papers from this Daily Papers site: search the catalog, read a paper, "
                      "list a day's featured papers, find similar papers and trending ones. The member's "
                      "tools (for_you, save_paper) act for the member whose API token the client sends."),
        # Only warnings: the SDK configures the root logger when none is, and the site's workers
        # log at warning level too.
        log_level="WARNING")
    for tool in (tools.search_papers, tools.get_paper, tools.list_daily_papers, tools.similar_papers,
                 tools.trending):
        server.add_tool(tool, annotations=READ)
    server.add_tool(tools.for_you, annotations=READ)
    server.add_tool(tools.save_paper, annotations=SAVE)
    return server
