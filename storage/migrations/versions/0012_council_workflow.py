"""the council's workflow (approval, an owner's due date, statuses renamed); themes kept
with each voice's record; the customer a praise came from

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAGGED = ('feedback', 'waiver', 'suggestion', 'pulseanswer')  # `frontline themes retag` fills
# old status -> new status (and back, on downgrade)
RENAMED = {'open': 'proposed', 'fixing': 'in_progress', 'validating': 'done',
           'closed': 'validated'}


def _rename(mapping: dict[str, str]) -> None:
    for table in ('councilitem', 'councilupdate'):
        for old, new in mapping.items():
            op.execute(sa.text(f"UPDATE {table} SET status = :new WHERE status = :old")
                       .bindparams(old=old, new=new))


def upgrade() -> None:
    with op.batch_alter_table('councilitem', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('approved_at', storage.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.create_foreign_key('fk_councilitem_approved_by_id_employee', 'employee',
                                    ['approved_by_id'], ['id'])
    _rename(RENAMED)
    with op.batch_alter_table('praise', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_ref', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=False, server_default=''))
    for table in TAGGED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('themes', sqlmodel.sql.sqltypes.AutoString(),
                                          nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('praise', schema=None) as batch_op:
        batch_op.drop_column('customer_ref')
    for table in TAGGED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('themes')
    _rename({new: old for old, new in RENAMED.items()}
            | {'approved': 'open', 'reopened': 'open'})
    with op.batch_alter_table('councilitem', schema=None) as batch_op:
        batch_op.drop_constraint('fk_councilitem_approved_by_id_employee', type_='foreignkey')
        batch_op.drop_column('due_on')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('approved_by_id')
