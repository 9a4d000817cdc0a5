"""Creating organizations and managing their members (the public org page is the site's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from dailypapers.services import orgs_admin, ratelimits
from dailypapers.services.errors import Conflict, Invalid
from dailypapers.web.auth import CSRF, CurrentUser, Viewed, limit_by_user, render
from dailypapers.web.deps import get_db

router = APIRouter()
DB = Annotated[Session, Depends(get_db)]


@router.get("/orgs/new")
def new_org_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "community/org_new.html", {"form": {}})


@router.post("/orgs/new", dependencies=[*CSRF, limit_by_user(ratelimits.ORG_USER)])
def create_org(request: Request, db: DB, user: CurrentUser, handle: Annotated[str, Form()] = "",
               name: Annotated[str, Form()] = "") -> Response:
    try:
        with db.begin():
            org = orgs_admin.create_org(db=db, user=user, handle=handle, name=name)
    except (Invalid, Conflict) as exc:
        return render(request, "community/org_new.html",
                      {"error": exc.message, "form": {"handle": handle, "name": name}},
                      status=exc.status)
    return RedirectResponse(f"/orgs/{org.handle}/members", status_code=303)


@router.get("/orgs/{handle}/members")
def members_page(request: Request, handle: str, db: DB, viewer: Viewed, invited: str = "") -> Response:
    org = orgs_admin.get_org(db=db, handle=handle)
    return render(request, "community/org_members.html", {
        "org": org, "members": orgs_admin.members(db=db, handle=handle), "invited": bool(invited),
        "can_manage": orgs_admin.can_manage(db=db, org=org, user=viewer.user)})


@router.post("/orgs/{handle}/members", dependencies=CSRF)
def invite_member(handle: str, db: DB, user: CurrentUser, invitee: Annotated[str, Form()] = "",
                  role: Annotated[str, Form()] = "member") -> Response:
    """Invite by username or e-mail; the answer is the same whether or not the account exists."""
    with db.begin():
        orgs_admin.invite(db=db, actor=user, handle=handle, invitee=invitee, role=role)
    return RedirectResponse(f"/orgs/{handle}/members?invited=1", status_code=303)


@router.post("/orgs/{handle}/members/{username}/role", dependencies=CSRF)
def set_role(handle: str, username: str, db: DB, user: CurrentUser,
             role: Annotated[str, Form()] = "member") -> Response:
    with db.begin():
        orgs_admin.set_role(db=db, actor=user, handle=handle, username=username, role=role)
    return RedirectResponse(f"/orgs/{handle}/members", status_code=303)


@router.get("/invitations")
def invitations_page(request: Request, db: DB, user: CurrentUser) -> Response:
    return render(request, "community/invitations.html",
                  {"invitations": orgs_admin.invitations_for(db=db, user_id=user.id)})


@router.post("/orgs/{handle}/invitation", dependencies=CSRF)
def answer_invitation(handle: str, db: DB, user: CurrentUser,
                      answer: Annotated[str, Form()] = "") -> Response:
    if answer not in ("accept", "decline"):
        raise Invalid("answer 'accept' or 'decline'")
    with db.begin():
        orgs_admin.answer_invitation(db=db, user=user, handle=handle, accept=answer == "accept")
    return RedirectResponse(f"/orgs/{handle}/members" if answer == "accept" else "/invitations",
                            status_code=303)


@router.post("/orgs/{handle}/members/{username}/remove", dependencies=CSRF)
def remove_member(handle: str, username: str, db: DB, user: CurrentUser) -> Response:
    with db.begin():
        orgs_admin.remove_member(db=db, actor=user, handle=handle, username=username)
    return RedirectResponse(f"/orgs/{handle}/members", status_code=303)


@router.post("/orgs/{handle}/name", dependencies=CSRF)
def rename(handle: str, db: DB, user: CurrentUser, name: Annotated[str, Form()] = "") -> Response:
    with db.begin():
        orgs_admin.rename_org(db=db, actor=user, handle=handle, name=name)
    return RedirectResponse(f"/orgs/{handle}/members", status_code=303)
