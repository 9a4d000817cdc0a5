"""The store: SQLAlchemy 2 typed models, the engine/session factory and Alembic migrations."""

from dailypapers.store.base import Base
from dailypapers.store.daily import DailyEntry
from dailypapers.store.embeddings import Embedding, SentenceEmbedding
from dailypapers.store.orgs import Organization
from dailypapers.store.papers import Author, Paper, PaperAuthor
from dailypapers.store.comments import Comment
from dailypapers.store.memberships import Invitation, Membership
from dailypapers.store.ratelimits import RateLimit
from dailypapers.store.users import ApiToken, LoginSession, PasswordReset, Role, User
from dailypapers.store.votes import Upvote
from dailypapers.store.subscriptions import Subscription
from dailypapers.store.deliveries import Delivery
from dailypapers.store.sync_state import SyncState
from dailypapers.store.pending import PendingSubmission
from dailypapers.store.library import Collection, CollectionItem, FeedToken, Follow, PaperState
from dailypapers.store.dismissals import Dismissal
from dailypapers.store.catalog_identity import CatalogIdentity

__all__ = ["Base", "Author", "DailyEntry", "Embedding", "SentenceEmbedding", "Organization", "Paper",
           "PaperAuthor",
           "ApiToken", "Comment", "Invitation", "LoginSession", "Membership", "PasswordReset",
           "RateLimit", "Role", "Upvote", "User", "Subscription", "Delivery", "SyncState",
           "PendingSubmission", "Collection", "CollectionItem", "FeedToken", "Follow", "PaperState", "Dismissal",
           "CatalogIdentity"]
