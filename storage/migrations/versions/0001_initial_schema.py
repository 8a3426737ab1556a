"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 17:07:48.520033
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types
from storage.migrations.frozen import make_ledger_append_only

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalogstock',
    sa.Column('item_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.CheckConstraint('remaining >= 0', name='stock_not_negative'),
    sa.PrimaryKeyConstraint('item_key')
    )
    op.create_table('commandreceipt',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reply', sa.JSON(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('ritualrun',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ritual', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('scheduled_for', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ran_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ritual', 'team_id', 'period')
    )
    op.create_table('sentonce',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('employee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handle', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('supervisor_id', sa.Integer(), nullable=True),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['supervisor_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('handle')
    )
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employee_team_id'), ['team_id'], unique=False)

    op.create_table('chatidentity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('platform_user_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'platform_user_id')
    )
    with op.batch_alter_table('chatidentity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chatidentity_employee_id'), ['employee_id'], unique=False)

    op.create_table('compensation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('customer_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_comment', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approver_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('compensation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compensation_approver_id'), ['approver_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_compensation_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_compensation_employee_created', ['employee_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_compensation_status'), ['status'], unique=False)

    op.create_table('goldenearaward',
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('winner_id', sa.Integer(), nullable=True),
    sa.Column('votes', sa.Integer(), nullable=False),
    sa.Column('nominations', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['winner_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('month')
    )
    op.create_table('ledgerentry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledgerentry.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('ledgerentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledgerentry_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledgerentry_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledgerentry_reason'), ['reason'], unique=False)

    op.create_table('majorissue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('claimed_by_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_comment', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approver_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('majorissue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_majorissue_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_majorissue_status'), ['status'], unique=False)

    op.create_table('nomination',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('nominator_id', sa.Integer(), nullable=False),
    sa.Column('nominee_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['nominator_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['nominee_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('month', 'nominator_id', 'nominee_id')
    )
    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nomination_month'), ['month'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('message_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('delivered_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_delivered_at'), ['delivered_at'], unique=False)

    op.create_table('pointsaccount',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.CheckConstraint('balance >= 0', name='balance_not_negative'),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('employee_id')
    )
    op.create_table('praise',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attachment_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('logged_by_id', sa.Integer(), nullable=True),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_comment', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('touching_count', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approver_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['logged_by_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('praise', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_praise_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_praise_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_praise_status'), ['status'], unique=False)

    op.create_table('redemption',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('item_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('cost', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_comment', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redemption_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemption_status'), ['status'], unique=False)

    op.create_table('suggestion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_comment', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approver_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suggestion_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestion_status'), ['status'], unique=False)

    op.create_table('vote',
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.Column('nominee_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['nominee_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['voter_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('month', 'voter_id')
    )
    op.create_table('waiver',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('occurred_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('done_instead', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('why', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('customer_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('cost_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reported_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('reminded_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('review_comment', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reviewed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approver_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['employee.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('waiver', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waiver_approver_id'), ['approver_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waiver_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_waiver_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waiver_rule'), ['rule'], unique=False)
        batch_op.create_index(batch_op.f('ix_waiver_status'), ['status'], unique=False)

    op.create_table('outboxdelivery',
    sa.Column('outbox_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('delivered_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], ),
    sa.PrimaryKeyConstraint('outbox_id', 'channel')
    )
    op.create_table('touchingmark',
    sa.Column('praise_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ),
    sa.ForeignKeyConstraint(['praise_id'], ['praise.id'], ),
    sa.PrimaryKeyConstraint('praise_id', 'employee_id')
    )
    make_ledger_append_only()



def downgrade() -> None:
    op.drop_table('touchingmark')
    op.drop_table('outboxdelivery')
    with op.batch_alter_table('waiver', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waiver_status'))
        batch_op.drop_index(batch_op.f('ix_waiver_rule'))
        batch_op.drop_index(batch_op.f('ix_waiver_employee_id'))
        batch_op.drop_index(batch_op.f('ix_waiver_due_at'))
        batch_op.drop_index(batch_op.f('ix_waiver_approver_id'))

    op.drop_table('waiver')
    op.drop_table('vote')
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_status'))
        batch_op.drop_index(batch_op.f('ix_suggestion_employee_id'))

    op.drop_table('suggestion')
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redemption_status'))
        batch_op.drop_index(batch_op.f('ix_redemption_employee_id'))

    op.drop_table('redemption')
    with op.batch_alter_table('praise', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_praise_status'))
        batch_op.drop_index(batch_op.f('ix_praise_employee_id'))
        batch_op.drop_index(batch_op.f('ix_praise_created_at'))

    op.drop_table('praise')
    op.drop_table('pointsaccount')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_delivered_at'))

    op.drop_table('outbox')
    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nomination_month'))

    op.drop_table('nomination')
    with op.batch_alter_table('majorissue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_majorissue_status'))
        batch_op.drop_index(batch_op.f('ix_majorissue_employee_id'))

    op.drop_table('majorissue')
    with op.batch_alter_table('ledgerentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledgerentry_reason'))
        batch_op.drop_index(batch_op.f('ix_ledgerentry_employee_id'))
        batch_op.drop_index(batch_op.f('ix_ledgerentry_created_at'))

    op.drop_table('ledgerentry')
    op.drop_table('goldenearaward')
    with op.batch_alter_table('compensation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compensation_status'))
        batch_op.drop_index('ix_compensation_employee_created')
        batch_op.drop_index(batch_op.f('ix_compensation_created_at'))
        batch_op.drop_index(batch_op.f('ix_compensation_approver_id'))

    op.drop_table('compensation')
    with op.batch_alter_table('chatidentity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chatidentity_employee_id'))

    op.drop_table('chatidentity')
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employee_team_id'))

    op.drop_table('employee')
    op.drop_table('team')
    op.drop_table('sentonce')
    op.drop_table('ritualrun')
    op.drop_table('commandreceipt')
    op.drop_table('catalogstock')
