"""secret key ids: every table that stores a hash keyed with the server secret records the
keyring key that made it (NULL for rows made before: the original key)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TABLES = ('api_tokens', 'deliveries', 'calendar_feeds', 'web_sessions', 'invitations',
          'oauth_clients', 'oauth_codes', 'oauth_tokens')


def upgrade() -> None:
    # a nullable column without a default: no table rewrite on either database
    for table in TABLES:
        op.add_column(table, sa.Column('key_id', sa.String(length=16), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('key_id')
