"""A read-only subset of the CKAN Action API (CKAN 2.10 shapes) over the listed catalog, so that harvesters and
existing CKAN clients (ckanapi, ckanext-harvest, ckanr ...) can read it.

Served at ``/api/3/action/<action>`` and at ``/api/action/<action>`` (the path ckanapi uses), by GET (or HEAD)
with query parameters or POST with a JSON body (a form body works too). A successful GET with ``callback`` (a
JavaScript name) is answered as JSONP, as CKAN does; a POST's callback is ignored. Every answer is CKAN's envelope
``{"help", "success", "result"}`` or ``{"help", "success": false, "error": {"__type", ...}}``: "Not Found Error"
(404), "Validation Error" (409, messages keyed by parameter), "Search Query Error" (400, unknown search
parameters), "Bad request" (400: unknown action, unreadable JSON, NUL or lone surrogates in the text). Nothing
here answers a bare 500 for bad input.

Only listed products appear, each through its listed version: package_search reads the catalog search index
(listed products only), package_show goes through ``listed_by_id`` (404 for drafts, suspended and delisted
products), lists read ``buyer_visible``. An organization or a group (a category) appears while it has a listed
product.

Actions and what they take (see ``ckan_mapping`` for the id, licence and field mapping):

- package_search: ``q`` (words, searched like the catalog page; Solr syntax when it names fields: ``name:``,
  ``title:``, ``tags:``, ...; a field nothing is indexed under reads as its words, ``Note: x`` as ``Note x``,
  as edismax reads it; a word's trailing ``*``, ``~``, ``~n`` and ``^n`` are dropped), ``fq`` and ``fq_list``
  (Solr syntax, read by ``ckan_query``: fields organization, owner_org, groups, tags, res_format, license_id,
  name, id, title, text, metadata_modified and metadata_created (date ranges with Solr date math),
  dataset_type/type, state, private, capacity, isopen and our facets category, region, seller, licence, price,
  currency, delivery, format, frequency; negation, AND, OR, parentheses; anything else is a Validation Error
  "Search Query is invalid: ..."). In q as in fq, AND beside OR, more than 8 operators before one clause and
  more than 100 clauses across q, fq and every fq_list item together are refused. ``sort`` (default ``score
  desc, metadata_modified desc``; metadata_modified, metadata_created, name, id, title_string, price with
  asc/desc), ``rows`` (default 10, capped at 1000 as in CKAN), ``start`` (any offset), ``facet.field`` (JSON
  list, each field counted once, at most 50 different ones; a field nothing is indexed under is an empty facet),
  ``facet.limit`` (50; negative for all), ``facet.mincount`` (1), ``facet``. Facet counts are over the matching
  datasets, as Solr gives them to CKAN. Accepted and ignored, as they mean nothing without Solr or CKAN's
  plugins: ``extras`` and ``ext_*``, ``wt``, ``defType``, ``qf``, ``bf``, ``boost``, ``tie``, ``mm``, ``df``,
  ``pf``, ``bq``, ``_`` (jQuery's cache buster).
- package_show: ``id`` (the UUID) or the name. package_list: ``limit``, ``offset``; names in listing order.
- organization_list: ``all_fields``, ``sort`` (title|name|package_count asc|desc; default title asc),
  ``limit`` (1000, or 25 with all_fields, as CKAN), ``offset``, ``q``, ``organizations``.
- organization_show: ``id`` (the slug), ``include_datasets`` (first 1000, newest first), ``include_extras``.
- group_list, group_show, tag_list, resource_show, package_autocomplete, current_package_list_with_resources:
  see ``ckan_reads``.
- license_list, status_show (CKAN 2.10 compatible), help_show (``name``), site_read.
"""
from __future__ import annotations

import inspect
import json
import logging
import re

from flask import Blueprint, Response, request
from sqlalchemy import and_, func, or_, select
from werkzeug.exceptions import HTTPException

from marketplace.accounts.models import Organization
from marketplace.catalog import ckan_reads  # noqa: F401  (registers the group, tag and resource actions)
from marketplace.catalog.ckan_mapping import (
    ACTIONS,
    DEFAULT_SORT,
    LICENSE_ID,
    ROWS_MAX,
    BadRequest,
    CkanError,
    NotFoundError,
    SearchQueryError,
    ValidationError,
    action,
    bool_param,
    int_param,
    license_dicts,
    organization_dict,
    package_dict,
    parse_sort,
    query_param,
    required_param,
    strings_param,
    text_param,
)
from marketplace.catalog.ckan_query import (
    MAX_CLAUSES,
    QueryError,
    Term,
    clauses,
    free_words,
    parse_query,
)
from marketplace.catalog.ckan_search import (
    engine_facets,
    engine_find,
    facets,
    file_times,
    find,
    listed_by_id,
    packages,
    q_tree,
    where_of,
)
from marketplace.catalog.dcat import CATALOG_DESCRIPTION, NAME
from marketplace.catalog.dcat_views import public_base_url
from marketplace.catalog.search import like_pattern
from marketplace.errors import DomainError, ValidationFailed
from marketplace.errors import NotFound as DomainNotFound
from marketplace.extensions import db
from marketplace.listings.models import DataProduct
from marketplace.listings.services import buyer_visible

log = logging.getLogger(__name__)

bp = Blueprint("ckan", __name__, url_prefix="/api/3/action")

CKAN_VERSION = "2.10.0"
_JS_NAME = re.compile(r"[A-Za-z_$][\w$]{0,99}(?:\.[A-Za-z_$][\w$]{0,99}){0,4}", re.ASCII)
ORG_DATASETS_MAX = 1000
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
SEARCH_PARAMS = {"q", "fq", "fq_list", "sort", "rows", "start", "facet", "facet.field", "facet.limit",
                 "facet.mincount", "include_private", "include_drafts", "include_deleted", "use_default_schema",
                 "fl"}
# Parameters CKAN 2.10 passes to Solr or to search plugins that mean nothing without them: accepted and ignored.
# extras and ext_* go to plugins (ckanext-spatial's ext_bbox ...); wt is always json here; defType, qf, bf, boost,
# tie, mm, df, pf, bq tune Solr's relevance, which the catalog's own ranking replaces; ``_`` is jQuery's cache
# buster and ``callback`` is answered as JSONP (``_jsonp``), neither is a search parameter.
IGNORED_SEARCH_PARAMS = {"extras", "wt", "defType", "qf", "bf", "boost", "tie", "mm", "df", "pf", "bq", "_",
                         "callback"}
# Distinct facet.field entries one search may ask for: about twice the fields anything is indexed under (CKAN's,
# ours and the constant ones), so that a client naming every field, plus some of its own, is served.
FACET_FIELDS_MAX = 50
ORG_SORTS = {"title": lambda n: func.lower(Organization.name), "name": lambda n: Organization.slug,
             "package_count": lambda n: n, "packages": lambda n: n}

# ---------------------------------------------------------------- the envelope


def _answer(name: str, status: int, **body) -> Response:
    envelope = {"help": f"{public_base_url()}/api/3/action/help_show?name={name[:100]}", **body}
    return Response(json.dumps(envelope), status, content_type="application/json;charset=utf-8",
                    headers={"Allow": "GET, HEAD, POST"} if status == 405 else None)


def _callback() -> str | None:
    """The JSONP callback a GET names (``callback``), checked to be a JavaScript name so that nothing else can
    be written into the script; a 409 otherwise."""
    callback = request.args.get("callback") if request.method in ("GET", "HEAD") else None
    if callback is not None and not _JS_NAME.fullmatch(callback):
        raise ValidationError({"callback": ["Must be a JavaScript function name (letters, digits, _, $ and dots)."]})
    return callback


def _jsonp(response: Response, callback: str | None) -> Response:
    """As CKAN does, a successful GET with ``callback`` is answered as a script calling it with the envelope."""
    if callback is None:
        return response
    response.set_data(f"{callback}({response.get_data(as_text=True)});")
    response.content_type = "application/javascript;charset=utf-8"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _failure(name: str, error: CkanError) -> Response:
    return _answer(name, error.status, success=False, error=error.error())


@bp.route("/", defaults={"name": ""}, methods=METHODS)
@bp.route("/<path:name>", methods=METHODS)
def call(name: str):
    try:
        function = ACTIONS.get(name)
        if function is None:
            raise BadRequest(f"Action name not known: {name[:100]}")
        if request.method not in ("GET", "HEAD", "POST"):
            raise BadRequest("the Action API answers GET, HEAD and POST only", 405)
        callback = _callback()
        result = function(_request_data())
    except CkanError as error:
        return _failure(name, error)
    except DomainNotFound as error:
        return _failure(name, NotFoundError(error.message))
    except ValidationFailed as error:
        return _failure(name, ValidationError(error.errors or {"message": [error.message]}))
    except DomainError as error:
        return _failure(name, BadRequest(error.message))
    except HTTPException as error:
        return _http_error(error)
    except Exception as error:  # CKAN's last resort: still the envelope
        from marketplace.health import as_unavailable

        if as_unavailable(error) is not None:
            raise  # the database or storage is down: 503 with Retry-After, in the envelope (_http_error)
        log.exception("CKAN action %s failed", name)
        return _answer(name, 500, success=False, error={"__type": "Internal Server Error",
                                                        "message": "Internal Server Error"})
    return _jsonp(_answer(name, 200, success=True, result=result), callback)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    """Errors raised before the action runs (the request-wide NUL guard, an oversized body)."""
    name = (request.view_args or {}).get("name", "")
    status = error.code or 400
    if status in (413, 429, 503):  # too much, too often, or paused: not a bad request; say which
        response = _answer(name, status, success=False,
                           error={"__type": error.name, "message": error.description or error.name})
        response.headers.extend(error.get_headers() if hasattr(error, "get_headers") else [])
        response.headers["Content-Type"] = "application/json;charset=utf-8"
        return response
    return _failure(name, BadRequest(error.description or error.name, status))


@bp.record_once
def _unversioned(state) -> None:
    # CKAN answers the Action API at /api/action too, and ckanapi calls it there. The endpoint stays in this
    # blueprint's namespace, so its error handler and CSRF exemption apply.
    state.app.add_url_rule("/api/action/<path:name>", endpoint="ckan.call_unversioned", view_func=call,
                           methods=METHODS)


# ---------------------------------------------------------------- reading parameters


def _mixed(multi) -> dict:
    return {k: v[0] if len(v) == 1 else v for k, v in multi.to_dict(flat=False).items()}


def _request_data() -> dict:
    """CKAN's rules: a POST carries a JSON object (a form also works); a GET, or a POST without a body, uses
    the query string (a repeated parameter becomes a list)."""
    if request.method == "POST":
        raw = request.get_data(cache=True)
        if raw.strip() and (raw.lstrip()[:1] in (b"{", b"[") or not request.form):
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as error:
                raise BadRequest(f"JSON Error: {error}") from error
            if not isinstance(data, dict):
                raise BadRequest(f"Bad request data: Request data JSON decoded to {type(data).__name__} but it "
                                 f"needs to be a dictionary.")
            return data
        if request.form:
            return _mixed(request.form)
    return _mixed(request.args)


# ---------------------------------------------------------------- searching


def _query(data: dict) -> tuple[object | None, list[str], bool]:
    """The WHERE clause of q, fq and fq_list together (None: everything), the words relevance ranks by, and
    whether the query is words and nothing else (q without fields or operators, no fq: the search engine can
    answer it); a query this API cannot run is CKAN's 409 naming the parameter. The three share one budget of
    MAX_CLAUSES clauses: the request is refused as soon as they pass it, before the rest of fq_list is read."""
    wheres, words, budget, only_words = [], [], MAX_CLAUSES, True
    read: dict[tuple[bool, str], tuple[object | None, object | None]] = {}  # a repeated fq_list item is read once
    for key, texts in (("q", [text_param(data, "q")]), ("fq", [text_param(data, "fq")]),
                       ("fq_list", strings_param(data, "fq_list", split=False))):
        for text in texts:
            seen = (key == "q", text)
            try:
                if seen not in read:
                    read[seen] = (q_tree(text) if key == "q" else parse_query(text)), None
                node, where = read[seen]
                budget -= clauses(node)
                if budget < 0:
                    raise QueryError(f"q, fq and fq_list together have more than {MAX_CLAUSES} clauses.")
                if where is None and node is not None:  # its SQL built once, and only within the budget
                    where = where_of(db.session, node)
                    read[seen] = node, where
            except QueryError as error:
                raise ValidationError({key: [f"Search Query is invalid: {error}"]}) from None
            wheres += [where] if where is not None else []
            only_words &= node is None or (key == "q" and isinstance(node, Term) and node.field == "text")
            words += free_words(node) if key == "q" else []
    return (and_(*wheres) if wheres else None), words, only_words


def _facet_fields(data: dict) -> list[str]:
    """facet.field without repeats (first mention kept), at most FACET_FIELDS_MAX different fields (409 past
    that, naming the limit)."""
    if not bool_param(data, "facet", True):
        return []
    fields = list(dict.fromkeys(strings_param(data, "facet.field")))
    if len(fields) > FACET_FIELDS_MAX:
        raise ValidationError({"facet.field": [f"At most {FACET_FIELDS_MAX} different fields can be faceted in "
                                               f"one search; {len(fields)} were asked for."]})
    return fields


@action
def package_search(data: dict) -> dict:
    """Search the listed datasets: q, fq, fq_list, sort, rows, start, facet, facet.field, facet.limit,
    facet.mincount. Returns count, sort, results, facets and search_facets."""
    unknown = sorted(k for k in data if k not in SEARCH_PARAMS and k not in IGNORED_SEARCH_PARAMS
                     and not k.startswith("ext_"))
    if unknown:
        raise SearchQueryError(f"Invalid search parameters: {unknown}")
    where, words, only_words = _query(data)
    sort = text_param(data, "sort").strip() or DEFAULT_SORT
    order = parse_sort(sort)
    rows = min(int_param(data, "rows", 10), ROWS_MAX)
    start = int_param(data, "start", 0)
    fields = _facet_fields(data)
    limit, mincount = int_param(data, "facet.limit", 50, natural=False), int_param(data, "facet.mincount", 1)
    session = db.session
    found = engine_find(session, words, order, start, rows, fields) if only_words else None
    if found is not None:
        count, ids = found.total, found.ids
        plain, restructured = engine_facets(session, fields, found.counts, count, where, limit, mincount, LICENSE_ID)
    else:
        matched, where, entries = find(session, where, words, order, start, rows)
        count, ids = len(matched), [entry.id for entry in entries]
        plain, restructured = facets(session, fields, matched, where, limit, mincount, LICENSE_ID)
    return {"count": count, "sort": sort, "results": packages(session, ids), "facets": plain,
            "search_facets": restructured}


# ---------------------------------------------------------------- datasets, organizations, the site


@action
def package_show(data: dict) -> dict:
    """One listed dataset by id (its UUID) or name (its slug)."""
    product = listed_by_id(db.session, required_param(data, "id"))
    return package_dict(product, base=public_base_url(), times=file_times(db.session, [product]))


@action
def package_list(data: dict) -> list[str]:
    """The names of the listed datasets, in listing order (product id); limit and offset page through them."""
    limit, offset = int_param(data, "limit", None), int_param(data, "offset", 0)
    stmt = buyer_visible().with_only_columns(DataProduct.slug).order_by(DataProduct.id)
    if limit:  # as in CKAN, no limit (or 0) is everything
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt.offset(offset)))


def _organizations():
    visible = buyer_visible().subquery()
    count = func.count(visible.c.id).label("package_count")
    return select(Organization, count).join(visible, visible.c.organization_id == Organization.id) \
        .group_by(Organization.id), count


def _org_sort(sort: str, count):
    parts = sort.replace(",", " ").split()
    field = (parts[0] if parts else "title").lower()
    direction = (parts[1] if len(parts) > 1 else "desc" if field == "packages" else "asc").lower()
    if field not in ORG_SORTS or direction not in ("asc", "desc") or len(parts) > 2:
        raise ValidationError({"sort": [f"Cannot sort by {sort!r}; use title, name or package_count with asc or "
                                        f"desc."]})
    column = ORG_SORTS[field](count)
    return [column.desc() if direction == "desc" else column.asc(), Organization.slug.asc()]


@action
def organization_list(data: dict) -> list:
    """The organizations with listed datasets: names, or dicts with all_fields (package_count included)."""
    all_fields = bool_param(data, "all_fields", False)
    ceiling = 25 if all_fields else 1000
    limit = min(int_param(data, "limit", ceiling), ceiling)
    stmt, count = _organizations()
    stmt = stmt.order_by(*_org_sort(text_param(data, "sort") or "title asc", count))
    if q := query_param(data, "q"):
        columns = (Organization.slug, Organization.name, Organization.description)
        stmt = stmt.where(or_(*(c.ilike(like_pattern(q), escape="\\") for c in columns)))
    if names := strings_param(data, "organizations"):
        stmt = stmt.where(Organization.slug.in_(names))
    rows = db.session.execute(stmt.limit(limit).offset(int_param(data, "offset", 0))).all()
    if not all_fields:
        return [org.slug for org, _ in rows]
    counts, extras = bool_param(data, "include_dataset_count", True), bool_param(data, "include_extras", False)
    base = public_base_url()
    return [organization_dict(org, package_count=n if counts else None, base=base, extras=extras) for org, n in rows]


@action
def organization_show(data: dict) -> dict:
    """One organization with listed datasets, by id or name (both are its slug); include_datasets adds the
    first 1000 of its datasets, newest first."""
    slug = required_param(data, "id")
    stmt, _ = _organizations()
    row = db.session.execute(stmt.where(Organization.slug == slug)).first()
    if row is None:
        raise NotFoundError("no organization with listed datasets has this id or name")
    org, count = row
    out = organization_dict(org, package_count=count, base=public_base_url(),
                            extras=bool_param(data, "include_extras", True))
    out.update(users=[], groups=[], tags=[])
    if bool_param(data, "include_datasets", False):
        _, _, entries = find(db.session, where_of(db.session, Term("organization", org.slug)), [], "newest", 0,
                             ORG_DATASETS_MAX)
        out["packages"] = packages(db.session, [entry.id for entry in entries])
    return out


@action
def license_list(data: dict) -> list[dict]:
    """The licences: the exchange's own terms (every dataset's license_id), then those upstream sources carry."""
    return license_dicts()


@action
def status_show(data: dict) -> dict:
    """The site and the CKAN version whose API this one follows."""
    return {"site_title": NAME["en"], "site_description": CATALOG_DESCRIPTION["en"], "site_url": public_base_url(),
            "ckan_version": CKAN_VERSION, "error_emails_to": None, "locale_default": "en", "extensions": []}


@action
def site_read(data: dict) -> bool:
    """Whether the site may be read: always."""
    return True


@action
def help_show(data: dict) -> str:
    """The documentation of an action (``name``)."""
    function = ACTIONS.get(required_param(data, "name"))
    if function is None:
        raise NotFoundError("Action function not found")
    return inspect.cleandoc(function.__doc__ or "")
