"""token scopes: an API token may carry Zendesk-style scopes (NULL keeps its full power)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('api_tokens', sa.Column('scopes', sa.JSON(), nullable=True))


def downgrade() -> None:
    # Dropping the column widens every scoped token back to its user's full power; refuse
    # to do that silently while any token is scoped.
    scoped = op.get_bind().execute(
        sa.text("SELECT COUNT(*) FROM api_tokens WHERE scopes IS NOT NULL")).scalar()
    if scoped:
        raise RuntimeError(f"{scoped} API token(s) carry scopes; deactivate or delete them "
                           "before downgrading below 0006, or they would regain full power")
    op.drop_column('api_tokens', 'scopes')
