"""the cockpit flat as feedback grows: a team's month of cases and the responses of its
part-days read from their indexes alone, and a customer's recovery cases found by their
lowered reference (a later good word credited to them, a survey import's customers)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_recoverycase_team_id_opened_at_covering', 'recoverycase', [
        'team_id', 'opened_at', 'called_back_at', 'due_at', 'status', 'outcome',
        'customer_ref', 'id'], unique=False)
    op.drop_index('ix_recoverycase_team_id_opened_at', table_name='recoverycase')
    op.create_index('ix_recoverycase_customer_ref_lower', 'recoverycase',
                    [sa.text('lower(customer_ref)')], unique=False)
    op.create_index('ix_feedback_team_id_received_at_covering', 'feedback', [
        'team_id', 'received_at', 'kind', 'score', 'employee_id', 'themes'], unique=False)
    op.drop_index('ix_feedback_team_id_received_at', table_name='feedback')


def downgrade() -> None:
    op.create_index('ix_feedback_team_id_received_at', 'feedback', ['team_id', 'received_at'],
                    unique=False)
    op.drop_index('ix_feedback_team_id_received_at_covering', table_name='feedback')
    op.drop_index('ix_recoverycase_customer_ref_lower', table_name='recoverycase')
    op.create_index('ix_recoverycase_team_id_opened_at', 'recoverycase',
                    ['team_id', 'opened_at'], unique=False)
    op.drop_index('ix_recoverycase_team_id_opened_at_covering', table_name='recoverycase')
