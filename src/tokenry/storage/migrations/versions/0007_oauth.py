"""oauth: clients, authorization codes, access and refresh tokens

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tokenry.storage.types

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
WHEN = tokenry.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'oauth_clients',
        sa.Column('id', ID, nullable=False),
        sa.Column('account_id', ID, nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('identifier', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('redirect_uris', sa.JSON(), nullable=False),
        sa.Column('allowed_scopes', sa.JSON(), nullable=True),
        sa.Column('secret_hash', sa.String(length=64), nullable=True),
        sa.Column('secret_display', sa.String(length=64), nullable=True),
        sa.Column('user_id', ID, nullable=True),
        sa.Column('access_token_seconds', sa.Integer(), nullable=True),
        sa.Column('refresh_token_seconds', sa.Integer(), nullable=True),
        sa.Column('created_by_id', ID, nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('updated_at', WHEN, nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id', 'identifier',
                            name='uq_oauth_clients_account_identifier'),
        sa.UniqueConstraint('secret_hash'),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'oauth_codes',
        sa.Column('id', ID, nullable=False),
        sa.Column('account_id', ID, nullable=False),
        sa.Column('client_id', ID, nullable=False),
        sa.Column('user_id', ID, nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('redirect_uri', sa.String(length=2000), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('code_challenge', sa.String(length=128), nullable=True),
        sa.Column('code_challenge_method', sa.String(length=16), nullable=True),
        sa.Column('family', sa.String(length=32), nullable=False),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('expires_at', WHEN, nullable=False),
        sa.Column('used_at', WHEN, nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['client_id'], ['oauth_clients.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code_hash'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_oauth_codes_client_id', 'oauth_codes', ['client_id'])
    op.create_table(
        'oauth_tokens',
        sa.Column('id', ID, nullable=False),
        sa.Column('account_id', ID, nullable=False),
        sa.Column('client_id', ID, nullable=False),
        sa.Column('user_id', ID, nullable=False),
        sa.Column('access_hash', sa.String(length=64), nullable=False),
        sa.Column('refresh_hash', sa.String(length=64), nullable=True),
        sa.Column('display', sa.String(length=64), nullable=False),
        sa.Column('refresh_display', sa.String(length=64), nullable=True),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('grant_type', sa.String(length=32), nullable=False),
        sa.Column('family', sa.String(length=32), nullable=False),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('expires_at', WHEN, nullable=False),
        sa.Column('refresh_expires_at', WHEN, nullable=True),
        sa.Column('refreshed_at', WHEN, nullable=True),
        sa.Column('revoked_at', WHEN, nullable=True),
        sa.Column('used_at', WHEN, nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['client_id'], ['oauth_clients.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('access_hash'),
        sa.UniqueConstraint('refresh_hash'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_oauth_tokens_account', 'oauth_tokens', ['account_id', 'id'])
    op.create_index('ix_oauth_tokens_family', 'oauth_tokens', ['family'])
    op.create_index('ix_oauth_tokens_client_id', 'oauth_tokens', ['client_id'])


def downgrade() -> None:
    op.drop_index('ix_oauth_tokens_client_id', table_name='oauth_tokens')
    op.drop_index('ix_oauth_tokens_family', table_name='oauth_tokens')
    op.drop_index('ix_oauth_tokens_account', table_name='oauth_tokens')
    op.drop_table('oauth_tokens')
    op.drop_index('ix_oauth_codes_client_id', table_name='oauth_codes')
    op.drop_table('oauth_codes')
    op.drop_table('oauth_clients')
