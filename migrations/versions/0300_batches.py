"""batches and batch items; tasks learn their batch and where a reused result came from

Revision ID: 0300
Revises: 0200
Create Date: 2026-11-22 10:11:25.329021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0300"
down_revision = "0200"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_uri", sa.Text(), nullable=True),
        sa.Column("source_glob", sa.String(length=500), nullable=True),
        sa.Column("source_object", sa.String(length=512), nullable=True),
        sa.Column("source_format", sa.String(length=16), nullable=True),
        sa.Column("source_total", sa.Integer(), nullable=True),
        sa.Column("source_exhausted", sa.Boolean(), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("output_prefix", sa.Text(), nullable=True),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("dedupe", sa.Boolean(), nullable=False),
        sa.Column("items_listed", sa.Integer(), nullable=False),
        sa.Column("tasks_created", sa.Integer(), nullable=False),
        sa.Column("settled_succeeded", sa.Integer(), nullable=False),
        sa.Column("settled_failed", sa.Integer(), nullable=False),
        sa.Column("settled_canceled", sa.Integer(), nullable=False),
        sa.Column("settled_skipped", sa.Integer(), nullable=False),
        sa.Column("settled_pages", sa.Integer(), nullable=False),
        sa.Column("settled_reused", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("expand_token", sa.String(length=40), nullable=True),
        sa.Column("expand_heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("manifest_key", sa.String(length=512), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("owner", "idempotency_key", name="uq_batches_owner_idempotency_key"),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index("ix_batches_owner_id", ["owner", "id"], unique=False)
        batch_op.create_index("ix_batches_status", ["status"], unique=False)

    op.create_table(
        "batch_items",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("source_ref", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("task_id", sa.String(length=40), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("output", sa.JSON(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_batch_items_batch_id_batches"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_batch_items_task_id_tasks"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_items")),
        sa.UniqueConstraint("batch_id", "source_key", name="uq_batch_items_batch_id_source_key"),
    )
    with op.batch_alter_table("batch_items", schema=None) as batch_op:
        batch_op.create_index("ix_batch_items_batch_id_id", ["batch_id", "id"], unique=False)
        batch_op.create_index("ix_batch_items_batch_state_id", ["batch_id", "state", "id"], unique=False)
        batch_op.create_index("ix_batch_items_task_id", ["task_id"], unique=False)

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("reused_from", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_tasks_batch_id_status", ["batch_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_batch_id_status")
        batch_op.drop_column("reused_from")
        batch_op.drop_column("batch_id")

    with op.batch_alter_table("batch_items", schema=None) as batch_op:
        batch_op.drop_index("ix_batch_items_task_id")
        batch_op.drop_index("ix_batch_items_batch_state_id")
        batch_op.drop_index("ix_batch_items_batch_id_id")

    op.drop_table("batch_items")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index("ix_batches_status")
        batch_op.drop_index("ix_batches_owner_id")

    op.drop_table("batches")
