"""Project references required by some legal bases (exemption, DPIA).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("exemption_reference", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("dpia_reference", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("dpia_reference")
        batch.drop_column("exemption_reference")
