"""cross-boundary rules: each order's position and evidence, where organizations are, where a version's data was
collected and how many individuals it holds

(Written after 0020 but revising 0019 on its branch: re-chained to 0020 at merge.)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 02:40:00

"""
import sqlalchemy as sa
from alembic import op

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cross_boundary_positions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('none', 'gba_contract', 'contract_or_certification', 'security_assessment', 'refused', name='outcome', native_enum=False, length=32), nullable=False),
    sa.Column('rule_key', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('clause', sa.String(length=100), nullable=False),
    sa.Column('individuals', sa.BigInteger(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('non_sensitive_total', sa.BigInteger(), nullable=False),
    sa.Column('sensitive_total', sa.BigInteger(), nullable=False),
    sa.Column('decided_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('evidence_status', sa.Enum('not_needed', 'needed', 'submitted', 'confirmed', 'rejected', name='evidencestatus', native_enum=False, length=20), nullable=False),
    sa.Column('filing_number', sa.String(length=100), nullable=False),
    sa.Column('evidence_note', sa.Text(), nullable=False),
    sa.Column('evidence_submitted_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('evidence_decided_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('evidence_decided_by_id', sa.Integer(), nullable=True),
    sa.Column('evidence_reason', sa.Text(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evidence_decided_by_id'], ['users.id'], name=op.f('fk_cross_boundary_positions_evidence_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_cross_boundary_positions_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cross_boundary_positions')),
    sa.UniqueConstraint('order_id', name=op.f('uq_cross_boundary_positions_order_id'))
    )
    with op.batch_alter_table('cross_boundary_positions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cross_boundary_positions_decided_at'), ['decided_at'], unique=False)

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location', sa.Enum('guangzhou', 'shenzhen', 'zhuhai', 'foshan', 'huizhou', 'dongguan', 'zhongshan', 'jiangmen', 'zhaoqing', 'shanghai', 'beijing', 'mainland_other', 'hong_kong', 'elsewhere', name='place', native_enum=False, length=20), nullable=True))

    with op.batch_alter_table('product_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collected_in', sa.Enum('guangzhou', 'shenzhen', 'zhuhai', 'foshan', 'huizhou', 'dongguan', 'zhongshan', 'jiangmen', 'zhaoqing', 'shanghai', 'beijing', 'mainland_other', 'hong_kong', 'elsewhere', name='place', native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('individuals', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('product_versions', schema=None) as batch_op:
        batch_op.drop_column('individuals')
        batch_op.drop_column('collected_in')

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('location')

    with op.batch_alter_table('cross_boundary_positions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cross_boundary_positions_decided_at'))

    op.drop_table('cross_boundary_positions')
