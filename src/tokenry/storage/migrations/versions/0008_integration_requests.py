"""integration requests: an access request may ask for an OAuth integration (its scopes,
client kind and redirect URIs); the client it issues expires with the request and can be
switched off; a one-time delivery may carry a client secret instead of a token

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tokenry.storage.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
WHEN = tokenry.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('access_requests') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), nullable=False,
                                   server_default='api_token'))
        batch.add_column(sa.Column('scopes', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('client_kind', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('redirect_uris', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('oauth_client_id', ID, nullable=True))
    with op.batch_alter_table('oauth_clients') as batch:
        batch.add_column(sa.Column('access_request_id', ID, nullable=True))
        batch.add_column(sa.Column('expires_at', WHEN, nullable=True))
        batch.add_column(sa.Column('active', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
    with op.batch_alter_table('deliveries') as batch:
        batch.alter_column('token_id', existing_type=ID, nullable=True)
        batch.add_column(sa.Column('oauth_client_id', ID, nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    integrations = bind.execute(sa.text(
        "SELECT COUNT(*) FROM access_requests WHERE kind <> 'api_token'")).scalar()
    if integrations:
        raise RuntimeError(f"{integrations} integration request(s) exist; below 0008 they "
                           "would read as API token requests. Delete them first.")
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('oauth_client_id')
        batch.alter_column('token_id', existing_type=ID, nullable=False)
    with op.batch_alter_table('oauth_clients') as batch:
        batch.drop_column('active')
        batch.drop_column('expires_at')
        batch.drop_column('access_request_id')
    with op.batch_alter_table('access_requests') as batch:
        batch.drop_column('oauth_client_id')
        batch.drop_column('redirect_uris')
        batch.drop_column('client_kind')
        batch.drop_column('scopes')
        batch.drop_column('kind')
