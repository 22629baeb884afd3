"""Server-rendered SVG charts: well-formed SVG, named and described for assistive technology, labels escaped,
nothing drawn without data."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from marketplace.web import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def test_a_histogram_is_valid_svg_with_one_bar_per_bin():
    svg = parse(charts.histogram([1, 4, 0, 2], ["0–1", "1–2", "2–3", "3–4"], title="Speeds", describe="Rows per range"))

    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title.text == "Speeds" and desc.text == "Rows per range"
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    bars = svg.findall(f"{SVG}rect")
    assert len(bars) == 4
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] == max(heights) and heights[2] == 0  # the fullest bin is the tallest, an empty one is flat
    assert [b.find(f"{SVG}title").text for b in bars][0] == "0–1: 1"
    assert "style=" not in str(charts.histogram([1], ["a"], title="t", describe="d"))  # the CSP allows no inline style


def test_labels_are_escaped():
    markup = str(charts.bars([('<script>alert("x")</script>', 3), ("A & B", 1)], title="<b>Top</b>",
                             describe="a < b"))

    assert "<script>" not in markup and "<b>" not in markup
    svg = parse(markup)  # still well-formed
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert '<script>alert("x")</script>' in texts and "A & B" in texts
    assert svg.find(f"{SVG}title").text == "<b>Top</b>"


def test_bars_are_as_long_as_their_counts():
    svg = parse(charts.bars([("a", 10), ("b", 5)], title="t", describe="d", count_text=lambda n: f"{n} rows"))
    widths = [float(r.get("width")) for r in svg.iter(f"{SVG}rect")]
    assert widths[0] == 2 * widths[1]
    assert "10 rows" in [t.text for t in svg.iter(f"{SVG}text")]


def test_a_timeline_labels_its_ends_and_its_peak():
    points = [(f"M{i}", float(i * 10), f"${i * 10}") for i in range(12)]
    svg = parse(charts.timeline(points, title="Revenue", describe="per month"))

    assert len(svg.findall(f"{SVG}rect")) == 12
    labels = [t.text for t in svg.iter(f"{SVG}text")]
    assert "M0" in labels and "M11" in labels and "$110" in labels


def test_no_data_draws_nothing():
    assert charts.histogram([], [], title="t", describe="d") == ""
    assert charts.histogram([0, 0], ["a", "b"], title="t", describe="d") == ""
    assert charts.bars([], title="t", describe="d") == ""
    assert charts.timeline([], title="t", describe="d") == ""


def test_a_timeline_of_zeros_draws_flat_bars():
    svg = parse(charts.timeline([("Jan", 0, "0"), ("Feb", 0, "0")], title="t", describe="d"))
    assert all(float(r.get("height")) == 0 for r in svg.iter(f"{SVG}rect"))


def test_each_chart_has_its_own_ids():
    first, second = (parse(charts.bars([("a", 1)], title="t", describe="d")) for _ in range(2))
    assert first.find(f"{SVG}title").get("id") != second.find(f"{SVG}title").get("id")


def test_a_timeline_leaves_no_label_running_into_the_last():
    points = [(f"M{i}", 1.0, "1") for i in range(12)]  # every second period labelled: M10 would touch M11
    labels = [t.text for t in parse(charts.timeline(points, title="t", describe="d")).iter(f"{SVG}text")]
    assert labels[:-1] == ["M0", "M2", "M4", "M6", "M8", "M11"]  # the peak's value last
