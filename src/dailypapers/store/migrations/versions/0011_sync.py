"""sync: sync_state (one checkpoint per upstream source, and the scheduler's lease), and the
fields Hugging Face serves that the store used to drop (AI summary and keywords, GitHub stars,
media and thumbnail URLs, submitter full name and avatar, organization avatar, author handles),
and daily_entries.estimated (a featured day guessed from a seed card's date)

Revision ID: 0011
Revises: 0001
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sync_state',
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('cursor', sa.String(length=200), nullable=True),
    sa.Column('last_started_at', sa.DateTime(), nullable=True),
    sa.Column('last_success_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.DateTime(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('lease_holder', sa.String(length=100), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_sync_state'))
    )
    with op.batch_alter_table('papers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ai_summary', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('ai_summary_model', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('ai_keywords', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('github_stars', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('media_urls', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('thumbnail', sa.String(length=500), nullable=True))
    with op.batch_alter_table('paper_authors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user', sa.String(length=100), nullable=True))
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('avatar_url', sa.String(length=500), nullable=True))
    with op.batch_alter_table('daily_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitter_fullname', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('submitter_avatar_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('estimated', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('daily_entries', schema=None) as batch_op:
        batch_op.drop_column('estimated')
        batch_op.drop_column('submitter_avatar_url')
        batch_op.drop_column('submitter_fullname')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('avatar_url')
    with op.batch_alter_table('paper_authors', schema=None) as batch_op:
        batch_op.drop_column('user')
    with op.batch_alter_table('papers', schema=None) as batch_op:
        batch_op.drop_column('thumbnail')
        batch_op.drop_column('media_urls')
        batch_op.drop_column('github_stars')
        batch_op.drop_column('ai_keywords')
        batch_op.drop_column('ai_summary_model')
        batch_op.drop_column('ai_summary')
    op.drop_table('sync_state')
