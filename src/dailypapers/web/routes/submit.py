"""Submitting papers by arXiv id or URL (form and JSON API), with a manual form for curators."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from dailypapers.services import orgs_admin, pending_submissions, ratelimits, submissions
from dailypapers.services.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from dailypapers.sources.arxiv_client import ArxivClient
from dailypapers.store import User
from dailypapers.web.auth import CSRF, ApiUser, CurrentUser, limit_by_user, render
from dailypapers.web.deps import get_db
from dailypapers.web.openapi import TOKEN, WRITE, link, responses

router = APIRouter()
log = logging.getLogger(__name__)
DB = Annotated[Session, Depends(get_db)]


def _org_id(db: Session, user: User, handle: str) -> int | None:
    if not handle:
        return None
    for org in orgs_admin.orgs_of(db=db, user_id=user.id):
        if org.handle == handle:
            return org.id
    raise Forbidden(f"you are not a member of {handle!r}")


def _form(request: Request, db: Session, user: User, *, status: int = 200, **context: object) -> Response:
    orgs = orgs_admin.orgs_of(db=db, user_id=user.id)
    return render(request, "community/submit.html", {"orgs": orgs, **context}, status=status)


@router.get("/submit")
def submit_page(request: Request, db: DB, user: CurrentUser,
                organization: Annotated[str, Query(max_length=100)] = "") -> Response:
    # ?organization= preselects it (the org page's "Submit on behalf of" link); others are ignored.
    return _form(request, db, user, ref="", organization=organization)


@router.post("/submit", dependencies=[*CSRF, limit_by_user(ratelimits.SUBMIT_USER)])
def submit(request: Request, db: DB, user: CurrentUser, ref: Annotated[str, Form()] = "",
           organization: Annotated[str, Form()] = "") -> Response:
    values = {"ref": ref, "organization": organization}
    try:
        with db.begin():
            org_id = _org_id(db, user, organization)
        with ArxivClient.from_settings(request.app.state.settings) as arxiv:
            entry = submissions.submit_paper(db=db, arxiv=arxiv, user=user, ref=ref,
                                             organization_id=org_id)
    except submissions.SourceUnavailable as exc:
        # Never a dead end: keep it and fetch it later (services/pending_submissions.py).
        log.warning("arXiv unavailable for %s: %s", exc.arxiv_id, exc.detail)
        kept = pending_submissions.keep(db=db, user=user, arxiv_id=exc.arxiv_id,
                                        organization_id=_org_id(db, user, organization),
                                        day=submissions.today_utc(), reason=exc.message)
        return _form(request, db, user, status=202, kept=kept, reason=exc.message,
                     manual=user.is_curator, **values)
    except (Invalid, NotFound, Conflict) as exc:
        return _form(request, db, user, status=exc.status, error=exc.message,
                     link=getattr(exc, "link", None), **values)
    return RedirectResponse(f"/papers/date/{entry.day.isoformat()}", status_code=303)


@router.post("/submit/manual", dependencies=[*CSRF, limit_by_user(ratelimits.SUBMIT_USER)])
def submit_manual(request: Request, db: DB, user: CurrentUser, ref: Annotated[str, Form()] = "",
                  title: Annotated[str, Form()] = "", abstract: Annotated[str, Form()] = "",
                  authors: Annotated[str, Form()] = "", published: Annotated[str, Form()] = "",
                  organization: Annotated[str, Form()] = "") -> Response:
    values = {"ref": ref, "organization": organization, "title": title, "abstract": abstract,
              "authors": authors, "published": published}
    try:
        published_on = dt.date.fromisoformat(published) if published.strip() else None
    except ValueError:
        return _form(request, db, user, status=400, error="publication date must be YYYY-MM-DD",
                     manual=user.is_curator, **values)
    try:
        with db.begin():
            entry = submissions.submit_manual(
                db=db, user=user, ref=ref, title=title, abstract=abstract,
                authors=authors.splitlines(), published_on=published_on,
                organization_id=_org_id(db, user, organization))
    except ServiceError as exc:
        return _form(request, db, user, status=exc.status, error=exc.message,
                     link=getattr(exc, "link", None), manual=user.is_curator, **values)
    return RedirectResponse(f"/papers/date/{entry.day.isoformat()}", status_code=303)


#: An arXiv identifier as the API takes it (the HTML form also takes arxiv.org links): new style
#: ``2401.01234``, old style ``hep-th/9901001``, an optional ``arXiv:`` prefix and version.
ARXIV_REF = (r"^(?:[Aa][Rr][Xx][Ii][Vv]:)?(?:[0-9]{4}\.[0-9]{4,5}|[A-Za-z][A-Za-z.-]{0,30}/[0-9]{7})"
             r"(?:[Vv][0-9]{1,4})?$")


class SubmissionIn(BaseModel):
    id: str = Field(description="An arXiv id: 2401.01234, 2401.01234v2, arXiv:2401.01234 or hep-th/9901001.",
                    pattern=ARXIV_REF, max_length=60)
    organization: str | None = Field(None, max_length=100,
                                     description="Handle of an organization you belong to (403 otherwise).")


class SubmissionOut(BaseModel):
    paper: str
    day: dt.date
    url: str


class SubmissionKept(BaseModel):
    """A submission arXiv could not be asked about now: kept, and fetched later automatically."""

    state: Literal["pending"] = "pending"
    arxiv_id: str = Field(description="The paper that will be fetched.")
    day: dt.date = Field(description="The day it is featured on once fetched.")
    message: str = Field(description="Why it waits, in plain words.")
    next_attempt_at: dt.datetime = Field(description="When arXiv is asked next (UTC).")
    attempts: int
    url: str = Field(description="The account page, where its state is shown.")


@router.post("/api/submissions", response_model=SubmissionOut, status_code=201,
             dependencies=[limit_by_user(ratelimits.SUBMIT_USER, api=True)], tags=["community"],
             openapi_extra=TOKEN, operation_id="submitPaper", summary="Feature a paper today",
             responses=responses(*WRITE, 403, 404, 409, extra={201: {"links": {
                 "paper": link("getPaper", "The submitted paper.", paper_id="$response.body#/paper"),
                 "upvote": link("upvotePaper", "Upvote it.", key="$response.body#/paper"),
                 "comment": link("commentOnPaper", "Comment on it.", key="$response.body#/paper"),
             }}, 202: {"model": SubmissionKept, "description": (
                 "arXiv cannot be reached or is slow: the submission is kept and fetched later "
                 "automatically (its state is on the account page); sending it again changes nothing.")}}))
def submit_api(request: Request, body: SubmissionIn, db: DB, user: ApiUser) -> Response | SubmissionOut:
    """Feature a paper today by its arXiv id, as the token's user (and organization)."""
    with db.begin():
        org_id = _org_id(db, user, body.organization or "")
    try:
        with ArxivClient.from_settings(request.app.state.settings) as arxiv:
            entry = submissions.submit_paper(db=db, arxiv=arxiv, user=user, ref=body.id,
                                             organization_id=org_id)
    except submissions.SourceUnavailable as exc:
        # As the form does: never a dead end, the submission waits for arXiv.
        log.warning("arXiv unavailable for %s: %s", exc.arxiv_id, exc.detail)
        kept = pending_submissions.keep(db=db, user=user, arxiv_id=exc.arxiv_id,
                                        organization_id=org_id, day=submissions.today_utc(),
                                        reason=exc.message)
        answer = SubmissionKept(arxiv_id=kept.arxiv_id, day=kept.day, message=kept.last_error,
                                next_attempt_at=kept.next_attempt_at.replace(tzinfo=dt.UTC),
                                attempts=kept.attempts,
                                url="/account")
        return JSONResponse(answer.model_dump(mode="json"), status_code=202)
    key = submissions.paper_key_for_entry(db=db, entry=entry)
    return SubmissionOut(paper=key, day=entry.day, url=f"/papers/{key}")
