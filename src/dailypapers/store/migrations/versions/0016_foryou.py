"""for you: "not interested" (dismissals) and the digest kind of a subscription

Revision ID: 0016
Revises: 0015, 0004
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = ('0015', '0004')  # the library branch and the digests' (subscriptions gets a column)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dismissals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('paper_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_dismissals_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['paper_id'], ['papers.id'], name=op.f('fk_dismissals_paper_id_papers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dismissals')),
        sa.UniqueConstraint('user_id', 'paper_id', name=op.f('uq_dismissals_user_id')),
    )
    op.create_index('ix_dismissals_user_created', 'dismissals', ['user_id', 'created_at'])
    op.create_index(op.f('ix_dismissals_paper_id'), 'dismissals', ['paper_id'])
    with op.batch_alter_table('subscriptions') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), nullable=False,
                                   server_default='trending'))


def downgrade() -> None:
    with op.batch_alter_table('subscriptions') as batch:
        batch.drop_column('kind')
    op.drop_index(op.f('ix_dismissals_paper_id'), table_name='dismissals')
    op.drop_index('ix_dismissals_user_created', table_name='dismissals')
    op.drop_table('dismissals')
