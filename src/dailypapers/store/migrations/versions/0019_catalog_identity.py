"""catalog identity: a random id written once, naming the database the search indexes were built from

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""
import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'catalog_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('catalog_id', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_identity')),
    )
    op.bulk_insert(table, [{"id": 1, "catalog_id": uuid.uuid4().hex,
                            "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None)}])


def downgrade() -> None:
    op.drop_table('catalog_identity')
