"""the cockpit's recovery figures: a team's cases by the time they opened, and the
goodwill given under a customer's reference

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('recoverycase', schema=None) as batch_op:
        batch_op.create_index('ix_recoverycase_team_id_opened_at', ['team_id', 'opened_at'],
                              unique=False)
    op.create_index('ix_compensation_customer_ref_lower', 'compensation',
                    [sa.text('lower(customer_ref)')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_compensation_customer_ref_lower', table_name='compensation')
    with op.batch_alter_table('recoverycase', schema=None) as batch_op:
        batch_op.drop_index('ix_recoverycase_team_id_opened_at')
