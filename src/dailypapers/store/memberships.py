"""Organization membership: which users belong to an organization, and who administers it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dailypapers.store.base import Base, utcnow
from dailypapers.store.orgs import Organization
from dailypapers.store.users import User

ORG_ADMIN = "admin"
ORG_MEMBER = "member"


class Membership(Base):
    __tablename__ = "org_memberships"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), default=ORG_MEMBER)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
    organization: Mapped[Organization] = relationship(lazy="joined")


class Invitation(Base):
    """An organization's standing offer to one account; a Membership once the invitee accepts.

    Nothing about it is public: the inviter is told the same whether or not the name or address
    they typed belongs to an account, and the account appears among the members only after it
    accepted.
    """

    __tablename__ = "org_invitations"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), default=ORG_MEMBER)
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    organization: Mapped[Organization] = relationship(lazy="joined")
