"""assessment fee orders: an order charges either a plan or an assessment request's fee; a fee order has no
plan, product, version nor scenario, and its transaction voucher no licence

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 06:10:00

"""
import sqlalchemy as sa
from alembic import op

import marketplace.db

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

SCENARIO = {
    'purpose': sa.Enum('internal_analysis', 'commercial_product', 'research', 'ai_training', 'public_service', 'other',
                       name='purpose', native_enum=False, length=32),
    'sector': sa.Enum('government', 'academia', 'transport', 'logistics', 'energy', 'finance', 'insurance',
                      'real_estate', 'retail', 'healthcare', 'technology', 'media', 'non_profit', 'other',
                      name='sector', native_enum=False, length=32),
    'territory': sa.Enum('hong_kong', 'mainland_china', 'worldwide', name='territory', native_enum=False, length=32),
    'expected_users': sa.Integer(),
    'scenario_description': sa.Text(),
    'terms_accepted_at': marketplace.db.UTCDateTime(timezone=True),
    'product_id': sa.Integer(),
    'version_id': sa.Integer(),
    'plan_id': sa.Integer(),
}


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assessment_id', sa.Integer(), nullable=True))
        for name, type_ in SCENARIO.items():
            batch_op.alter_column(name, existing_type=type_, nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_orders_assessment_id_assessments'), 'assessments',
                                    ['assessment_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_orders_assessment_id'), ['assessment_id'])
        batch_op.create_check_constraint('plan_or_assessment', '(plan_id IS NULL) <> (assessment_id IS NULL)')
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.alter_column('licence_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    # Fee orders have ledger entries and vouchers an older schema cannot hold: refuse rather than drop money.
    if op.get_bind().execute(sa.text("SELECT count(*) FROM orders WHERE assessment_id IS NOT NULL")).scalar():
        raise RuntimeError("Assessment fee orders exist: 0027 cannot be downgraded without losing them.")
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.alter_column('licence_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_orders_plan_or_assessment'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_orders_assessment_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_orders_assessment_id_assessments'), type_='foreignkey')
        for name, type_ in SCENARIO.items():
            batch_op.alter_column(name, existing_type=type_, nullable=False)
        batch_op.drop_column('assessment_id')
