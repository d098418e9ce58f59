"""hardening: ids never reused on SQLite, sealed outbox text, credentials in the audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import tokenry.storage.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

ID_TABLES = ('accounts', 'users', 'api_tokens', 'access_requests', 'deliveries',
             'notifications', 'calendar_feeds', 'audit_events', 'usage_counters')
NEW_COLUMNS: dict[str, list[sa.Column[Any]]] = {
    'access_requests': [sa.Column('acts_as_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True)],
    'deliveries': [sa.Column('replaced_at', tokenry.storage.types.UTCDateTime(timezone=True), nullable=True)],
    'notifications': [sa.Column('sealed', sa.Text(), nullable=True),
                      sa.Column('leased_by', sa.String(length=64), nullable=True)],
    'audit_events': [sa.Column('credential', sa.String(length=32), server_default='', nullable=False)],
}


LINK_REMOVED = ('The one-time link of this message was removed from storage by an upgrade '
                '(links are no longer kept in plaintext). Ask a provisioner to re-send it.')


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    # Earlier versions kept one-time delivery links in plaintext in the outbox: remove them,
    # so a copy of the database opens nothing. An unsent link can be re-sent by a provisioner.
    notifications = sa.table('notifications', sa.column('event', sa.String),
                             sa.column('body', sa.Text), sa.column('payload', sa.JSON))
    op.execute(notifications.update().where(notifications.c.event == 'delivery.link')
               .values(body=LINK_REMOVED, payload={}))
    for table in ID_TABLES:
        columns = NEW_COLUMNS.get(table, [])
        if not sqlite and not columns:
            continue
        # On SQLite the table is rebuilt as AUTOINCREMENT (tokenry runs migrations with foreign
        # keys off, so the rebuild cascades nothing); sqlite_sequence starts at the largest id.
        with op.batch_alter_table(table, recreate='always' if sqlite else 'auto',
                                  table_kwargs={'sqlite_autoincrement': True} if sqlite
                                  else {}) as batch_op:
            for column in columns:
                batch_op.add_column(column)


def downgrade() -> None:
    for table, columns in NEW_COLUMNS.items():
        with op.batch_alter_table(table) as batch_op:
            for column in columns:
                batch_op.drop_column(column.name)
