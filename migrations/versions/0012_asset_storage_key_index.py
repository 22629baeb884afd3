"""assets by stored file: an index on storage_key, which finds a file's profile and its copies in other versions

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 15:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assets_storage_key'), ['storage_key'], unique=False)


def downgrade():
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assets_storage_key'))
