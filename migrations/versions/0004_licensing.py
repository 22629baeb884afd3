"""licensing: orders, licences with certificates, processed payment events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:59:17.993875

"""
from alembic import op
import sqlalchemy as sa
import marketplace.db


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_organization_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=True),
    sa.Column('seller_organization_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('requested', 'awaiting_approval', 'approved', 'declined', 'awaiting_payment', 'paid', 'fulfilled', 'cancelled', 'expired', 'refunded', name='orderstatus', native_enum=False, length=32), nullable=False),
    sa.Column('purpose', sa.Enum('internal_analysis', 'commercial_product', 'research', 'ai_training', 'public_service', 'other', name='purpose', native_enum=False, length=32), nullable=False),
    sa.Column('sector', sa.Enum('government', 'academia', 'transport', 'logistics', 'energy', 'finance', 'insurance', 'real_estate', 'retail', 'healthcare', 'technology', 'media', 'non_profit', 'other', name='sector', native_enum=False, length=32), nullable=False),
    sa.Column('territory', sa.Enum('hong_kong', 'mainland_china', 'worldwide', name='territory', native_enum=False, length=32), nullable=False),
    sa.Column('expected_users', sa.Integer(), nullable=False),
    sa.Column('scenario_description', sa.Text(), nullable=False),
    sa.Column('terms_accepted_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.Enum('CNY', 'HKD', 'USD', name='currency', native_enum=False), nullable=False),
    sa.Column('payment_provider', sa.String(length=20), nullable=True),
    sa.Column('payment_reference', sa.String(length=255), nullable=True),
    sa.Column('payment_intent', sa.String(length=255), nullable=True),
    sa.Column('payment_attempts', sa.Integer(), nullable=False),
    sa.Column('payment_error', sa.String(length=500), nullable=True),
    sa.Column('refund_reference', sa.String(length=255), nullable=True),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('decision_message', sa.Text(), nullable=False),
    sa.Column('deadline', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paid_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('renews_order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_orders_buyer_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['buyer_organization_id'], ['organizations.id'], name=op.f('fk_orders_buyer_organization_id_organizations')),
    sa.ForeignKeyConstraint(['plan_id'], ['pricing_plans.id'], name=op.f('fk_orders_plan_id_pricing_plans')),
    sa.ForeignKeyConstraint(['product_id'], ['data_products.id'], name=op.f('fk_orders_product_id_data_products')),
    sa.ForeignKeyConstraint(['renews_order_id'], ['orders.id'], name=op.f('fk_orders_renews_order_id_orders')),
    sa.ForeignKeyConstraint(['seller_organization_id'], ['organizations.id'], name=op.f('fk_orders_seller_organization_id_organizations')),
    sa.ForeignKeyConstraint(['version_id'], ['product_versions.id'], name=op.f('fk_orders_version_id_product_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('buyer_id', 'idempotency_key', name=op.f('uq_orders_buyer_id'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_buyer_organization_id'), ['buyer_organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_payment_reference'), ['payment_reference'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_seller_organization_id'), ['seller_organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_status'), ['status'], unique=False)

    op.create_table('licences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('buyer_organization_id', sa.Integer(), nullable=False),
    sa.Column('seller_organization_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('plan_kind', sa.Enum('free', 'one_time', 'subscription', name='plankind', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('active', 'expired', 'revoked', name='licencestatus', native_enum=False, length=32), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('scenario', sa.JSON(), nullable=False),
    sa.Column('version_ids', sa.JSON(), nullable=False),
    sa.Column('valid_from', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_until', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status_changed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=False),
    sa.Column('statement', sa.JSON(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['buyer_organization_id'], ['organizations.id'], name=op.f('fk_licences_buyer_organization_id_organizations')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_licences_order_id_orders')),
    sa.ForeignKeyConstraint(['plan_id'], ['pricing_plans.id'], name=op.f('fk_licences_plan_id_pricing_plans')),
    sa.ForeignKeyConstraint(['product_id'], ['data_products.id'], name=op.f('fk_licences_product_id_data_products')),
    sa.ForeignKeyConstraint(['seller_organization_id'], ['organizations.id'], name=op.f('fk_licences_seller_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_licences')),
    sa.UniqueConstraint('order_id', name=op.f('uq_licences_order_id')),
    sa.UniqueConstraint('serial', name=op.f('uq_licences_serial'))
    )
    with op.batch_alter_table('licences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_licences_buyer_organization_id'), ['buyer_organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_licences_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_licences_seller_organization_id'), ['seller_organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_licences_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_licences_valid_until'), ['valid_until'], unique=False)

    op.create_table('payment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=200), nullable=False),
    sa.Column('received_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payment_events_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_events')),
    sa.UniqueConstraint('provider', 'event_id', name=op.f('uq_payment_events_provider'))
    )
    with op.batch_alter_table('payment_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_events_order_id'), ['order_id'], unique=False)



def downgrade():
    with op.batch_alter_table('payment_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_events_order_id'))

    op.drop_table('payment_events')
    with op.batch_alter_table('licences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_licences_valid_until'))
        batch_op.drop_index(batch_op.f('ix_licences_status'))
        batch_op.drop_index(batch_op.f('ix_licences_seller_organization_id'))
        batch_op.drop_index(batch_op.f('ix_licences_product_id'))
        batch_op.drop_index(batch_op.f('ix_licences_buyer_organization_id'))

    op.drop_table('licences')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_status'))
        batch_op.drop_index(batch_op.f('ix_orders_seller_organization_id'))
        batch_op.drop_index(batch_op.f('ix_orders_product_id'))
        batch_op.drop_index(batch_op.f('ix_orders_plan_id'))
        batch_op.drop_index(batch_op.f('ix_orders_payment_reference'))
        batch_op.drop_index(batch_op.f('ix_orders_deadline'))
        batch_op.drop_index(batch_op.f('ix_orders_buyer_organization_id'))
        batch_op.drop_index(batch_op.f('ix_orders_buyer_id'))

    op.drop_table('orders')
