"""search: index embeddings by (model, created_at) for the vector index's freshness check

The in-process vector index asks "what is the newest vector of this model?" before every
semantic query; this index answers it without scanning the table.

Revision ID: 0008
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op


revision = '0008'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('embeddings', schema=None) as batch_op:
        batch_op.create_index('ix_embeddings_model_created_at', ['model', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('embeddings', schema=None) as batch_op:
        batch_op.drop_index('ix_embeddings_model_created_at')
