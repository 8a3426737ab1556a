"""leavers, monthly boards kept per month, service anniversaries

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('birthday', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=True))
    op.create_table('departure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('moved', sa.Integer(), nullable=False),
    sa.Column('forms', sa.Integer(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('left_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('departure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_departure_employee_id'), ['employee_id'],
                              unique=False)
    op.create_table('seasonresult',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id', 'month', 'employee_id')
    )


def downgrade() -> None:
    op.drop_table('seasonresult')
    with op.batch_alter_table('departure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_departure_employee_id'))
    op.drop_table('departure')
    # Not a batch: on SQLite a batch copies `employee`, and the tables whose foreign keys
    # name it refuse the drop of the old copy. DROP COLUMN is native in SQLite >= 3.35.
    for column in ('birthday', 'start_date'):
        op.execute(f'ALTER TABLE employee DROP COLUMN {column}')
