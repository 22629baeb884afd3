"""listing checks: the seller's "check my listing" runs as a job, its latest result stored per version

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'listing_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='prescreenstate', native_enum=False,
                                   create_constraint=False, length=16), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('claimed_until', marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('report', sa.JSON(), nullable=False),
        sa.Column('outcome', sa.Enum('pass', 'review', 'fail', name='prescreenoutcome', native_enum=False,
                                     create_constraint=False, length=32), nullable=True),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('error', sa.String(length=4000), nullable=False),
        sa.Column('finished_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['version_id'], ['product_versions.id'],
                                name=op.f('fk_listing_checks_version_id_product_versions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_listing_checks_requested_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_checks')),
        sa.UniqueConstraint('version_id', name=op.f('uq_listing_checks_version_id')),
    )


def downgrade():
    op.drop_table('listing_checks')
