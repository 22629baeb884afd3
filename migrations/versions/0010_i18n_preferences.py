"""languages: a user's time zone, locales as BCP 47 tags (zh became zh-Hans), and the search index's text
folded to one script (Traditional Chinese written in Simplified characters)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 06:10:00.000000

"""
from alembic import op
import opencc
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

    # The text search reads: folded as marketplace.chinese.fold does (a copy here, as migrations never import the
    # app). The full-text index follows through its triggers (SQLite) or indexes (PostgreSQL).
    fold = opencc.OpenCC("hk2s").convert
    conn = op.get_bind()
    texts = sa.table('catalog_texts', sa.column('id', sa.Integer()), sa.column('title_text', sa.Text()),
                     sa.column('search_text', sa.Text()))
    for row in conn.execute(sa.select(texts.c.id, texts.c.title_text, texts.c.search_text)).fetchall():
        title, body = fold(row.title_text or ""), fold(row.search_text or "")
        if (title, body) != (row.title_text, row.search_text):
            conn.execute(texts.update().where(texts.c.id == row.id).values(title_text=title, search_text=body))


def downgrade():
    op.execute("UPDATE users SET locale = 'zh' WHERE locale IN ('zh-Hans', 'zh-Hant-HK')")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone')
