"""a month's points and goodwill per person, kept by triggers beside the records (HR's
pages at 50,000 people read a row a person); the month's customers compensated by
several staff, and a window's decisions, read from an index alone

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.migrations.frozen import keep_month_sums_0027
from storage.types import UTCDateTime

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMS = ['created_at', 'status', 'currency', 'employee_id', 'amount_minor', 'kind']
DECIDED = ['decided_at', 'decided_by_id', 'employee_id', 'status']  # the approvals signal's


def upgrade() -> None:
    op.create_table(
        'monthstart',
        sa.Column('starts_at', UTCDateTime(), nullable=False),
        sa.Column('month', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint('starts_at'),
    )
    op.create_table(
        'pointsmonth',
        sa.Column('month', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('employee_id', sa.Integer(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('praise', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'employee_id'),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_pointsmonth_month_points', 'pointsmonth', ['month', 'points'],
                    unique=False)
    op.create_table(
        'spendmonth',
        sa.Column('month', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('employee_id', sa.Integer(), nullable=False),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('own_count', sa.Integer(), nullable=False),
        sa.Column('own_minor', sa.BigInteger(), nullable=False),
        sa.Column('own_largest', sa.BigInteger(), nullable=False),
        sa.Column('approved_count', sa.Integer(), nullable=False),
        sa.Column('approved_minor', sa.BigInteger(), nullable=False),
        sa.Column('counted_minor', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'employee_id', 'currency'),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_spendmonth_month_currency_counted', 'spendmonth',
                    ['month', 'currency', 'counted_minor'], unique=False)
    op.create_index('ix_spendmonth_month_currency_team', 'spendmonth',
                    ['month', 'currency', 'team_id', 'counted_minor'], unique=False)
    # filled by the triggers from now on, and from the records by the first report that
    # reads them, which knows the organisation's timezone (storage/month_sums.py)
    keep_month_sums_0027()
    op.drop_index('ix_compensation_month_sums', table_name='compensation')
    op.create_index('ix_compensation_month_sums', 'compensation', [*SUMS, 'customer_ref'],
                    unique=False)
    op.drop_index('ix_compensation_decided_at', table_name='compensation')
    op.create_index('ix_compensation_decided_at', 'compensation', DECIDED, unique=False)


def downgrade() -> None:
    op.drop_index('ix_compensation_decided_at', table_name='compensation')
    op.create_index('ix_compensation_decided_at', 'compensation', ['decided_at'], unique=False)
    op.drop_index('ix_compensation_month_sums', table_name='compensation')
    op.create_index('ix_compensation_month_sums', 'compensation', SUMS, unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER spendmonth_on_decision ON compensation')
        op.execute('DROP TRIGGER spendmonth_on_insert ON compensation')
        op.execute('DROP TRIGGER pointsmonth_on_entry ON ledgerentry')
        op.execute('DROP FUNCTION spendmonth_on_change, pointsmonth_on_entry, frontline_month')
    else:
        for name in ('spendmonth_on_decision', 'spendmonth_on_insert', 'pointsmonth_on_entry'):
            op.execute(f'DROP TRIGGER {name}')
    op.drop_table('spendmonth')
    op.drop_table('pointsmonth')
    op.drop_table('monthstart')
