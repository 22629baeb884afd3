"""Small charts as server-rendered SVG: a histogram, horizontal bars of counts, and bars over time.

They need no script and pass the page's CSP (no style attributes: colours come from classes in app.css). Each
chart is an image to assistive technology (``role="img"``) named by its ``<title>`` and described by its
``<desc>``, which says in words what the bars show; each bar carries its own ``<title>`` (a tooltip). Labels are
escaped. With no data a chart is an empty string: the page says so in words.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from flask import g, has_app_context, has_request_context, request
from markupsafe import Markup, escape

_ids = itertools.count(1)  # outside a request or job


def _next_id() -> int:
    # Numbered per page (the request's, or the job's app context), so a page renders the same every time.
    if has_request_context():
        return next(request.environ.setdefault("marketplace.chart_ids", itertools.count(1)))
    if has_app_context():
        if "chart_ids" not in g:
            g.chart_ids = itertools.count(1)
        return next(g.chart_ids)
    return next(_ids)


def _svg(kind: str, width: int, height: int, title: str, desc: str, body: list[str]) -> Markup:
    n = _next_id()
    title_id, desc_id = f"chart-{n}-title", f"chart-{n}-desc"
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-labelledby="{title_id} {desc_id}" '
            f'preserveAspectRatio="xMinYMin meet">'
            f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def histogram(counts: Sequence[int], bin_labels: Sequence[str], *, title: str, describe: str,
              width: int = 240, height: int = 60) -> Markup:
    """Vertical bars, one per bin, heights relative to the fullest; ``bin_labels`` name each bin (its range)
    in the bar's tooltip, as "label: count"."""
    if not counts or max(counts) <= 0:
        return Markup("")
    top, gap = max(counts), 1
    bar = width / len(counts)
    body = [f'<line class="chart-axis" x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}"/>']
    bar_width = _num(max(bar - gap, 0.5))  # the same for every bar
    for i, (count, label) in enumerate(zip(counts, bin_labels, strict=False)):
        h = 0 if not count else max(1.0, (height - 2) * count / top)
        body.append(f'<rect class="chart-bar" x="{_num(i * bar + gap / 2)}" y="{_num(height - 1 - h)}" '
                    f'width="{bar_width}" height="{_num(h)}"><title>{escape(label)}: {count}</title></rect>')
    return _svg("histogram", width, height, title, describe, body)


def bars(items: Sequence[tuple[str, int]], *, title: str, describe: str, count_text: Callable[[int], str] = str,
         width: int = 240, row: int = 18, compact: bool = False) -> Markup:
    """Horizontal bars for a few values and how often each occurs (longest first, as given): with their labels
    above and counts at their end, or ``compact``, bars alone (the page lists the values beside them), each
    named in its tooltip."""
    if not items:
        return Markup("")
    top = max(count for _, count in items) or 1
    body = []
    if compact:
        row, room = 10, width
        height = len(items) * row
    else:
        room, height = width - 60, len(items) * row * 2
    for i, (label, count) in enumerate(items):
        w = max(1.0, room * count / top)
        tip = f"<title>{escape(label)}: {escape(count_text(count))}</title>"
        if compact:
            body.append(f'<rect class="chart-bar" x="0" y="{i * row + 1}" width="{_num(w)}" height="{row - 2}">'
                        f"{tip}</rect>")
            continue
        y = i * row * 2
        text = label if len(label) <= 40 else label[:39] + "…"
        body.append(f'<text class="chart-label" x="0" y="{y + row - 5}">{escape(text)}</text>'
                    f'<rect class="chart-bar" x="0" y="{y + row}" width="{_num(w)}" height="{row - 6}">{tip}</rect>'
                    f'<text class="chart-value" x="{_num(w + 4)}" y="{y + 2 * row - 7}">{escape(count_text(count))}'
                    f'</text>')
    return _svg("bars", width, height, title, describe, body)


def timeline(points: Sequence[tuple[str, float, str]], *, title: str, describe: str, width: int = 640,
             height: int = 160) -> Markup:
    """Vertical bars over time: ``points`` are (period label, value, value as text), oldest first. The first, the
    last and every few periods are labelled under the axis; the highest value is labelled at the top."""
    if not points:
        return Markup("")
    top = max(value for _, value, _ in points) or 1
    axis, left = height - 20, 4
    bar = (width - left) / len(points)
    every = max(1, len(points) // 6)
    body = [f'<line class="chart-axis" x1="{left}" y1="{axis + 0.5}" x2="{width}" y2="{axis + 0.5}"/>']
    for i, (label, value, shown) in enumerate(points):
        h = 0 if value <= 0 else max(1.0, (axis - 16) * value / top)
        x = left + i * bar
        body.append(f'<rect class="chart-bar" x="{_num(x + 1)}" y="{_num(axis - h)}" width="{_num(max(bar - 2, 1))}" '
                    f'height="{_num(h)}"><title>{escape(label)}: {escape(shown)}</title></rect>')
        # The last period is always labelled; a regular label too close before it would run into it.
        if i == len(points) - 1 or (i % every == 0 and len(points) - 1 - i >= every):
            body.append(f'<text class="chart-label" x="{_num(x + bar / 2)}" y="{height - 5}" '
                        f'text-anchor="middle">{escape(label)}</text>')
    peak = max(range(len(points)), key=lambda i: points[i][1])
    if points[peak][1] > 0:
        body.append(f'<text class="chart-value" x="{_num(left + peak * bar + bar / 2)}" y="12" '
                    f'text-anchor="middle">{escape(points[peak][2])}</text>')
    return _svg("timeline", width, height, title, describe, body)
