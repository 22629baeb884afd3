"""cross-boundary evidence: whether an undeclared collection place was read as the Mainland, the deadline a trade
waits for its evidence until, and the buyer's optional evidence document

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 06:00:00

"""
import sqlalchemy as sa
from alembic import op

import marketplace.db

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cross_boundary_positions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assumed_mainland', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('evidence_due', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('evidence_key', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('evidence_filename', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('evidence_content_type', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('evidence_size', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('evidence_sha256', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_cross_boundary_positions_evidence_due'), ['evidence_due'], unique=False)


def downgrade():
    with op.batch_alter_table('cross_boundary_positions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cross_boundary_positions_evidence_due'))
        batch_op.drop_column('evidence_sha256')
        batch_op.drop_column('evidence_size')
        batch_op.drop_column('evidence_content_type')
        batch_op.drop_column('evidence_filename')
        batch_op.drop_column('evidence_key')
        batch_op.drop_column('evidence_due')
        batch_op.drop_column('assumed_mainland')
