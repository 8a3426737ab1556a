"""a chat identity keeps the person's id across the platform's apps (Feishu's union_id)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chatidentity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('union_id', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=True))
    op.create_index('ix_chatidentity_platform_union_id', 'chatidentity',
                    ['platform', 'union_id'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_chatidentity_platform_union_id', table_name='chatidentity')
    with op.batch_alter_table('chatidentity', schema=None) as batch_op:
        batch_op.drop_column('union_id')
