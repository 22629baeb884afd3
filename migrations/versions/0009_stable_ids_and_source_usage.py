"""stable ids: a UUID per product and per file (a CKAN/DCAT resource, carried across versions); how a product
uses each cited source (verbatim, subset, derived)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 05:41:48.399195

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uuid', sa.String(length=36), nullable=True))
    with op.batch_alter_table('data_products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uuid', sa.String(length=36), nullable=True))

    # Existing rows get theirs here (random per row, so not a server default). A file carried from one version to
    # the next kept its stored object, so the copies of one object in one product share one resource id.
    conn = op.get_bind()
    products = sa.table('data_products', sa.column('id', sa.Integer()), sa.column('uuid', sa.String(36)))
    for (product_id,) in conn.execute(sa.select(products.c.id)).fetchall():
        conn.execute(products.update().where(products.c.id == product_id).values(uuid=str(uuid.uuid4())))
    versions = sa.table('product_versions', sa.column('id', sa.Integer()), sa.column('product_id', sa.Integer()))
    assets = sa.table('assets', sa.column('id', sa.Integer()), sa.column('version_id', sa.Integer()),
                      sa.column('storage_key', sa.String(300)), sa.column('uuid', sa.String(36)))
    rows = conn.execute(sa.select(assets.c.id, versions.c.product_id, assets.c.storage_key)
                        .join(versions, versions.c.id == assets.c.version_id).order_by(assets.c.id)).fetchall()
    ids: dict[tuple, str] = {}
    for asset_id, product_id, key in rows:
        value = ids.setdefault((product_id, key), str(uuid.uuid4()))
        conn.execute(assets.update().where(assets.c.id == asset_id).values(uuid=value))

    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.alter_column('uuid', existing_type=sa.String(length=36), nullable=False)
        batch_op.create_index(batch_op.f('ix_assets_uuid'), ['uuid'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_assets_version_id'), ['version_id', 'uuid'])
    with op.batch_alter_table('data_products', schema=None) as batch_op:
        batch_op.alter_column('uuid', existing_type=sa.String(length=36), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_data_products_uuid'), ['uuid'])

    with op.batch_alter_table('open_data_sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('usage', sa.Enum('verbatim', 'subset', 'derived', name='sourceusage',
                                                       native_enum=False, length=16),
                                      server_default='derived', nullable=False))


def downgrade():
    with op.batch_alter_table('open_data_sources', schema=None) as batch_op:
        batch_op.drop_column('usage')

    with op.batch_alter_table('data_products', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_data_products_uuid'), type_='unique')
        batch_op.drop_column('uuid')

    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_assets_version_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_assets_uuid'))
        batch_op.drop_column('uuid')
