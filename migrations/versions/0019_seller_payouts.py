"""seller payouts: payout accounts (Stripe Connect), payouts, and the destination of an order's payment

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 02:40:00

"""
import sqlalchemy as sa
from alembic import op

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transfer_destination', sa.String(length=64), nullable=True))

    op.create_table('payout_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('charges_enabled', sa.Boolean(), nullable=False),
    sa.Column('payouts_enabled', sa.Boolean(), nullable=False),
    sa.Column('details_submitted', sa.Boolean(), nullable=False),
    sa.Column('requirements_due', sa.JSON(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=200), nullable=True),
    sa.Column('synced_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_payout_accounts_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_accounts')),
    sa.UniqueConstraint('organization_id', name=op.f('uq_payout_accounts_organization_id')),
    sa.UniqueConstraint('provider', 'account_id', name=op.f('uq_payout_accounts_provider'))
    )
    op.create_table('payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('in_transit', 'paid', 'failed', name='payoutstatus', native_enum=False, create_constraint=False, length=32), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_reference', sa.String(length=255), nullable=True),
    sa.Column('transfer_reference', sa.String(length=255), nullable=True),
    sa.Column('arrival_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paid_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failure', sa.String(length=500), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_payouts_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
    sa.UniqueConstraint('key', name=op.f('uq_payouts_key')),
    sa.UniqueConstraint('number', name=op.f('uq_payouts_number'))
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payouts_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payouts_provider_reference'), ['provider_reference'], unique=False)


def downgrade():
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payouts_provider_reference'))
        batch_op.drop_index(batch_op.f('ix_payouts_organization_id'))
    op.drop_table('payouts')
    op.drop_table('payout_accounts')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('transfer_destination')
