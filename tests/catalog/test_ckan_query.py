"""The reader of CKAN's Solr query syntax: the trees it builds for the forms CKAN clients and the CKAN harvester
send, Solr dates and date math, and the refusals (a QueryError the API answers with 409) for what it cannot
express."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from marketplace.catalog.ckan_query import (
    All,
    Any,
    Everything,
    Not,
    QueryError,
    Range,
    Term,
    free_words,
    parse_date,
    parse_query,
)

NOW = datetime(2026, 12, 5, 5, 30, 15, 250000, tzinfo=UTC)
ORG_A, ORG_B = Term("organization", "a"), Term("organization", "b")


@pytest.mark.parametrize(("text", "tree"), [
    ("organization:a", ORG_A),
    ('organization:"a"', ORG_A),
    ("+organization:a", ORG_A),
    ("organization:a OR organization:b", Any((ORG_A, ORG_B))),
    ("organization:a || organization:b", Any((ORG_A, ORG_B))),
    ("+organization:(a OR b)", Any((ORG_A, ORG_B))),
    ("organization:(a OR -b)", Any((ORG_A, Not(ORG_B)))),
    ("-organization:a", Not(ORG_A)),
    ("!organization:a", Not(ORG_A)),
    ("NOT organization:a", Not(ORG_A)),
    ("-organization:a -organization:b", All((Not(ORG_A), Not(ORG_B)))),
    ("organization:a AND organization:b", All((ORG_A, ORG_B))),
    ("organization:a && organization:b", All((ORG_A, ORG_B))),
    ("(organization:a OR organization:b) AND tags:x", All((Any((ORG_A, ORG_B)), Term("tags", "x")))),
    ("NOT (organization:a OR organization:b)", Not(Any((ORG_A, ORG_B)))),
    ('tags:"air quality"', Term("tags", "air quality")),
    (r'title:"say \"hi\""', Term("title", 'say "hi"')),
    (r"name:a\:b", Term("name", "a:b")),
    ("*:*", Everything()),
    ("hong kong", All((Term("text", "hong"), Term("text", "kong")))),
    ("speeds title:hong", All((Term("text", "speeds"), Term("title", "hong")))),
    ("res_format:CSV license_id:cc-by", All((Term("res_format", "CSV"), Term("license_id", "cc-by")))),
])
def test_trees(text, tree):
    assert parse_query(text) == tree


def test_the_harvesters_incremental_query_with_an_organization_filter():
    # what ckanext-harvest sends: fq_terms joined by spaces, the include filter one term joined by OR
    text = ("organization:a OR organization:b -groups:g "
            "metadata_modified:[2026-12-05T04:00:00.123456Z TO *]")
    since = datetime(2026, 12, 5, 4, 0, 0, 123456, tzinfo=UTC)
    assert parse_query(text) == All((Any((ORG_A, ORG_B)), Not(Term("groups", "g")),
                                     Range("metadata_modified", since, None, True, True)))
    plain = parse_query("metadata_modified:[2026-12-05T04:00:00Z TO *]")  # isoformat without microseconds
    assert plain == Range("metadata_modified", since.replace(microsecond=0), None, True, True)


def test_ranges_with_exclusive_and_open_bounds():
    assert parse_query("metadata_created:{* TO 2026-01-01T00:00:00Z}") == \
        Range("metadata_created", None, datetime(2026, 1, 1, tzinfo=UTC), False, False)
    assert parse_query("metadata_modified:[* TO *]") == Range("metadata_modified", None, None, True, True)


@pytest.mark.parametrize(("text", "moment"), [
    ("2026-01-31T12:00:00Z", datetime(2026, 1, 31, 12, tzinfo=UTC)),
    ("2026-01-31T12:00:00.5Z", datetime(2026, 1, 31, 12, 0, 0, 500000, tzinfo=UTC)),
    ("2026-01-31T12:00:00.123456789Z", datetime(2026, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)),
    ("NOW", NOW),
    ("NOW/DAY", datetime(2026, 12, 5, tzinfo=UTC)),
    ("NOW-7DAYS/DAY", datetime(2026, 11, 28, tzinfo=UTC)),
    ("NOW-1MONTH", datetime(2026, 11, 5, 5, 30, 15, 250000, tzinfo=UTC)),
    ("NOW+1YEAR/MONTH", datetime(2027, 12, 1, tzinfo=UTC)),
    ("NOW-2HOURS/HOUR", datetime(2026, 12, 5, 3, tzinfo=UTC)),
    ("2026-01-31T00:00:00Z+1MONTH", datetime(2026, 2, 28, tzinfo=UTC)),
    ("NOW-500MILLIS", datetime(2026, 12, 5, 5, 30, 14, 750000, tzinfo=UTC)),
])
def test_solr_dates_and_date_math(text, moment):
    assert parse_date(text, now=NOW) == moment


@pytest.mark.parametrize(("text", "words"), [
    ("organization:a AND organization:b OR tags:x", "ambiguous"),
    ("(organization:a", "unbalanced parentheses"),
    ("organization:a)", "unbalanced parentheses"),
    ("organization:a OR", "ends with an operator"),
    ("organization:a -", "ends with an operator"),
    ("organization:a AND AND tags:b", "cannot read"),
    ("metadata_modified:[2026-01-01 TO *]", "not a Solr date"),
    ("metadata_modified:[2026-02-30T00:00:00Z TO *]", "not a valid date"),
    ("metadata_modified:[NOW-1WEEK TO *]", "not a Solr date unit"),
    ("metadata_modified:[NOW/MILLI TO *]", "Cannot round"),
    ("metadata_modified:[NOW-99999999YEARS TO *]", "out of range"),
    ("metadata_modified:[* TO]", "cannot read"),
    ("(" * 17 + "tags:x" + ")" * 17, "nest deeper"),
    (" ".join(f"tags:t{n}" for n in range(101)), "more than 100 clauses"),
    ("x" * 2001, "longer than"),
])
def test_refusals_say_what_is_wrong(text, words):
    with pytest.raises(QueryError) as refused:
        parse_query(text)
    assert words in str(refused.value)


def test_empty_queries():
    assert parse_query("") is None and parse_query("   ") is None


def test_free_words_are_the_positive_words():
    assert free_words(parse_query("hong kong -traffic title:x")) == ["hong", "kong"]
    assert free_words(parse_query("speeds OR journeys")) == ["speeds", "journeys"]
