"""data service providers and their assessments of submitted versions

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 03:00:00

"""
import sqlalchemy as sa
from alembic import op

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('service_providers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('applied', 'approved', 'rejected', name='providerstatus', native_enum=False, create_constraint=False, length=32), nullable=False),
    sa.Column('services', sa.JSON(), nullable=False),
    sa.Column('qualifications', sa.Text(), nullable=False),
    sa.Column('document_key', sa.String(length=300), nullable=True),
    sa.Column('document_filename', sa.String(length=255), nullable=True),
    sa.Column('document_content_type', sa.String(length=120), nullable=True),
    sa.Column('document_size', sa.Integer(), nullable=True),
    sa.Column('applied_by_id', sa.Integer(), nullable=True),
    sa.Column('applied_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applied_by_id'], ['users.id'], name=op.f('fk_service_providers_applied_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_service_providers_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_service_providers_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_providers')),
    sa.UniqueConstraint('organization_id', name=op.f('uq_service_providers_organization_id'))
    )
    with op.batch_alter_table('service_providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_providers_status'), ['status'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.Enum('compliance', 'quality', 'valuation', name='assessmentkind', native_enum=False, create_constraint=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('requested', 'accepted', 'declined', 'signed', name='assessmentstatus', native_enum=False, create_constraint=False, length=32), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('seller_organization_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('decided_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fee_amount', sa.BigInteger(), nullable=True),
    sa.Column('fee_currency', sa.String(length=3), nullable=True),
    sa.Column('conclusion', sa.String(length=40), nullable=True),
    sa.Column('statement', sa.JSON(), nullable=True),
    sa.Column('signature', sa.String(length=200), nullable=True),
    sa.Column('key_id', sa.String(length=100), nullable=True),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['service_providers.id'], name=op.f('fk_assessments_provider_id_service_providers')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_assessments_requested_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['seller_organization_id'], ['organizations.id'], name=op.f('fk_assessments_seller_organization_id_organizations')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_assessments_signed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['product_versions.id'], name=op.f('fk_assessments_version_id_product_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('number', name=op.f('uq_assessments_number'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_seller_organization_id'), ['seller_organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_version_id'), ['version_id'], unique=False)


def downgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_version_id'))
        batch_op.drop_index(batch_op.f('ix_assessments_status'))
        batch_op.drop_index(batch_op.f('ix_assessments_seller_organization_id'))
        batch_op.drop_index(batch_op.f('ix_assessments_provider_id'))
    op.drop_table('assessments')
    with op.batch_alter_table('service_providers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_providers_status'))
    op.drop_table('service_providers')
