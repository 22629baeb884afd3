"""objections: at most one waiting objection per organization and notice (a partial unique index); the
superseded state needs no schema change (statuses are stored as text)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 06:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'pending'")


def upgrade():
    # Objections filed twice before this index: keep the first waiting one of each organization per notice.
    op.execute("""
        UPDATE notice_objections SET status = 'superseded',
               decision_reason = 'A second objection of the same organization while its first was waiting.'
        WHERE status = 'pending' AND EXISTS (
            SELECT 1 FROM notice_objections AS earlier
            WHERE earlier.notice_id = notice_objections.notice_id
              AND earlier.organization_id = notice_objections.organization_id
              AND earlier.status = 'pending' AND earlier.id < notice_objections.id)
    """)
    op.create_index('uq_notice_objections_waiting', 'notice_objections', ['notice_id', 'organization_id'],
                    unique=True, sqlite_where=WAITING, postgresql_where=WAITING)


def downgrade():
    op.drop_index('uq_notice_objections_waiting', table_name='notice_objections',
                  sqlite_where=WAITING, postgresql_where=WAITING)
