"""merge every head into one: no schema change

The catalog's branches (community, digests, pgvector, search, org invitations, sync, library,
for-you, sentence embeddings) were left as separate heads; one head lets each new migration
name a single parent and lets a test reject a second head.

Revision ID: 0018
Revises: 0007, 0008, 0010, 0011, 0017
Create Date: 2026-12-05
"""

revision = '0018'
down_revision = ('0007', '0008', '0010', '0011', '0017')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
