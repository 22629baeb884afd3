"""catalog change log: each change to the search index, in commit order, for the search engine of every machine
to follow

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 06:10:00

"""
import sqlalchemy as sa
from alembic import op

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('catalog_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('generation', sa.String(length=32), nullable=False),
    sa.Column('changed_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_changes'))
    )


def downgrade():
    op.drop_table('catalog_changes')
