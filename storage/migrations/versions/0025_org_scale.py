"""a company of 50,000: a month's spend and points summed from an index alone, the
approvals signal's decisions by time and by approver, what waits for one approver

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, columns); the two sums indexes lead with created_at, so its own
# indexes on those tables go.
INDEXES = (
    ('ledgerentry', 'ix_ledgerentry_month_sums', ['created_at', 'reason', 'employee_id',
                                                  'amount']),
    ('compensation', 'ix_compensation_month_sums', ['created_at', 'status', 'currency',
                                                    'employee_id', 'amount_minor', 'kind']),
    ('compensation', 'ix_compensation_decided_at', ['decided_at']),
    ('compensation', 'ix_compensation_decided_by_decided_at', ['decided_by_id', 'decided_at']),
    ('praise', 'ix_praise_approver_status', ['approver_id', 'status']),
    ('suggestion', 'ix_suggestion_approver_status', ['approver_id', 'status']),
    ('majorissue', 'ix_majorissue_approver_status', ['approver_id', 'status']),
)
PREFIXES = (('ledgerentry', 'ix_ledgerentry_created_at'),
            ('compensation', 'ix_compensation_created_at'))  # led by the new sums' indexes


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    for table, name in PREFIXES:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for table, name in PREFIXES:
        op.create_index(name, table, ['created_at'], unique=False)
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
