"""catalog state: the generation token of the search index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:10:00.000000

"""
import secrets
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
import marketplace.db


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    state = op.create_table('catalog_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.String(length=32), nullable=False),
    sa.Column('changed_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_state'))
    )
    # The one row every index change rewrites (catalog.models.new_generation).
    op.bulk_insert(state, [{'id': 1, 'generation': secrets.token_hex(16), 'changed_at': datetime.now(timezone.utc)}])


def downgrade():
    op.drop_table('catalog_state')
