"""web sessions and invitations for the Admin Center

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tokenry.storage.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
WHEN = tokenry.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'web_sessions',
        sa.Column('id', ID, nullable=False),
        sa.Column('account_id', ID, nullable=False),
        sa.Column('user_id', ID, nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('last_seen_at', WHEN, nullable=False),
        sa.Column('ip_address', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('secret_hash'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'])
    op.create_table(
        'invitations',
        sa.Column('id', ID, nullable=False),
        sa.Column('account_id', ID, nullable=False),
        sa.Column('user_id', ID, nullable=False),
        sa.Column('link_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', ID, nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('expires_at', WHEN, nullable=False),
        sa.Column('used_at', WHEN, nullable=True),
        sa.Column('replaced_at', WHEN, nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('link_hash'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_invitations_user_id', 'invitations', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_invitations_user_id', table_name='invitations')
    op.drop_table('invitations')
    op.drop_index('ix_web_sessions_user_id', table_name='web_sessions')
    op.drop_table('web_sessions')
