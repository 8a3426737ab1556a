"""customer feedback counted per team, day and theme as it arrives

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.migrations.frozen import FEEDBACK_COUNTS_0014, count_feedback_0014

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'feedbackday',
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.Column('employee_id', sa.Integer(), nullable=False),
        sa.Column('theme', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in FEEDBACK_COUNTS_0014),
        sa.ForeignKeyConstraint(['team_id'], ['team.id']),
        sa.PrimaryKeyConstraint('team_id', 'day', 'employee_id', 'theme'),
        sqlite_with_rowid=False,
    )
    count_feedback_0014()  # the feedback already kept


def downgrade() -> None:
    op.drop_table('feedbackday')
