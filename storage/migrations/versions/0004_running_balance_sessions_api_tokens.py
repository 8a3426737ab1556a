"""ledger running balance, web sessions and api tokens

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types
from storage.migrations.frozen import make_ledger_append_only

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('apitoken',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('websession',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_websession_employee_id'), ['employee_id'], unique=False)

    with op.batch_alter_table('ledgerentry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('balance_after', sa.Integer(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_ledgerentry_employee_id'))
        batch_op.drop_index(batch_op.f('ix_ledgerentry_reason'))
        batch_op.create_index('ix_ledgerentry_employee_id_id', ['employee_id', 'id'], unique=False)
        batch_op.create_index('ix_ledgerentry_reason_id', ['reason', 'id'], unique=False)
    _backfill_running_balances()


def _backfill_running_balances() -> None:
    """Existing entries get the balance each left behind. The append-only trigger is
    lifted for this one statement, inside the migration's transaction."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("ALTER TABLE ledgerentry DISABLE TRIGGER ledgerentry_append_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledgerentry_no_update")
    op.execute("""UPDATE ledgerentry SET balance_after = (
        SELECT SUM(earlier.amount) FROM ledgerentry AS earlier
        WHERE earlier.employee_id = ledgerentry.employee_id AND earlier.id <= ledgerentry.id)""")
    if dialect == "postgresql":
        op.execute("ALTER TABLE ledgerentry ENABLE TRIGGER ledgerentry_append_only")
    else:
        make_ledger_append_only()



def downgrade() -> None:
    with op.batch_alter_table('ledgerentry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledgerentry_reason_id')
        batch_op.drop_index('ix_ledgerentry_employee_id_id')
        batch_op.create_index(batch_op.f('ix_ledgerentry_reason'), ['reason'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledgerentry_employee_id'), ['employee_id'], unique=False)
        batch_op.drop_column('balance_after')

    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_websession_employee_id'))

    op.drop_table('websession')
    op.drop_table('apitoken')
