"""Organizations as the site lists them: an organization and the papers featured for it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.services.papers import OrgRef, PaperCard, card_select, fetch_cards
from dailypapers.store import DailyEntry, Membership, Organization, Paper


@dataclass(frozen=True)
class OrgPage:
    org: OrgRef
    cards: list[PaperCard]
    total: int
    page: int
    page_size: int
    #: The viewer's role in the organization (``None``: not a member, or nobody logged in).
    viewer_role: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def get_org(*, db: Session, handle: str) -> OrgRef | None:
    row = db.execute(select(Organization.id, Organization.handle, Organization.name, Organization.avatar_url)
                     .where(Organization.handle == handle)).first()
    return OrgRef(*row) if row else None


def org_page(*, db: Session, handle: str, page: int = 0, page_size: int = 60,
             viewer_id: int | None = None) -> OrgPage | None:
    """The papers featured for an organization, newest featured day first, and the role in it of
    the user ``viewer_id``; ``None`` if the organization is unknown."""
    org = get_org(db=db, handle=handle)
    if org is None:
        return None
    where = DailyEntry.organization_id == org.id
    stmt = (card_select().where(where)
            .order_by(DailyEntry.day.desc(), Paper.upvotes.desc(), Paper.id)
            .limit(page_size).offset(page * page_size))
    total = db.scalar(select(func.count()).select_from(DailyEntry).where(where)) or 0
    role = None if viewer_id is None else db.scalar(
        select(Membership.role).where(Membership.organization_id == org.id,
                                      Membership.user_id == viewer_id))
    return OrgPage(org=org, cards=fetch_cards(db=db, stmt=stmt), total=total, page=page,
                   page_size=page_size, viewer_role=role)


def org_choices(*, db: Session, limit: int = 300) -> list[OrgRef]:
    """Organizations for the search filter's suggestions: those with the most featured papers."""
    rows = db.execute(select(Organization.id, Organization.handle, Organization.name)
                      .join(DailyEntry, DailyEntry.organization_id == Organization.id)
                      .group_by(Organization.id, Organization.handle, Organization.name)
                      .order_by(func.count(DailyEntry.id).desc(), Organization.handle).limit(limit))
    return [OrgRef(*row) for row in rows]
