"""sentence embeddings: one row per (paper, model) with the vectors of its abstract sentences

Sentence-level matching of similar papers and searches (issue 15); filled by `dailypapers embed`.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sentence_embeddings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('paper_id', sa.Integer(), nullable=False),
        sa.Column('model', sa.String(length=200), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('dim', sa.Integer(), nullable=False),
        sa.Column('vectors', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['paper_id'], ['papers.id'],
                                name=op.f('fk_sentence_embeddings_paper_id_papers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sentence_embeddings')),
        sa.UniqueConstraint('paper_id', 'model', name=op.f('uq_sentence_embeddings_paper_id')),
    )
    with op.batch_alter_table('sentence_embeddings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sentence_embeddings_paper_id'), ['paper_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sentence_embeddings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sentence_embeddings_paper_id'))
    op.drop_table('sentence_embeddings')
