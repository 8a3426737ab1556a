"""a form in progress remembers the update whose answer it kept last

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('formstate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_update', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('formstate', schema=None) as batch_op:
        batch_op.drop_column('last_update')
