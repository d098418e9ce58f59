"""outbox attachments: an e-mail may carry one sealed file (the audit log export)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('notifications', sa.Column('attachment_name', sa.String(length=255),
                                             nullable=True))
    op.add_column('notifications', sa.Column('attachment', sa.Text(), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place, so the table (and its ids) is not rebuilt.
    op.drop_column('notifications', 'attachment')
    op.drop_column('notifications', 'attachment_name')
