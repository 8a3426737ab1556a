"""the daily summary: a person's choice, and what waits for their next one

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('personprefs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('daily_summary', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table('summaryitem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('message_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('summaryitem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_summaryitem_employee_id'), ['employee_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('summaryitem', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_summaryitem_employee_id'))
    op.drop_table('summaryitem')
    with op.batch_alter_table('personprefs', schema=None) as batch_op:
        batch_op.drop_column('daily_summary')
