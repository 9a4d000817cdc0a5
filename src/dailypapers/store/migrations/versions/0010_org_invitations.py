"""org_invitations: an organization invites an account; it joins only when it accepts

Revision ID: 0010
Revises: 0003
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('org_invitations',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('invited_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_org_invitations_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_org_invitations_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by'], ['users.id'], name=op.f('fk_org_invitations_invited_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('organization_id', 'user_id', name=op.f('pk_org_invitations'))
    )
    op.create_index(op.f('ix_org_invitations_user_id'), 'org_invitations', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_org_invitations_user_id'), table_name='org_invitations')
    op.drop_table('org_invitations')
