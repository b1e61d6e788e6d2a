"""worker heartbeats, queue samples, indexes for the ops dashboard

Revision ID: 0400
Revises: 0300
Create Date: 2026-11-22 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0400"
down_revision = "0300"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("node", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=64), nullable=True),
        sa.Column("model", sa.String(length=255), nullable=True),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("gpu_present", sa.Boolean(), nullable=False),
        sa.Column("gpus", sa.JSON(), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("tasks_in_flight", sa.Integer(), nullable=False),
        sa.Column("metrics_port", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_heartbeats")),
    )
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_heartbeats_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "queue_samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sampled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queue", sa.String(length=40), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=True),
        sa.Column("queued_tasks", sa.Integer(), nullable=False),
        sa.Column("running_tasks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_samples")),
    )
    with op.batch_alter_table("queue_samples", schema=None) as batch_op:
        batch_op.create_index("ix_queue_samples_sampled_at", ["sampled_at"], unique=False)

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_status_finished", ["status", "finished_at"], unique=False)
    with op.batch_alter_table("task_pages", schema=None) as batch_op:
        batch_op.create_index("ix_task_pages_finished_at", ["finished_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_pages", schema=None) as batch_op:
        batch_op.drop_index("ix_task_pages_finished_at")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_status_finished")
    with op.batch_alter_table("queue_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_queue_samples_sampled_at")
    op.drop_table("queue_samples")
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_heartbeats_seen_at"))
    op.drop_table("worker_heartbeats")
