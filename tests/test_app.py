import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from marketplace.catalog.models import include_name
from marketplace.extensions import db


def test_models_and_migrations_agree(app):
    """Autogenerate against the migrated database finds no difference."""
    with app.app_context(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True,
                                                     "include_name": include_name})
        diff = compare_metadata(ctx, db.metadata)
    assert diff == []


def test_openapi_document_is_served(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "bearerAuth" in spec["components"]["securitySchemes"]


@pytest.mark.no_transaction
def test_migrations_downgrade_and_upgrade_again(app):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    with app.app_context():
        db.session.remove()
        downgrade(revision="base")
        assert "data_products" not in inspect(db.engine).get_table_names()
        upgrade()
        assert "data_products" in inspect(db.engine).get_table_names()


def test_interactive_api_docs_are_served_by_the_app_offline(client):
    import re

    html = client.get("/api/v1/docs").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    # no CDN: Swagger UI from the bundle, its start-up script (no inline code under the CSP) from our static files
    assert assets and all(a.startswith(("/api/v1/docs/static/", "/static/")) for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200
