"""A stored column profile put into the reader's words: numbers and shares rounded and formatted for their
locale (Babel, through the i18n helpers' locale), and the charts of each column, with their text alternatives."""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache

from babel import Locale, numbers
from markupsafe import Markup

from marketplace.catalog.profiles import DISTINCT_CAP
from marketplace.i18n import babel_locale, ngettext
from marketplace.i18n import gettext as _
from marketplace.listings.vocab import FieldType
from marketplace.web import charts

_SIGNIFICANT = 6


def readable(value: float | int | None) -> str:
    """A number rounded for reading (six significant digits; whole numbers whole) in the reader's locale."""
    return reader()(value)


def reader():
    """``readable`` for the reader's locale, its symbols looked up once: for a table or chart of many numbers."""
    locale = babel_locale()
    symbols = _symbols(str(locale))

    def read(value: float | int | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, int):
            text = str(int(value))  # int(): a bool reads as 0 or 1
            if len(text) <= 3:  # most counts: nothing to group, nothing to round
                return text
            whole = True
        else:
            if 1e5 <= abs(value) < 1e15:
                value = round(value)  # a large number's fraction is noise to a reader
            whole = isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e15)
            text = str(int(value)) if whole else format(float(value), f".{_SIGNIFICANT}g")
        if symbols is None or "e" in text or "n" in text:  # an unusual locale, or a number Babel spells better
            number = int(value) if whole else Decimal(text)
            return numbers.format_decimal(number, locale=locale, decimal_quantization=False)
        # Babel's own symbols and grouping, applied here: a page shows a couple of hundred numbers.
        decimal, group = symbols
        sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
        digits, _dot, fraction = text.partition(".")
        grouped = f"{int(digits):,}".replace(",", group) if len(digits) > 3 else digits
        return sign + grouped + (decimal + fraction if fraction else "")

    return read


@cache
def _symbols(babel_id: str) -> tuple[str, str] | None:
    """The locale's decimal and group symbols if it groups digits in threes (as every locale here does)."""
    locale = Locale.parse(babel_id)
    pattern = numbers.parse_pattern(locale.decimal_formats.get(None))
    if pattern.grouping != (3, 3):
        return None
    return numbers.get_decimal_symbol(locale), numbers.get_group_symbol(locale)


def share(value: float) -> str:
    """A share (0..1) as a percentage: one decimal under 10 %, none above; "<0.1 %" rather than 0 for a few.

    Babel's percent patterns, applied here as Babel applies them (the value as its decimal string, times 100,
    rounded half-even), with the locale's symbols: a profile shows dozens of shares."""
    if 0 < value < 0.001:
        return "<" + share(0.001)
    locale = babel_locale()
    marks = _percent_marks(str(locale))
    if marks is None:
        return _percent("#,##0.#%" if value < 0.1 else "#,##0%").apply(value, locale)
    decimal, percent = marks
    scaled = (Decimal(str(value)) * 100).quantize(_TENTH if value < 0.1 else _ONE, rounding=ROUND_HALF_EVEN)
    text = format(scaled, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", decimal) + percent


_TENTH, _ONE = Decimal("0.1"), Decimal("1")


@cache
def _percent_marks(babel_id: str) -> tuple[str, str] | None:
    """The locale's decimal and percent symbols when its percent sign follows the number (as in every locale
    here); None to leave the formatting to Babel."""
    locale = Locale.parse(babel_id)
    if not (locale.percent_formats.get(None).pattern or "").endswith("%"):
        return None
    return numbers.get_decimal_symbol(locale), numbers.format_percent(0, "0%", locale=locale).replace("0", "")


@cache
def _percent(pattern: str) -> numbers.NumberPattern:
    """A percent pattern parsed once (Babel's format_percent parses it at every call)."""
    return numbers.parse_pattern(pattern)


def preview_rows(rows: list[list]) -> Markup:
    """The sample preview's body rows (numbered, cells escaped), joined here: a preview has up to a few
    hundred cells, which a template loop would render many times slower."""
    escape = Markup.escape
    return Markup("".join(
        f'<tr><td class="num muted">{n}</td>' + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
        for n, row in enumerate(rows, 1)))


def histogram_chart(column: dict) -> Markup:
    """A numeric column's histogram as SVG: its bins' ranges and counts in the description."""
    hist = column.get("histogram") or {}
    edges, counts = hist.get("edges") or [], hist.get("counts") or []
    if not counts:
        return Markup("")
    whole = column.get("type") == "integer" and len(edges) == len(counts) + 1 and all(
        float(e).is_integer() for e in edges) and (len(counts) == 1 or edges[1] - edges[0] == 1)
    readable = reader()
    marks = [readable(edge) for edge in edges]  # each edge ends one bin and starts the next: put into words once
    labels = []
    for i in range(len(counts)):
        j = min(i + 1, len(edges) - 1)
        labels.append(marks[i] if whole or edges[i] == edges[j] else f"{marks[i]} – {marks[j]}")
    described = "; ".join(f"{label}: {readable(n)}" for label, n in zip(labels, counts, strict=False))
    return charts.histogram(counts, labels, title=_("Distribution of %(name)s", name=column["name"]),
                            describe=_("Rows per range of values: %(ranges)s.", ranges=described), width=120,
                            height=40)


def top_chart(column: dict, rows: int) -> Markup:
    """A text column's most common values as bars, each with its count and share of the rows."""
    top = column.get("top") or []
    if not top:
        return Markup("")
    items = [(value or "—", count) for value, count in top]
    readable = reader()

    said: dict[int, str] = {}

    def count_text(count: int) -> str:  # asked twice per value: for the description and the bar's tooltip
        if count not in said:
            said[count] = f"{readable(count)} ({share(count / rows)})" if rows else readable(count)
        return said[count]

    described = "; ".join(f"{value}: {count_text(count)}" for value, count in items)
    return charts.bars(items, title=_("Most common values of %(name)s", name=column["name"]),
                       describe=_("Rows per value: %(values)s.", values=described), count_text=count_text,
                       width=120, compact=True)


def profile_rows(profile: dict) -> Markup:
    """The column profile table's body rows, built here rather than in a template loop: a profile has a row of a
    dozen values and a chart per column, which a template renders several times slower. The words are the
    catalogs'; every value from the file is escaped."""
    esc, readable = Markup.escape, reader()
    words = {key: esc(text) for key, text in (("min", _("min")), ("max", _("max")), ("mean", _("mean")),
                                               ("common", _("Most common:")), ("once", _("Every value occurs once.")))}
    rows = []
    for c in profile.get("columns") or []:
        if c.get("distinct") is None:
            distinct = _("over %(num)s", num=readable(DISTINCT_CAP))
        else:
            distinct = readable(c["distinct"])
        if "min" in c:
            values = (f'<dl class="product-profile-stats"><dt>{words["min"]}</dt><dd>{readable(c["min"])}</dd>'
                      f'<dt>{words["max"]}</dt><dd>{readable(c["max"])}</dd>'
                      f'<dt>{words["mean"]}</dt><dd>{readable(c["mean"])}</dd></dl>')
        elif "from" in c:
            values = (f'<span class="nowrap">{esc(c["from"])}</span> – <span class="nowrap">{esc(c.get("to"))}'
                      "</span>")
        elif c.get("top"):
            values = f'{words["common"]} ' + ", ".join(
                f'<span class="mono">{esc(value or "—")}</span> <span class="muted">({readable(count)})</span>'
                for value, count in c["top"])
        elif c.get("unique"):
            values = words["once"]
        else:
            values = "—"
        chart = histogram_chart(c) if c.get("histogram") else top_chart(c, profile.get("rows")) if c.get("top") \
            else ""
        rows.append(f'<tr><th scope="row" class="mono">{esc(c["name"])}</th>'
                    f'<td><span class="product-type">{esc(field_type_label(c.get("type")))}</span></td>'
                    f'<td class="num nowrap">{esc(share(c.get("empty_share") or 0))}</td>'
                    f'<td class="num nowrap">{esc(distinct)}</td><td class="small">{values}</td><td>{chart}</td></tr>')
    return Markup("".join(rows))


def rows_read(profile: dict) -> str:
    """What the profile covers: all rows, or the first N when the file was longer than the scan."""
    rows = int(profile.get("rows") or 0)
    if profile.get("partial"):
        return ngettext("Profiled on the first %(num)s row.", "Profiled on the first %(num)s rows.", rows,
                        num=readable(rows))
    return ngettext("Profiled on all %(num)s row.", "Profiled on all %(num)s rows.", rows, num=readable(rows))


def by_name(profile: dict | None) -> dict[str, dict]:
    """The profile's columns by lower-cased name, for the data dictionary's rows."""
    if not profile:
        return {}
    return {c["name"].lower(): c for c in profile.get("columns") or []}


def field_type_label(kind: str) -> str:
    """A profiled column's type in the reader's words, as the data dictionary names it."""
    try:
        return FieldType(kind).label
    except ValueError:
        return kind


HELPERS = {"readable": readable, "share": share, "preview_rows": preview_rows, "profile_rows": profile_rows,
           "histogram_chart": histogram_chart, "top_chart": top_chart, "rows_read": rows_read,
           "field_type_label": field_type_label, "distinct_cap": DISTINCT_CAP}
