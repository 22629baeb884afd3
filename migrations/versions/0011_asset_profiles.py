"""asset profiles: each stored file's preview and column profile, computed once off the request

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 13:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'asset_profiles',
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('preview', sa.JSON(), nullable=False),
        sa.Column('profile', sa.JSON(), nullable=False),
        sa.Column('computed_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_asset_profiles_asset_id_assets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('asset_id', name=op.f('pk_asset_profiles')),
    )


def downgrade():
    op.drop_table('asset_profiles')
