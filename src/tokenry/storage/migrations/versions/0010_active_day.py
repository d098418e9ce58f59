"""api_tokens.active_on: the day of a token's last activity (its last use, else its creation),
indexed for the inactivity questions in place of the expression index on
coalesce(last_used_at, created_at). The usage flush rewrites last_used_at all the time; an
index on it ruled out PostgreSQL's in-place (HOT) updates for every flush, while the day
changes at most once a day per token.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD_INDEX = 'ix_api_tokens_account_last_activity'
NEW_INDEX = 'ix_api_tokens_account_active_on'


def upgrade() -> None:
    # dropped outside any batch: SQLite's batch mode cannot reflect an expression index
    op.drop_index(OLD_INDEX, table_name='api_tokens')
    if op.get_bind().dialect.name == 'postgresql':
        op.add_column('api_tokens', sa.Column('active_on', sa.Date(), nullable=True))
        op.execute("UPDATE api_tokens SET active_on = "
                   "(coalesce(last_used_at, created_at) AT TIME ZONE 'UTC')::date")
        op.alter_column('api_tokens', 'active_on', existing_type=sa.Date(), nullable=False)
    else:
        # SQLite adds a NOT NULL column only with a default, and making one NOT NULL later
        # would rebuild the table. The default is never used: every insert sets the day, and
        # the UPDATE fills the rows there are (UTC datetimes are text; the day is their
        # first ten characters).
        op.add_column('api_tokens', sa.Column('active_on', sa.Date(), nullable=False,
                                              server_default='1970-01-01'))
        op.execute("UPDATE api_tokens SET active_on = "
                   "substr(coalesce(last_used_at, created_at), 1, 10)")
    op.create_index(NEW_INDEX, 'api_tokens', ['account_id', 'active_on'])


def downgrade() -> None:
    op.drop_index(NEW_INDEX, table_name='api_tokens')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('active_on')
    op.create_index(OLD_INDEX, 'api_tokens',
                    ['account_id', sa.text('coalesce(last_used_at, created_at)')])
