"""What a source may cite, in the JSON API: the licence catalog (public) and the lookup that fills a source
citation from the shipped open-data catalog metadata (signed in)."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from marketplace.accounts.auth import require_api_user
from marketplace.errors import NotFound
from marketplace.listings.licences import licence_catalog
from marketplace.listings.opendata import lookup_source
from marketplace.listings.schemas import LookupQuerySchema, SourceOutSchema

blp = Blueprint("reference_api", __name__, description="Open-data references: licences and source lookup")


class LicenceOutSchema(Schema):
    id = fields.String()
    name = fields.String()
    url = fields.String()
    kind = fields.String()
    deprecated = fields.Boolean()


@blp.route("/licences")
@blp.response(200, LicenceOutSchema(many=True))
def licences():
    """Licences a source may cite: portal terms of use and the SPDX licence list."""
    return list(licence_catalog().values())


@blp.route("/sources/lookup")
@blp.arguments(LookupQuerySchema, location="query")
@blp.response(200, SourceOutSchema)
def source_lookup(query):
    """Fill a source citation from a DATA.GOV.HK dataset URL or CKAN name, from the shipped catalog metadata."""
    require_api_user()
    found = lookup_source(query["q"])
    if found is None:
        raise NotFound("No DATA.GOV.HK or SODA dataset with that URL or name in the shipped catalog metadata.")
    return found
