"""recognition between colleagues: thanks and team praise

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('thanks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('why', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['sender_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('thanks', schema=None) as batch_op:
        batch_op.create_index('ix_thanks_sender_created', ['sender_id', 'created_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_thanks_recipient_id'), ['recipient_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_thanks_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('praise', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('praise', schema=None) as batch_op:
        batch_op.drop_column('group_id')
    with op.batch_alter_table('thanks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thanks_created_at'))
        batch_op.drop_index(batch_op.f('ix_thanks_recipient_id'))
        batch_op.drop_index('ix_thanks_sender_created')
    op.drop_table('thanks')
