"""the recovery yield kept on write: a compensation's `recovered_at`, set when its
customer's later promoter score or credited praise arrives, and read with the month's
spend from one index

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-09
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMS = ['created_at', 'status', 'currency', 'employee_id', 'amount_minor', 'kind']

# The rule as handlers/recovery/goodwill.py writes it, frozen: the earliest promoter score
# (NPS 9-10) or credited praise from the same customer (references matched whatever
# their case) after the compensation was given. UPDATE … FROM: SQLite >= 3.33.
RECOVERED = """
UPDATE compensation SET recovered_at = earliest.at
FROM (SELECT compensation.id AS id, min(good.at) AS at
      FROM compensation JOIN (
          SELECT customer_ref AS ref, received_at AS at FROM feedback
          WHERE kind = 'nps' AND score >= 9 AND customer_ref != ''
          UNION ALL
          SELECT customer_ref, created_at FROM praise
          WHERE status = 'credited' AND customer_ref != '') AS good
        ON lower(compensation.customer_ref) = lower(good.ref)
        AND compensation.created_at < good.at
      WHERE compensation.customer_ref != ''
      GROUP BY compensation.id) AS earliest
WHERE compensation.id = earliest.id
"""


def upgrade() -> None:
    op.add_column('compensation', sa.Column(
        'recovered_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    op.execute(RECOVERED)
    op.drop_index('ix_compensation_month_sums', table_name='compensation')
    op.create_index('ix_compensation_month_sums', 'compensation',
                    [*SUMS, 'customer_ref', 'recovered_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_compensation_month_sums', table_name='compensation')
    op.create_index('ix_compensation_month_sums', 'compensation', [*SUMS, 'customer_ref'],
                    unique=False)
    # Not a batch, as in 0022: DROP COLUMN is native in SQLite >= 3.35.
    op.execute('ALTER TABLE compensation DROP COLUMN recovered_at')
