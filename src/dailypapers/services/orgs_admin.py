"""Organizations run by their members: create one, manage who belongs, and check membership.

The creator becomes the organization's first admin; org admins (and site admins) invite accounts
by username or e-mail (the invitee joins by accepting), change roles and remove members; the last
admin cannot leave or step down. Members may submit papers on the organization's behalf.
Nothing here commits: each function runs in the caller's transaction (``with db.begin():``).
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dailypapers.services.accounts import find_user
from dailypapers.services.errors import Conflict, Forbidden, Invalid, NotFound
from dailypapers.store import Invitation, Membership, Organization, User
from dailypapers.store.base import utcnow
from dailypapers.store.memberships import ORG_ADMIN, ORG_MEMBER

HANDLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,99}$")


def _clean_name(name: str) -> str:
    text = " ".join(name.split())
    if not text:
        raise Invalid("give the organization a name")
    if len(text) > 300:
        raise Invalid("an organization name has at most 300 characters")
    return text


def get_org(*, db: Session, handle: str) -> Organization:
    org = db.scalar(select(Organization).where(Organization.handle == handle))
    if org is None:
        raise NotFound(f"no organization {handle!r}")
    return org


def create_org(*, db: Session, user: User, handle: str, name: str) -> Organization:
    """A new organization with ``user`` as its admin."""
    handle = handle.strip()
    if not HANDLE.match(handle):
        raise Invalid("a handle has 2–100 letters, digits, '.', '-' or '_'")
    taken = db.scalar(select(Organization.id).where(
        func.lower(Organization.handle) == handle.lower()))
    if taken is not None:
        raise Conflict(f"the handle {handle!r} is taken", link=f"/orgs/{handle}")
    org = Organization(handle=handle, name=_clean_name(name), created_at=utcnow())
    db.add(org)
    try:
        db.flush()
        db.add(Membership(organization_id=org.id, user_id=user.id, role=ORG_ADMIN))
        db.flush()
    except IntegrityError as exc:
        raise Conflict(f"the handle {handle!r} is taken") from exc
    return org


def role_in(*, db: Session, org_id: int, user_id: int) -> str | None:
    return db.scalar(select(Membership.role).where(Membership.organization_id == org_id,
                                                   Membership.user_id == user_id))


def can_manage(*, db: Session, org: Organization, user: User | None) -> bool:
    if user is None:
        return False
    return user.is_admin or role_in(db=db, org_id=org.id, user_id=user.id) == ORG_ADMIN


def _require_manager(db: Session, org: Organization, actor: User) -> None:
    if not can_manage(db=db, org=org, user=actor):
        raise Forbidden("only the organization's admins can manage it")


def rename_org(*, db: Session, actor: User, handle: str, name: str) -> Organization:
    org = get_org(db=db, handle=handle)
    _require_manager(db, org, actor)
    org.name = _clean_name(name)
    db.flush()
    return org


def add_member(*, db: Session, actor: User, handle: str, username: str,
               role: str = ORG_MEMBER) -> Membership:
    """Add a user to the organization (or change their role in it)."""
    org = get_org(db=db, handle=handle)
    _require_manager(db, org, actor)
    if role not in (ORG_ADMIN, ORG_MEMBER):
        raise Invalid("a member's role is 'admin' or 'member'")
    user = find_user(db=db, login=username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    membership = db.get(Membership, (org.id, user.id))
    if membership is None:
        membership = Membership(organization_id=org.id, user_id=user.id, role=role)
        db.add(membership)
    else:
        if membership.role == ORG_ADMIN and role != ORG_ADMIN:
            _keep_an_admin(db, org)
        membership.role = role
    try:
        db.flush()
    except IntegrityError as exc:  # added concurrently: the row is there, which is what was asked
        raise Conflict(f"{user.username} was just added by someone else") from exc
    return membership


def invite(*, db: Session, actor: User, handle: str, invitee: str, role: str = ORG_MEMBER) -> None:
    """Invite the account named by a username or an e-mail address; it joins when it accepts.

    Returns nothing, on purpose: whether ``invitee`` names an account is not the inviter's to
    learn (an e-mail address must not reveal a username), so the answer is the same either way.
    Inviting a current member offers them the new role; accepting sets it.
    """
    org = get_org(db=db, handle=handle)
    _require_manager(db, org, actor)
    if role not in (ORG_ADMIN, ORG_MEMBER):
        raise Invalid("a member's role is 'admin' or 'member'")
    typed = invitee.strip()
    if not typed or len(typed) > 254:
        raise Invalid("give a username or an e-mail address")
    user = find_user(db=db, login=typed)
    if user is None or not user.is_active:
        return
    invitation = db.get(Invitation, (org.id, user.id))
    if invitation is None:
        db.add(Invitation(organization_id=org.id, user_id=user.id, role=role, invited_by=actor.id,
                          created_at=utcnow()))
    else:
        invitation.role = role
    try:
        db.flush()
    except IntegrityError as exc:  # invited twice at once: one invitation stands
        raise Conflict("this account was just invited by someone else") from exc


def invitations_for(*, db: Session, user_id: int) -> list[Invitation]:
    """The invitations waiting for an account's answer, oldest first."""
    return list(db.scalars(select(Invitation).where(Invitation.user_id == user_id)
                           .order_by(Invitation.created_at)))


def answer_invitation(*, db: Session, user: User, handle: str, accept: bool) -> Membership | None:
    """Accept (join, or take the offered role) or decline an organization's invitation."""
    org = get_org(db=db, handle=handle)
    invitation = db.get(Invitation, (org.id, user.id))
    if invitation is None:
        raise NotFound(f"no invitation from {org.handle}")
    db.delete(invitation)
    membership = None
    if accept:
        membership = db.get(Membership, (org.id, user.id))
        if membership is None:
            membership = Membership(organization_id=org.id, user_id=user.id, role=invitation.role)
            db.add(membership)
        elif membership.role != invitation.role:
            if membership.role == ORG_ADMIN:
                _keep_an_admin(db, org)
            membership.role = invitation.role
    try:
        db.flush()
    except IntegrityError as exc:  # answered twice at once: the first answer stands
        raise Conflict("this invitation was already answered") from exc
    return membership


def set_role(*, db: Session, actor: User, handle: str, username: str, role: str) -> Membership:
    """Change a current member's role (members are public, so this is by username)."""
    org = get_org(db=db, handle=handle)
    _require_manager(db, org, actor)
    if role not in (ORG_ADMIN, ORG_MEMBER):
        raise Invalid("a member's role is 'admin' or 'member'")
    user = find_user(db=db, login=username) if "@" not in username else None
    membership = db.get(Membership, (org.id, user.id)) if user else None
    if membership is None:
        raise NotFound(f"{username!r} is not a member of {org.handle}")
    if membership.role == ORG_ADMIN and role != ORG_ADMIN:
        _keep_an_admin(db, org)
    membership.role = role
    return membership


def remove_member(*, db: Session, actor: User, handle: str, username: str) -> None:
    org = get_org(db=db, handle=handle)
    _require_manager(db, org, actor)
    # By username only: an e-mail address here would tell who is behind it.
    user = find_user(db=db, login=username) if "@" not in username else None
    membership = db.get(Membership, (org.id, user.id)) if user else None
    if membership is None:
        raise NotFound(f"{username!r} is not a member of {org.handle}")
    if membership.role == ORG_ADMIN:
        _keep_an_admin(db, org)
    db.delete(membership)
    db.flush()


def _keep_an_admin(db: Session, org: Organization) -> None:
    """Refuse to take away an admin when they are the last one (nobody could manage the org).

    The admin rows are locked (PostgreSQL) so two admins demoting each other at once cannot
    both see the other one still there.
    """
    admins = db.scalars(select(Membership.user_id).where(
        Membership.organization_id == org.id, Membership.role == ORG_ADMIN).with_for_update()).all()
    if len(admins) <= 1:
        raise Invalid("an organization keeps at least one admin; make someone else an admin first")


def members(*, db: Session, handle: str) -> list[Membership]:
    org = get_org(db=db, handle=handle)
    return list(db.scalars(select(Membership).join(User).where(Membership.organization_id == org.id)
                           .order_by(Membership.role, User.username_key)))


def orgs_of(*, db: Session, user_id: int) -> list[Organization]:
    """The organizations a user may submit for."""
    return list(db.scalars(select(Organization).join(Membership).where(Membership.user_id == user_id)
                           .order_by(Organization.handle)))
