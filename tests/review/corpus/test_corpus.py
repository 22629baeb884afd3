"""The personal-information scanner measured on the generated corpus and the real open-data samples, per column.

Each (file, column, kind) the corpus labels is a positive; each the scanner reports is a prediction. Precision and
recall are counted per kind and overall (micro-averaged over kinds), and per column for "holds any personal
information". The real samples under marketplace/data/samples are clean open data: every column is a negative.
The table is printed in the terminal summary of every run that includes this test.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from marketplace.review.pii import PII_KINDS, scan_file
from tests.review.corpus import REPORT
from tests.review.corpus.generate import generate

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted(p for p in (ROOT / "marketplace" / "data" / "samples").rglob("*") if p.is_file())
MIN_PRECISION = MIN_RECALL = 0.95


def _scan(path: Path) -> dict[str, set[str]]:
    with path.open("rb") as fh:
        result = scan_file(fh, filename=path.name)
    assert result.error is None, (path.name, result.error)
    found: dict[str, set[str]] = {}
    for f in result.findings:
        found.setdefault(f.column, set()).add(f.kind)
    return found


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pii-corpus")
    labels = {name: {c: set(kinds) for c, kinds in cols.items()} for name, cols in generate(directory).items()}
    scans = {name: _scan(directory / name) for name in labels}
    for path in SAMPLES:  # clean open data: no column holds personal information
        key = f"samples/{path.relative_to(ROOT / 'marketplace' / 'data' / 'samples')}"
        scans[key] = _scan(path)
        labels[key] = {}
    tp, fp, fn = Counter(), Counter(), Counter()
    columns = Counter()
    mistakes = []
    for name, wanted_by_column in labels.items():
        got_by_column = scans[name]
        for column in set(wanted_by_column) | set(got_by_column):
            want, got = wanted_by_column.get(column, set()), got_by_column.get(column, set())
            for kind in want & got:
                tp[kind] += 1
            for kind in got - want:
                fp[kind] += 1
                mistakes.append(f"false positive: {name} / {column}: {kind}")
            for kind in want - got:
                fn[kind] += 1
                mistakes.append(f"missed: {name} / {column}: {kind}")
            columns[(bool(want), bool(got))] += 1
    return tp, fp, fn, columns, mistakes, sum(columns.values())


def test_precision_and_recall_on_the_corpus(measured, request):
    tp, fp, fn, columns, mistakes, labelled = measured
    lines = [f"{'kind':<16}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>8}"]
    for kind in PII_KINDS:
        if tp[kind] + fp[kind] + fn[kind]:
            lines.append(f"{kind:<16}{tp[kind]:>5}{fp[kind]:>5}{fn[kind]:>5}"
                         f"{_ratio(tp[kind], tp[kind] + fp[kind]):>11.3f}{_ratio(tp[kind], tp[kind] + fn[kind]):>8.3f}")
    t, f, n = sum(tp.values()), sum(fp.values()), sum(fn.values())
    precision, recall = _ratio(t, t + f), _ratio(t, t + n)
    lines.append(f"{'overall':<16}{t:>5}{f:>5}{n:>5}{precision:>11.3f}{recall:>8.3f}")
    c_tp, c_fp, c_fn = columns[(True, True)], columns[(False, True)], columns[(True, False)]
    lines.append(f"personal columns: {c_tp + c_fn} of {labelled} generated columns, and {len(SAMPLES)} real sample "
                 f"files with none; "
                 f"precision {_ratio(c_tp, c_tp + c_fp):.3f}, recall {_ratio(c_tp, c_tp + c_fn):.3f}")
    lines.extend(mistakes)
    request.config.stash[REPORT] = lines
    assert precision >= MIN_PRECISION and recall >= MIN_RECALL, "\n".join(lines)
    assert not [m for m in mistakes if m.split(": ")[1].startswith("samples/")]  # the clean real data stays clean


def test_every_kind_has_positives_in_the_corpus(measured):
    tp, _, fn, *_ = measured
    assert {k for k in PII_KINDS if tp[k] + fn[k]} == set(PII_KINDS)
