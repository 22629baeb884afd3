"""What a source may cite, in the JSON API: the licence catalog (public) and the lookup that fills a source
citation from the shipped open-data catalog metadata (signed in); and a seller's Chinese text offered in the other
script (signed in)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from marketplace.accounts.auth import require_api_user
from marketplace.chinese import script_of, to_simplified, to_traditional
from marketplace.errors import NotFound
from marketplace.listings.licences import OPEN_DATA_LICENCES, licence_catalog
from marketplace.listings.opendata import lookup_source
from marketplace.listings.schemas import LookupQuerySchema, SourceOutSchema

blp = Blueprint("reference_api", __name__,
                description="Open-data references: licences, source lookup and Chinese script conversion")


class LicenceOutSchema(Schema):
    id = fields.String()
    name = fields.String()
    url = fields.String()
    kind = fields.String()
    deprecated = fields.Boolean()
    open_data = fields.Method("_open_data", metadata={
        "description": "An open-data licence or a portal's terms of use: the ones the seller pages offer first."})

    def _open_data(self, obj) -> bool:
        return obj.id in OPEN_DATA_LICENCES


@blp.route("/licences")
@blp.response(200, LicenceOutSchema(many=True))
def licences():
    """Licences a source may cite: portal terms of use and the SPDX licence list (``open_data`` marks the open-data
    licences and portal terms)."""
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


# ---------------------------------------------------------------- Chinese in the other script

CONVERTERS = {"zh-Hant-HK": to_traditional, "zh-Hans": to_simplified}


class ConvertScriptInSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=20000), metadata={
        "description": "Chinese text (a title, summary or description) in either script."})
    to = fields.String(required=True, validate=validate.OneOf(tuple(CONVERTERS)), metadata={
        "description": "The script to write it in: zh-Hant-HK (Traditional, Hong Kong usage) or zh-Hans."})


class ConvertScriptOutSchema(Schema):
    text = fields.String(metadata={"description": "The text in the script asked for, for the seller to check."})
    to = fields.String()
    script = fields.String(allow_none=True, metadata={
        "description": "The script the text was written in: zh-Hans, zh-Hant, zh (cannot tell) or null (no Chinese)."})
    changed = fields.Boolean(metadata={"description": "Whether the conversion changed anything."})
    message = fields.String()


@blp.route("/convert-script", methods=["POST"])
@blp.arguments(ConvertScriptInSchema)
@blp.response(200, ConvertScriptOutSchema)
def convert_script(data):
    """Chinese text written in the other script (OpenCC, s2hk / hk2s), for a seller to accept or edit before saving:
    nothing is stored. The conversion is phrase-aware but not perfect, so it is only ever an offer."""
    require_api_user()
    converted = CONVERTERS[data["to"]](data["text"])
    return {"text": converted, "to": data["to"], "script": script_of(data["text"]),
            "changed": converted != data["text"],
            "message": _("Check the converted text and correct it where needed before you save it.")}
