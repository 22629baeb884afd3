"""jobs: the outbox, failed jobs, and the pre-screen as a background job (its state and progress)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import marketplace.db


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', name='outboxstatus', native_enum=False, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('failed_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task', sa.String(length=200), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('failed_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.Column('retried_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retried_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_messages.id'], name=op.f('fk_failed_jobs_outbox_message_id_outbox_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['retried_by_id'], ['users.id'], name=op.f('fk_failed_jobs_retried_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_jobs'))
    )
    with op.batch_alter_table('failed_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_failed_jobs_failed_at'), ['failed_at'], unique=False)

    state = sa.Enum('queued', 'running', 'done', 'failed', name='prescreenstate', native_enum=False, length=16)
    # Rounds submitted before the pre-screen became a job ran it in the request: they are done.
    with op.batch_alter_table('review_rounds', schema=None) as batch_op:
        batch_op.alter_column('prescreen_outcome', existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column('prescreen_state', state, server_default='done', nullable=False))
        batch_op.add_column(sa.Column('prescreen_rows', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('prescreen_error', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('prescreen_attempt', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('prescreen_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('prescreen_claimed_until', marketplace.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.alter_column('prescreen_outcome', existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column('prescreen_state', state, server_default='done', nullable=False))
        batch_op.add_column(sa.Column('prescreen_rows', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.drop_column('prescreen_rows')
        batch_op.drop_column('prescreen_state')
        batch_op.alter_column('prescreen_outcome', existing_type=sa.String(length=32), nullable=False)
    with op.batch_alter_table('review_rounds', schema=None) as batch_op:
        batch_op.drop_column('prescreen_claimed_until')
        batch_op.drop_column('prescreen_failures')
        batch_op.drop_column('prescreen_attempt')
        batch_op.drop_column('prescreen_error')
        batch_op.drop_column('prescreen_rows')
        batch_op.drop_column('prescreen_state')
        batch_op.alter_column('prescreen_outcome', existing_type=sa.String(length=32), nullable=False)
    with op.batch_alter_table('failed_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_failed_jobs_failed_at'))
    op.drop_table('failed_jobs')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_due')
    op.drop_table('outbox_messages')
