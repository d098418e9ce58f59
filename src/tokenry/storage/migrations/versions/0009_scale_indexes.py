"""indexes for scale: the foreign keys a deletion follows, every documented audit log filter
as an (account, filter, created_at, id) range its keyset pages walk, and the scheduler's
questions (removal dates, long deactivation, extensions, inactivity)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

LAST_ACTIVITY = sa.text('coalesce(last_used_at, created_at)')

# (name, table, columns); created in this order, dropped in the reverse one
NEW: list[tuple[str, str, list[str | sa.TextClause]]] = [
    ('ix_users_manager', 'users', ['manager_id']),
    ('ix_api_tokens_user', 'api_tokens', ['user_id']),
    ('ix_api_tokens_created_by', 'api_tokens', ['created_by_id']),
    ('ix_api_tokens_account_expires', 'api_tokens', ['account_id', 'expires_at']),
    ('ix_api_tokens_account_deactivated', 'api_tokens', ['account_id', 'deactivated_at']),
    ('ix_api_tokens_account_retire', 'api_tokens', ['account_id', 'retire_at']),
    ('ix_api_tokens_account_last_activity', 'api_tokens', ['account_id', LAST_ACTIVITY]),
    ('ix_access_requests_requester', 'access_requests', ['requester_id']),
    ('ix_access_requests_holder', 'access_requests', ['holder_id']),
    ('ix_access_requests_extends', 'access_requests', ['extends_request_id']),
    ('ix_deliveries_account_expires', 'deliveries', ['account_id', 'expires_at']),
    ('ix_deliveries_recipient', 'deliveries', ['recipient_id']),
    ('ix_notifications_account_status_created', 'notifications',
     ['account_id', 'status', 'created_at']),
    ('ix_calendar_feeds_account', 'calendar_feeds', ['account_id']),
    ('ix_audit_source_id', 'audit_events', ['account_id', 'source_id', 'created_at', 'id']),
    ('ix_audit_actor', 'audit_events', ['account_id', 'actor_id', 'created_at', 'id']),
    ('ix_audit_action', 'audit_events', ['account_id', 'action', 'created_at', 'id']),
    ('ix_audit_ip', 'audit_events', ['account_id', 'ip_address', 'created_at', 'id']),
    ('ix_web_sessions_account', 'web_sessions', ['account_id']),
    ('ix_invitations_account_expires', 'invitations', ['account_id', 'expires_at']),
    ('ix_oauth_clients_user', 'oauth_clients', ['user_id']),
    ('ix_oauth_clients_account_expires', 'oauth_clients', ['account_id', 'expires_at']),
    ('ix_oauth_codes_account_expires', 'oauth_codes', ['account_id', 'expires_at']),
    ('ix_oauth_codes_user', 'oauth_codes', ['user_id']),
    ('ix_oauth_tokens_user', 'oauth_tokens', ['user_id']),
]

# the two audit indexes of 0001 gain the keyset's (created_at, id) as their tail
WIDENED = {
    'ix_audit_account_created': (['account_id', 'created_at'],
                                 ['account_id', 'created_at', 'id']),
    'ix_audit_source': (['account_id', 'source_type', 'source_id'],
                        ['account_id', 'source_type', 'source_id', 'created_at', 'id']),
}


def upgrade() -> None:
    for name, (_, wider) in WIDENED.items():
        op.drop_index(name, table_name='audit_events')
        op.create_index(name, 'audit_events', wider)
    for name, table, columns in NEW:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(NEW):
        op.drop_index(name, table_name=table)
    for name, (narrower, _) in WIDENED.items():
        op.drop_index(name, table_name='audit_events')
        op.create_index(name, 'audit_events', narrower)
