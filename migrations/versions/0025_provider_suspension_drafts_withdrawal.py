"""providers suspended and reinstated; assessment drafts, withdrawal and the digest of the files a report pins

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-06 06:00:00

"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op

import marketplace.db


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0023'
branch_labels = None
depends_on = None


def _digest(files):
    # marketplace.assessments.models.files_digest, frozen here as the migration wrote it.
    return hashlib.sha256(json.dumps(files, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def upgrade():
    with op.batch_alter_table('service_providers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('suspension_reason', sa.Text(), nullable=False, server_default=''))

    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('files_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('draft', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('draft_saved_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_assessments_withdrawn_by_id_users'), 'users', ['withdrawn_by_id'],
                                    ['id'], ondelete='SET NULL')

    # Reports signed before: their digest from the files their statement pins.
    assessments = sa.table('assessments', sa.column('id', sa.Integer()), sa.column('statement', sa.JSON()),
                           sa.column('files_digest', sa.String(64)))
    conn = op.get_bind()
    for row in conn.execute(sa.select(assessments.c.id, assessments.c.statement)
                            .where(assessments.c.statement.is_not(None))).all():
        statement = row.statement if isinstance(row.statement, dict) else json.loads(row.statement)
        conn.execute(assessments.update().where(assessments.c.id == row.id)
                     .values(files_digest=_digest(statement.get('files') or [])))

    with op.batch_alter_table('service_providers', schema=None) as batch_op:
        batch_op.alter_column('suspension_reason', server_default=None)
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.alter_column('withdrawal_reason', server_default=None)


def downgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assessments_withdrawn_by_id_users'), type_='foreignkey')
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawn_by_id')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('draft_saved_at')
        batch_op.drop_column('draft')
        batch_op.drop_column('files_digest')

    with op.batch_alter_table('service_providers', schema=None) as batch_op:
        batch_op.drop_column('suspension_reason')
        batch_op.drop_column('suspended_at')
