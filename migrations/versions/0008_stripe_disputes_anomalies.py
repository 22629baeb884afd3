"""stripe: disputes on orders, payments that paid no order (anomalies), orders found by payment intent, a random
payment token per order

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 02:20:00.000000

"""
import secrets

from alembic import op
import sqlalchemy as sa
import marketplace.db


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disputed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('dispute_reference', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('dispute_reason', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('payment_token', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_orders_payment_intent'), ['payment_intent'], unique=False)
    # Orders made before get their token here (random per row, so not a server default).
    conn = op.get_bind()
    orders = sa.table('orders', sa.column('id', sa.Integer()), sa.column('payment_token', sa.String(32)))
    for (order_id,) in conn.execute(sa.select(orders.c.id)).fetchall():
        conn.execute(orders.update().where(orders.c.id == order_id).values(payment_token=secrets.token_hex(16)))

    op.create_table('payment_anomalies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('payment_reference', sa.String(length=255), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('closed_order', 'mismatch', 'second_payment', name='anomalykind', native_enum=False, create_constraint=False, length=20), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('event_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.Enum('open', 'refunded', name='anomalystatus', native_enum=False, create_constraint=False, length=20), nullable=False),
    sa.Column('refund_token', sa.String(length=32), nullable=False),
    sa.Column('refund_reference', sa.String(length=255), nullable=True),
    sa.Column('refunded_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refunded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payment_anomalies_order_id_orders')),
    sa.ForeignKeyConstraint(['refunded_by_id'], ['users.id'], name=op.f('fk_payment_anomalies_refunded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_anomalies')),
    sa.UniqueConstraint('provider', 'payment_reference', name=op.f('uq_payment_anomalies_provider'))
    )
    with op.batch_alter_table('payment_anomalies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_anomalies_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_anomalies_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('payment_anomalies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_anomalies_status'))
        batch_op.drop_index(batch_op.f('ix_payment_anomalies_order_id'))

    op.drop_table('payment_anomalies')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_payment_intent'))
        batch_op.drop_column('payment_token')
        batch_op.drop_column('dispute_reason')
        batch_op.drop_column('dispute_reference')
        batch_op.drop_column('disputed_at')
