"""The personal-information scanner measured on the generated corpus and the real open-data samples, per column.

Each (file, column, kind) the corpus labels is a positive; each the scanner reports is a prediction. Precision and
recall are counted per kind and overall (micro-averaged over kinds), and per column for "holds any personal
information". The real samples under marketplace/data/samples are clean open data: every column is a negative.
The table is printed under "results" at the end of every run that includes this test (tests.support.report).
``PII_CORPUS_SEEDS=40`` measures 40 corpora (seeds SEED, SEED + 1, ...) instead of one.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from marketplace.review.pii import PII_KINDS, scan_file
from tests.review.corpus.generate import CLASS_OF, CLASSES, SEED, generate
from tests.support.report import report

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
    labels, scans = {}, {}
    for seed in range(SEED, SEED + int(os.environ.get("PII_CORPUS_SEEDS", "1"))):
        directory = tmp_path_factory.mktemp(f"pii-corpus-{seed}")
        for name, cols in generate(directory, seed).items():
            labels[f"{seed}/{name}"] = {c: set(kinds) for c, kinds in cols.items()}
            scans[f"{seed}/{name}"] = _scan(directory / name)
    for path in SAMPLES:  # clean open data: no column holds personal information
        key = f"samples/{path.relative_to(ROOT / 'marketplace' / 'data' / 'samples')}"
        scans[key] = _scan(path)
        labels[key] = {}
    tp, fp, fn = Counter(), Counter(), Counter()
    columns = Counter()
    by_class: dict[str, Counter] = {cls: Counter() for cls in CLASSES}  # columns, right, flagged wrongly, missed
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
            if column in CLASS_OF and not name.startswith("samples/"):
                tally = by_class[CLASS_OF[column]]
                tally["columns"] += 1
                tally["right"] += want == got
                tally["false"] += bool(got - want)
                tally["missed"] += bool(want - got)
    return tp, fp, fn, columns, mistakes, sum(columns.values()), by_class


def test_precision_and_recall_on_the_corpus(measured):
    tp, fp, fn, columns, mistakes, labelled, by_class = measured
    seeds = int(os.environ.get("PII_CORPUS_SEEDS", "1"))
    lines = [f"personal-information scanner on the generated corpus ({seeds} seed(s) from {SEED}), per column:",
             f"{'kind':<16}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>8}"]
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
    lines.append(f"{'column class':<46}{'columns':>8}{'right':>7}{'false+':>7}{'missed':>7}")
    for cls, t in by_class.items():
        lines.append(f"{cls:<46}{t['columns']:>8}{t['right']:>7}{t['false']:>7}{t['missed']:>7}")
    lines.extend(mistakes)
    for line in lines:
        report(line)
    assert precision >= MIN_PRECISION and recall >= MIN_RECALL, "\n".join(lines)
    assert not [m for m in mistakes if m.split(": ")[1].startswith("samples/")]  # the clean real data stays clean


def test_every_kind_has_positives_in_the_corpus(measured):
    tp, _, fn, *_ = measured
    assert all(t["columns"] for t in measured[-1].values())  # every class of column was generated
    assert {k for k in PII_KINDS if tp[k] + fn[k]} == set(PII_KINDS)
