"""transaction vouchers: one signed voucher per settled order

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 23:20:00

"""
import sqlalchemy as sa
from alembic import op

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vouchers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('ledger_transaction_id', sa.Integer(), nullable=False),
    sa.Column('buyer_organization_id', sa.Integer(), nullable=False),
    sa.Column('seller_organization_id', sa.Integer(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('statement', sa.JSON(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['buyer_organization_id'], ['organizations.id'], name=op.f('fk_vouchers_buyer_organization_id_organizations')),
    sa.ForeignKeyConstraint(['ledger_transaction_id'], ['ledger_transactions.id'], name=op.f('fk_vouchers_ledger_transaction_id_ledger_transactions')),
    sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], name=op.f('fk_vouchers_licence_id_licences')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_vouchers_order_id_orders')),
    sa.ForeignKeyConstraint(['seller_organization_id'], ['organizations.id'], name=op.f('fk_vouchers_seller_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
    sa.UniqueConstraint('ledger_transaction_id', name=op.f('uq_vouchers_ledger_transaction_id')),
    sa.UniqueConstraint('number', name=op.f('uq_vouchers_number')),
    sa.UniqueConstraint('order_id', name=op.f('uq_vouchers_order_id'))
    )
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vouchers_buyer_organization_id'), ['buyer_organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vouchers_licence_id'), ['licence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vouchers_seller_organization_id'), ['seller_organization_id'], unique=False)


def downgrade():
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vouchers_seller_organization_id'))
        batch_op.drop_index(batch_op.f('ix_vouchers_licence_id'))
        batch_op.drop_index(batch_op.f('ix_vouchers_buyer_organization_id'))
    op.drop_table('vouchers')
