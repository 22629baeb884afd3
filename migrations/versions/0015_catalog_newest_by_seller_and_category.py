"""catalog entries by seller and by category, newest first: related products read a few rows, never sort them all

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 17:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('catalog_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_catalog_entries_seller_slug')
        batch_op.drop_index('ix_catalog_entries_category')
        batch_op.create_index('ix_catalog_entries_seller_listed', ['seller_slug', 'listed_at', 'id'], unique=False)
        batch_op.create_index('ix_catalog_entries_category_listed', ['category', 'listed_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('catalog_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_catalog_entries_category_listed')
        batch_op.drop_index('ix_catalog_entries_seller_listed')
        batch_op.create_index('ix_catalog_entries_category', ['category'], unique=False)
        batch_op.create_index('ix_catalog_entries_seller_slug', ['seller_slug'], unique=False)
