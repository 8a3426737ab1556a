"""teams conversation references

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('teamsconversation',
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('aad_object_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reference', sa.JSON(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('conversation_id')
    )
    with op.batch_alter_table('teamsconversation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teamsconversation_aad_object_id'),
                              ['aad_object_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('teamsconversation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teamsconversation_aad_object_id'))
    op.drop_table('teamsconversation')
