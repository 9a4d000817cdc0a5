"""library: collections, collection items, per-member paper state, follows, private feed tokens

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'collections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('name_key', sa.String(length=100), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('visibility', sa.String(length=16), nullable=False),
        sa.Column('share_token', sa.String(length=64), nullable=True),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_collections_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_collections')),
        sa.UniqueConstraint('share_token', name=op.f('uq_collections_share_token')),
        sa.UniqueConstraint('user_id', 'name_key', name=op.f('uq_collections_user_id')),
    )
    op.create_table(
        'collection_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('collection_id', sa.Integer(), nullable=False),
        sa.Column('paper_id', sa.Integer(), nullable=False),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['collection_id'], ['collections.id'],
                                name=op.f('fk_collection_items_collection_id_collections'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['paper_id'], ['papers.id'],
                                name=op.f('fk_collection_items_paper_id_papers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_items')),
        sa.UniqueConstraint('collection_id', 'paper_id', name=op.f('uq_collection_items_collection_id')),
    )
    op.create_index(op.f('ix_collection_items_paper_id'), 'collection_items', ['paper_id'], unique=False)
    op.create_table(
        'paper_states',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('paper_id', sa.Integer(), nullable=False),
        sa.Column('saved_at', sa.DateTime(), nullable=True),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['paper_id'], ['papers.id'], name=op.f('fk_paper_states_paper_id_papers'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_paper_states_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_states')),
        sa.UniqueConstraint('user_id', 'paper_id', name=op.f('uq_paper_states_user_id')),
    )
    op.create_index(op.f('ix_paper_states_paper_id'), 'paper_states', ['paper_id'], unique=False)
    op.create_index('ix_paper_states_user_saved', 'paper_states', ['user_id', 'saved_at'], unique=False)
    op.create_table(
        'follows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('target', sa.String(length=700), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('query', sa.String(length=600), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['authors.id'], name=op.f('fk_follows_author_id_authors'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_follows_organization_id_organizations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follows_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follows')),
        sa.UniqueConstraint('user_id', 'target', name=op.f('uq_follows_user_id')),
    )
    op.create_index(op.f('ix_follows_author_id'), 'follows', ['author_id'], unique=False)
    op.create_index(op.f('ix_follows_organization_id'), 'follows', ['organization_id'], unique=False)
    op.create_table(
        'feed_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_feed_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_feed_tokens_token_hash')),
        sa.UniqueConstraint('user_id', name=op.f('uq_feed_tokens_user_id')),
    )


def downgrade() -> None:
    op.drop_table('feed_tokens')
    op.drop_index(op.f('ix_follows_organization_id'), table_name='follows')
    op.drop_index(op.f('ix_follows_author_id'), table_name='follows')
    op.drop_table('follows')
    op.drop_index('ix_paper_states_user_saved', table_name='paper_states')
    op.drop_index(op.f('ix_paper_states_paper_id'), table_name='paper_states')
    op.drop_table('paper_states')
    op.drop_index(op.f('ix_collection_items_paper_id'), table_name='collection_items')
    op.drop_table('collection_items')
    op.drop_table('collections')
