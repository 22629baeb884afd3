"""languages: a user's time zone, and locales as BCP 47 tags (zh became zh-Hans)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=40), nullable=True))
    op.execute("UPDATE users SET locale = 'zh-Hans' WHERE locale = 'zh'")


def downgrade():
    op.execute("UPDATE users SET locale = 'zh' WHERE locale IN ('zh-Hans', 'zh-Hant-HK')")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone')
