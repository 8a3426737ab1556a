"""the people a supervisor supervises, and the people in a role, found by index (a scope,
a digest's readers)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_employee_supervisor_id', 'employee', ['supervisor_id'], unique=False)
    op.create_index('ix_employee_role', 'employee', ['role'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_employee_role', table_name='employee')
    op.drop_index('ix_employee_supervisor_id', table_name='employee')
