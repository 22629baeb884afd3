"""CKAN's Solr query syntax (``q`` and ``fq`` of package_search) read into a small boolean tree, and that tree
turned into SQL over the catalog index.

What is read, in the forms CKAN clients and the CKAN harvester of ckanext-harvest send:

- ``field:value``, ``field:"quoted value"``, ``field:(a OR b)`` (any boolean expression of values inside);
- date ranges on ``metadata_modified`` and ``metadata_created``: ``[from TO to]``, ``{`` ``}`` for exclusive
  bounds, ``*`` for open ends; a bound is a Solr date (``2026-01-01T00:00:00Z``, fractions of a second allowed) or
  ``NOW``, either followed by Solr date math (``NOW-7DAYS/DAY``, ``...Z+1MONTH``);
- negation (``-field:x``, ``!field:x``, ``NOT field:x``), ``+`` (required, as every clause here is), ``AND``/``&&``,
  ``OR``/``||``, parentheses, ``*:*``; a bare word searches the catalog text (Solr's default field).

Clauses side by side are all required (CKAN runs Solr with ``q.op=AND``). ``OR`` binds the clauses it stands
between before that, so the harvester's ``organization:a OR organization:b metadata_modified:[x TO *]`` means
either organization, changed since x. An ``AND`` and an ``OR`` at one level without parentheses are refused as
ambiguous, and so is anything else this module cannot express: a QueryError, which the API answers with CKAN's
409 "Search Query is invalid" naming the problem. Nothing is silently dropped.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyparsing as pp
from dateutil.relativedelta import relativedelta
from sqlalchemy import Integer, Text, and_, bindparam, cast, false, func, not_, or_, select, text, true

from marketplace.catalog.ckan_mapping import LICENSE_ID, canonical
from marketplace.catalog.models import CatalogEntry, CatalogText, mask_of
from marketplace.catalog.search import COLUMN_FACETS, FACETS, fts_expression, like_pattern, parse_terms, text_match
from marketplace.listings.models import DataProduct, ProductVersion

MAX_QUERY_CHARS = 2000
MAX_CLAUSES = 100  # across q, fq and every fq_list item of one request (``clauses``)
MAX_DEPTH = 16
MAX_PREFIXES = 8  # operators before one clause (``- -x``, ``!!x``, ``NOT NOT x``): more are refused


class QueryError(ValueError):
    """A query this API cannot run, with the reason in words a client can act on."""


class QueryRefused(QueryError):
    """A query that reads as one but is refused (AND beside OR, operator chains, too many clauses): refused in q
    as in fq, never read as plain words."""


# ---------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Term:
    field: str  # "text" for a bare word
    value: str


@dataclass(frozen=True)
class Range:
    field: str
    low: datetime | str | None  # a datetime on the date fields; the bound as written on any other field
    high: datetime | str | None
    low_inclusive: bool
    high_inclusive: bool


@dataclass(frozen=True)
class Everything:
    pass


@dataclass(frozen=True)
class Not:
    item: object


@dataclass(frozen=True)
class All:
    items: tuple


@dataclass(frozen=True)
class Any:
    items: tuple


def _all(items: list) -> object:
    return items[0] if len(items) == 1 else All(tuple(items))


def _any(items: list) -> object:
    return items[0] if len(items) == 1 else Any(tuple(items))


# ---------------------------------------------------------------- dates (Solr's syntax and date math)


_DATE = re.compile(r"(?P<anchor>NOW|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(?P<fraction>\d{1,9}))?Z)"
                   r"(?P<math>(?:[+-]\d+[A-Z]+|/[A-Z]+)*)")
_MATH = re.compile(r"([+-])(\d+)([A-Z]+)|/([A-Z]+)")
_UNITS = {"YEAR": "years", "MONTH": "months", "DAY": "days", "DATE": "days", "HOUR": "hours", "MINUTE": "minutes",
          "SECOND": "seconds", "MILLI": "microseconds", "MILLISECOND": "microseconds"}
_ROUND = ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND")


def _unit(name: str) -> str:
    name = name[:-1] if name.endswith("S") and name[:-1] in _UNITS else name
    if name not in _UNITS:
        raise QueryError(f"{name!r} is not a Solr date unit; use YEARS, MONTHS, DAYS, HOURS, MINUTES or SECONDS.")
    return name


def parse_date(text: str, now: datetime | None = None) -> datetime:
    """A Solr date or date-math expression as an aware UTC datetime."""
    match = _DATE.fullmatch(text)
    if not match:
        raise QueryError(f"{text[:60]!r} is not a Solr date: write 2026-01-31T00:00:00Z, NOW, or NOW-7DAYS.")
    if match["anchor"] == "NOW":
        moment = now or datetime.now(UTC)
    else:
        plain = match["anchor"][:19]
        try:
            moment = datetime.fromisoformat(plain).replace(tzinfo=UTC)
        except ValueError:
            raise QueryError(f"{text[:60]!r} is not a valid date.") from None
        if match["fraction"]:
            moment += timedelta(microseconds=int(match["fraction"][:6].ljust(6, "0")))
    for sign, amount, unit, rounding in _MATH.findall(match["math"]):
        if rounding:
            unit = _unit(rounding)
            if unit not in _ROUND and unit != "DATE":
                raise QueryError(f"Cannot round a date to {rounding}.")
            unit = "DAY" if unit == "DATE" else unit
            keep = _ROUND.index(unit)
            fields = {"month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0}
            moment = moment.replace(microsecond=0, **{k: v for i, (k, v) in enumerate(fields.items()) if i >= keep})
            continue
        unit = _unit(unit)
        step = int(amount) * (1000 if _UNITS[unit] == "microseconds" else 1)
        try:
            moment += relativedelta(**{_UNITS[unit]: step if sign == "+" else -step})
        except (OverflowError, ValueError):
            raise QueryError(f"{text[:60]!r} is out of range.") from None
    return moment


# ---------------------------------------------------------------- the grammar


def _fold(tokens: list) -> object:
    """Operands and operators of one level: ``OR`` joins its neighbours first, then everything is required;
    an explicit ``AND`` beside an ``OR`` is ambiguous and refused."""
    operators = {t for t in tokens[1::2]}
    if "AND" in operators and "OR" in operators:
        raise QueryRefused("AND and OR at the same level are ambiguous: add parentheses, e.g. (a OR b) AND c.")
    groups, current = [], [tokens[0]]
    for operator, operand in zip(tokens[1::2], tokens[2::2]):
        if operator == "OR":
            current.append(operand)
        else:
            groups.append(_any(current))
            current = [operand]
    groups.append(_any(current))
    return _all(groups)


def _negate(tokens: list) -> object:
    *prefixes, node = tokens
    if len(prefixes) > MAX_PREFIXES:
        raise QueryRefused(f"More than {MAX_PREFIXES} operators (-, +, !, NOT) stand before one clause.")
    for prefix in reversed(prefixes):
        if prefix in ("-", "!", "NOT"):
            node = Not(node)
    return node


def _distribute(field: str, node: object) -> object:
    """``field:(a OR -b)``: the field applied to every value of the expression."""
    if isinstance(node, Term):
        return Term(field, node.value)
    if isinstance(node, Not):
        return Not(_distribute(field, node.item))
    if isinstance(node, (All, Any)):
        return type(node)(tuple(_distribute(field, item) for item in node.items))
    raise QueryError(f"{field}:(...) takes values only.")


def _range(field: str, tokens) -> Range:
    """Bounds are read as Solr dates on the date fields only: any other field keeps them as written, and
    ``to_sql`` says which fields take ranges."""
    opening, low, high, closing = tokens
    read = parse_date if field in DATE_FIELDS else str
    return Range(field, None if low == "*" else read(low), None if high == "*" else read(high),
                 opening == "[", closing == "]")


def _grammar() -> pp.ParserElement:
    and_op = (pp.Keyword("AND") | pp.Literal("&&")).set_parse_action(lambda: "AND")
    or_op = (pp.Keyword("OR") | pp.Literal("||")).set_parse_action(lambda: "OR")
    implicit = pp.Empty().set_parse_action(lambda: "SPACE")
    operator = and_op | or_op | implicit
    prefix = pp.Keyword("NOT") | pp.Char("+-!")
    quoted = pp.QuotedString('"', esc_char="\\", unquote_results=True)
    word = pp.Regex(r'(?:[^\s()"\[\]{}\\+\-!:]|\\.)(?:[^\s()"\[\]{}\\:]|\\.)*').set_parse_action(
        lambda t: re.sub(r"\\(.)", r"\1", t[0]))
    keyword = pp.Keyword("AND") | pp.Keyword("OR") | pp.Keyword("NOT") | pp.Keyword("TO")
    value = (quoted | ~keyword + word).set_parse_action(lambda t: Term("text", t[0]))

    def boolean(unit: pp.ParserElement) -> pp.ParserElement:
        expression = pp.Forward()
        group = pp.Suppress("(") + expression + pp.Suppress(")")
        operand = (pp.ZeroOrMore(prefix) + (unit | group)).set_parse_action(lambda t: _negate(list(t)))
        expression <<= (operand + pp.ZeroOrMore(operator + operand)).set_parse_action(lambda t: _fold(list(t)))
        return expression

    bound = pp.Regex(r"[^\s\[\]{}]+")
    range_ = pp.Char("[{") + bound + pp.Keyword("TO").suppress() + bound + pp.Char("]}")
    field = pp.Regex(r"([A-Za-z_][\w.]*):").set_parse_action(lambda t: t[0][:-1])
    values = pp.Suppress("(") + boolean(value) + pp.Suppress(")")
    fielded = (field + pp.Group(range_)("range")).set_parse_action(lambda t: _range(t[0], list(t[1]))) | \
        (field + (values | value)).set_parse_action(lambda t: _distribute(t[0], t[1]))
    everything = pp.Literal("*:*").set_parse_action(lambda: Everything())
    return pp.StringStart() + boolean(everything | fielded | value) + pp.StringEnd()


GRAMMAR = _grammar()


_QUOTED_OR_ESCAPED = re.compile(r'"(?:[^"\\]|\\.)*"|\\.', re.DOTALL)


def _unquoted(text: str) -> str:
    """The query without its quoted phrases and escaped characters: what is left are its real operators."""
    return _QUOTED_OR_ESCAPED.sub("", text)


def _depth(text: str) -> int:
    depth = deepest = 0
    for char in _unquoted(text):
        depth += char == "("
        depth -= char == ")"
        deepest = max(deepest, depth)
    return deepest


def clauses(node: object | None) -> int:
    """How many clauses (terms, ranges, ``*:*``) a tree holds; iterative, so no tree is too deep to count."""
    count, stack = 0, [node] if node is not None else []
    while stack:
        item = stack.pop()
        if isinstance(item, (All, Any)):
            stack.extend(item.items)
        elif isinstance(item, Not):
            stack.append(item.item)
        else:
            count += 1
    return count


def parse_query(text: str) -> object | None:
    """The tree of a Solr query (None when empty); QueryError for anything unreadable or too big."""
    if not text.strip():
        return None
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"The query is longer than {MAX_QUERY_CHARS} characters.")
    if _depth(text) > MAX_DEPTH:
        raise QueryError(f"Parentheses nest deeper than {MAX_DEPTH} levels.")
    try:
        node = GRAMMAR.parse_string(text.strip(), parse_all=True)[0]
    except pp.ParseBaseException as error:
        unquoted = _unquoted(text)
        if unquoted.count("(") != unquoted.count(")"):
            where = "unbalanced parentheses"
        elif re.search(r"(?:\bAND|\bOR|\bNOT|&&|\|\||[+\-!])\s*$", text):
            where = "the query ends with an operator"
        else:
            where = f"cannot read {text.strip()[error.loc:error.loc + 40]!r} at character {error.loc + 1}"
        raise QueryError(f"{where}; write field:value clauses, e.g. organization:name or "
                         f"metadata_modified:[2026-01-01T00:00:00Z TO *].") from None
    except RecursionError:
        raise QueryError("The query nests too deeply.") from None
    if clauses(node) > MAX_CLAUSES:
        raise QueryRefused(f"The query has more than {MAX_CLAUSES} clauses.")
    return node


# Solr's word operators CKAN clients send in q: a trailing wildcard (wind*), fuzziness (wind~, wind~0.8) and a
# boost (wind^2). Catalog words match whole words and prefixes already; the operator is dropped, the word stays.
_WORD_SUFFIX = re.compile(r"(?<=\w)(?:\*+|~[\d.]*|\^[\d.]+)(?=\s|$)")


def plain_words(value: str) -> str:
    """Words without Solr's trailing ``*``, ``~``, ``~n`` and ``^n``."""
    return _WORD_SUFFIX.sub("", value)


def free_words(node: object | None) -> list[str]:
    """The words searched for outside any negation: what relevance ranks by."""
    if isinstance(node, Term) and node.field == "text":
        return [plain_words(node.value)]
    if isinstance(node, (All, Any)):
        return [w for item in node.items for w in free_words(item)]
    return []


# ---------------------------------------------------------------- fields, and the tree as SQL


# CKAN field -> our facet; our own facet names work too.
FIELD_FACETS = {"organization": "seller", "owner_org": "seller", "groups": "category", "res_format": "format",
                **{f: f for f in FACETS}}
# Fields that are the same for every listed product: a clause on them keeps everything or nothing.
CONSTANTS = {"dataset_type": "dataset", "type": "dataset", "state": "active", "private": "false",
             "capacity": "public", "isopen": "false"}
DATE_FIELDS = {"metadata_modified", "metadata_created"}
OTHER_FIELDS = {"tags", "text", "name", "id", "title", "license_id"}
FIELDS = sorted({*FIELD_FACETS, *CONSTANTS, *DATE_FIELDS, *OTHER_FIELDS})


def _dates(field: str):
    if field == "metadata_modified":
        return CatalogEntry.listed_at
    return select(DataProduct.created_at).where(DataProduct.id == CatalogEntry.id).scalar_subquery()


def _unknown(field: str):
    raise QueryError(f"Unknown field {field!r}; search by {', '.join(FIELDS)}.")


def _tag_clause(tag: str):
    # A version's tags are a JSON list; an element matches as its whole JSON string, quotes included, whichever
    # way the JSON was written (escaped or literal non-ASCII).
    spellings = {json.dumps(tag), json.dumps(tag, ensure_ascii=False)}
    text = cast(ProductVersion.tags, Text)
    return CatalogEntry.version_id.in_(select(ProductVersion.id).where(
        or_(*(text.like(like_pattern(s), escape="\\") for s in spellings))))


def _words_clause(value: str, dialect: str):
    """Entries whose text has every word, as the catalog search matches them. On SQLite each clause binds its
    own full-text expression, so that several word clauses in one query (``a -b``) keep their own words."""
    terms = parse_terms(plain_words(value))[0]
    if not terms:
        return true()
    if dialect != "sqlite":
        return and_(*text_match(dialect, terms, fuzzy=False)[0])
    expression, short = fts_expression(terms, fuzzy=False)
    clauses = [CatalogEntry.id.in_(select(CatalogText.id).where(*short))] if short else []
    if expression:
        fts = text("SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH :expression").bindparams(
            bindparam("expression", expression, unique=True)).columns(rowid=Integer)
        clauses.append(CatalogEntry.id.in_(fts))
    return and_(*clauses)


def _term_clause(term: Term, dialect: str):
    field, value = term.field, term.value
    if field != "text" and not value.strip():
        raise QueryError(f"{field}: give a value.")
    if field != "text" and re.search(r"(?<!\\)[*?]", value):
        raise QueryError(f"Wildcards ({field}:{value[:60]}) are not supported.")
    if field in FIELD_FACETS:
        facet = FIELD_FACETS[field]
        chosen = canonical(facet, value)
        if facet in COLUMN_FACETS:
            column = COLUMN_FACETS[facet]
            return and_(column.is_not(None), column == chosen)  # never NULL, so a negation keeps the NULLs
        bits = mask_of(facet, [chosen])
        return getattr(CatalogEntry, f"{facet}_mask").op("&")(bits) != 0 if bits else false()
    if field in CONSTANTS:
        return true() if value.strip().lower() == CONSTANTS[field] else false()
    if field == "license_id":
        return true() if value.strip() == LICENSE_ID else false()
    if field == "tags":
        return _tag_clause(value.strip())
    if field == "name":
        return CatalogEntry.slug == value.strip()
    if field == "id":
        return CatalogEntry.id.in_(select(DataProduct.id).where(DataProduct.uuid == value.strip()))
    if field == "title":
        pattern = like_pattern(value.strip().lower())
        return or_(func.lower(CatalogEntry.title_en).like(pattern, escape="\\"),
                   CatalogEntry.title_zh.like(pattern, escape="\\"))
    if field == "text":
        return _words_clause(value, dialect)
    if field in DATE_FIELDS:
        moment = parse_date(value.strip())
        return _dates(field) == moment
    return _unknown(field)


def to_sql(node: object, dialect: str):
    """The WHERE clause over CatalogEntry that the tree asks for; QueryError for fields it cannot filter by."""
    if isinstance(node, Everything):
        return true()
    if isinstance(node, Not):
        return not_(to_sql(node.item, dialect))
    if isinstance(node, All):
        return and_(*(to_sql(item, dialect) for item in node.items))
    if isinstance(node, Any):
        return or_(*(to_sql(item, dialect) for item in node.items))
    if isinstance(node, Range):
        if node.field not in DATE_FIELDS:
            if node.field in FIELDS:
                raise QueryError(f"Ranges work on {' and '.join(sorted(DATE_FIELDS))} only, not {node.field}.")
            _unknown(node.field)
        column, bounds = _dates(node.field), []
        if node.low is not None:
            bounds.append(column >= node.low if node.low_inclusive else column > node.low)
        if node.high is not None:
            bounds.append(column <= node.high if node.high_inclusive else column < node.high)
        return and_(*bounds) if bounds else true()
    return _term_clause(node, dialect)

