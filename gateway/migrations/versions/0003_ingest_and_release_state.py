"""Organisation signing keys, dataset lineage and erasure, drop-folder files, released
sketches and the privacy-budget ledger.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisation_keys",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column(
            "org_id", sa.String(length=32), sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("org_id", "public_key"),
    )
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("dataset_versions") as batch:
        batch.alter_column("wrapped_key", existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="upload")
        )
        batch.add_column(
            sa.Column("quarantined_rows", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("key_id", sa.String(length=64), nullable=False, server_default="")
        )
    op.create_table(
        "inbox_files",
        sa.Column("sha256", sa.String(length=64), primary_key=True),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("org_id", sa.String(length=32), sa.ForeignKey("organisations.id"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "dataset_version_id",
            sa.String(length=32),
            sa.ForeignKey("dataset_versions.id"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "released_sketches",
        sa.Column("query_id", sa.String(length=32), sa.ForeignKey("queries.id"), primary_key=True),
        sa.Column("project_id", sa.String(length=32), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_released_sketches_project_id", "released_sketches", ["project_id"])
    op.create_table(
        "privacy_spend",
        sa.Column("query_id", sa.String(length=32), primary_key=True),
        sa.Column("project_id", sa.String(length=32), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_privacy_spend_project_id", "privacy_spend", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_privacy_spend_project_id", "privacy_spend")
    op.drop_table("privacy_spend")
    op.drop_index("ix_released_sketches_project_id", "released_sketches")
    op.drop_table("released_sketches")
    op.drop_table("inbox_files")
    with op.batch_alter_table("dataset_versions") as batch:
        batch.drop_column("key_id")
        batch.drop_column("quarantined_rows")
        batch.drop_column("source")
        batch.alter_column("wrapped_key", existing_type=sa.LargeBinary(), nullable=False)
    with op.batch_alter_table("datasets") as batch:
        batch.drop_column("erased_at")
    op.drop_table("organisation_keys")
