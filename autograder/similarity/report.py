"""Similarity report: which submissions share student-written code beyond the scaffolding.

    collect -> read code cells -> normalized tokens (fingerprint.py) -> drop scaffolding
    -> winnow -> inverted index hash -> submissions -> pair scores
    -> matching regions for the pairs shown -> similarity.html + similarity.csv

Scaffolding is the code of the released student notebook (setup cell, stubs, grader.check
cells; every language). It is removed twice: a submission's logical line whose normalized
tokens equal a line of the scaffolding is dropped, and so is a fingerprint whose k-gram also
occurs in the scaffolding. A signature or an untouched stub therefore never counts.

Score of a pair = fingerprints shared / fingerprints of the smaller submission, so a copy
buried in extra code still scores high. A pair is flagged when score >= threshold and the
matched code is at least min_tokens long (a one-line function shared by chance is not enough).
A fingerprint found in more than max(common_min, common_fraction x submissions) submissions is
the class's common idiom, not evidence of copying, and is ignored like scaffolding.
"""

from __future__ import annotations

import csv
import warnings
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from itertools import combinations
from pathlib import Path
from typing import Mapping

import jinja2
import nbformat

from ..collect import Submission, collect
from ..release import NB_META_KEY, build_notebook
from ..spec import LANGUAGES, TEMPLATES_DIR, Assignment
from .fingerprint import Token, kgram_hashes, matching_runs, tokenize_cell, winnow

REPORT_SCHEMA = 1
# Why these numbers: see SimilarityOptions.
K, W = 12, 6


@dataclass(frozen=True)
class SimilarityOptions:
    """k: noise threshold (tokens); a run shorter than k never matches. 12 normalized tokens
    is about one statement such as `$id = $id . where ( $id @ $id + $id ...`, short enough to
    survive a copier's small edits, long enough that independent code rarely shares it.
    w: winnowing window; any shared run of k + w - 1 = 17 tokens is guaranteed a shared
    fingerprint, and about 2 / (w + 1) = 29 % of the k-grams are kept.
    """
    k: int = K
    w: int = W
    threshold: float = 0.5
    min_tokens: int = 40
    common_fraction: float = 0.25
    common_min: int = 10
    top: int = 50               # best pairs shown with their matching code in the HTML
    csv_min_score: float = 0.1  # pairs written to the CSV (flagged ones always are)

    def __post_init__(self):
        if self.k < 1 or self.w < 1:
            raise ValueError(f"k and w must be >= 1 (got k={self.k}, w={self.w})")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.top < 0 or self.min_tokens < 0:
            raise ValueError(f"top and min_tokens must be >= 0 (got top={self.top}, "
                             f"min_tokens={self.min_tokens})")


@dataclass(frozen=True)
class Scaffold:
    lines: frozenset[tuple[str, ...]]   # normalized logical lines of the released notebook
    hashes: frozenset[int]              # its k-gram hashes


@dataclass(frozen=True)
class Document:
    """One submission's student-written code, ready to compare."""
    name: str
    path: Path
    cells: tuple[tuple[str, ...], ...]   # source lines of every code cell
    tokens: tuple[Token, ...]            # tokens left after removing the scaffolding
    hashes: tuple[int, ...]              # k-gram hashes of tokens
    fingerprints: Mapping[int, tuple[int, ...]]   # winnowed hash -> token positions
    scaffold_lines: frozenset[tuple[int, int]]    # (cell, line) holding only scaffolding
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    submission: str
    path: str
    message: str


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    score: float            # shared fingerprints / fingerprints of the smaller submission
    shared: int             # fingerprints in common
    matched_tokens: int     # tokens covered by shared fingerprints, the smaller of both sides
    flagged: bool


@dataclass(frozen=True)
class Region:
    number: int
    tokens: int
    a_where: str
    b_where: str


@dataclass(frozen=True)
class Segment:
    text: str
    region: int | None = None


@dataclass(frozen=True)
class Line:
    number: int
    segments: tuple[Segment, ...]
    scaffold: bool


@dataclass(frozen=True)
class CellView:
    cell: int               # 1-based index among the notebook's code cells
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class PairDetail:
    pair: Pair
    regions: tuple[Region, ...]
    a: tuple[CellView, ...]
    b: tuple[CellView, ...]


@dataclass(frozen=True)
class SimilarityReport:
    assignment: str
    options: SimilarityOptions
    submissions: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    notes: Mapping[str, tuple[str, ...]]
    pairs: tuple[Pair, ...]          # best first: score >= csv_min_score, or flagged
    details: tuple[PairDetail, ...]  # the pairs shown in the HTML, best first
    common: int                      # fingerprints ignored as the class's common idiom

    @property
    def flagged(self) -> tuple[Pair, ...]:
        return tuple(p for p in self.pairs if p.flagged)

    def pair(self, a: str, b: str) -> Pair | None:
        return next((p for p in self.pairs if {p.a, p.b} == {a, b}), None)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["schema"] = REPORT_SCHEMA
        return data


class UnreadableSubmission(ValueError):
    pass


# -- reading ------------------------------------------------------------------------------------
def _code_cells(nb) -> list[str]:
    sources = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources


def scaffold_of(assignment: Assignment, k: int = K) -> Scaffold:
    """Normalized lines and k-grams of the released student notebook, in every language."""
    lines: set[tuple[str, ...]] = set()
    hashes: set[int] = set()
    for lang in LANGUAGES:
        stream: list[str] = []
        for index, source in enumerate(_code_cells(build_notebook(assignment, lang))):
            for line in tokenize_cell(source, index).lines:
                texts = tuple(t.text for t in line)
                lines.add(texts)
                stream += texts
        hashes.update(kgram_hashes(stream, k))
    return Scaffold(frozenset(lines), frozenset(hashes))


def read_document(submission: Submission, assignment: Assignment, scaffold: Scaffold,
                  options: SimilarityOptions) -> Document:
    """Tokens and fingerprints of a submission; UnreadableSubmission if it is no notebook."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # schema warnings: the code cells are what matter
            nb = nbformat.reads(submission.notebook.read_text(encoding="utf-8"), as_version=4)
        sources = _code_cells(nb)
    except Exception as exc:  # any parse failure of one file must not stop the batch
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise UnreadableSubmission(
            f"{submission.stem}: {submission.notebook} is not a readable notebook "
            f"({type(exc).__name__}: {reason}); left out of the comparison. Check that it is "
            f"the .ipynb file the student submitted (open it in Jupyter).") from None
    notes = []
    released_for = (nb.get("metadata", {}).get(NB_META_KEY) or {}).get("slug")
    if released_for and released_for != assignment.slug:
        notes.append(f"notebook was released for {released_for!r}, not {assignment.slug!r}")
    kept: list[Token] = []
    removed: set[tuple[int, int]] = set()
    for index, source in enumerate(sources):
        cell = tokenize_cell(source, index)
        if cell.note:
            notes.append(cell.note)
        for line in cell.lines:
            if tuple(t.text for t in line) in scaffold.lines:
                removed.update((t.cell, t.line) for t in line)
            else:
                kept += line
    hashes = kgram_hashes([t.text for t in kept], options.k)
    fingerprints: dict[int, list[int]] = defaultdict(list)
    for h, position in winnow(hashes, options.w):
        if h not in scaffold.hashes:
            fingerprints[h].append(position)
    student = {(t.cell, t.line) for t in kept}
    return Document(submission.stem, submission.notebook,
                    tuple(tuple(s.split("\n")) for s in sources), tuple(kept), tuple(hashes),
                    {h: tuple(p) for h, p in fingerprints.items()},
                    frozenset(removed - student), tuple(notes))


# -- comparing ----------------------------------------------------------------------------------
def _covered(positions, k: int) -> int:
    return len({x for p in positions for x in range(p, p + k)})


def score_pairs(docs: list[Document], options: SimilarityOptions) -> tuple[list[Pair], set[int]]:
    """Pairs with score >= csv_min_score (or flagged), best first, and the common hashes.

    Only pairs that share a fingerprint are ever looked at: the inverted index maps each hash
    to the submissions holding it, and a pair's count grows once per hash they share.
    """
    index: dict[int, list[int]] = defaultdict(list)
    for i, doc in enumerate(docs):
        for h in doc.fingerprints:
            index[h].append(i)
    limit = max(options.common_min, options.common_fraction * len(docs))
    common = {h for h, holders in index.items() if len(holders) > limit}
    shared: Counter[tuple[int, int]] = Counter()
    for h, holders in index.items():
        if len(holders) > 1 and h not in common:
            shared.update(combinations(holders, 2))
    sizes = [sum(1 for h in doc.fingerprints if h not in common) for doc in docs]
    pairs = []
    for (i, j), count in shared.items():
        score = count / min(sizes[i], sizes[j])
        if score < min(options.csv_min_score, options.threshold):
            continue
        a, b = docs[i], docs[j]
        both = (a.fingerprints.keys() & b.fingerprints.keys()) - common
        matched = min(_covered((p for h in both for p in a.fingerprints[h]), options.k),
                      _covered((p for h in both for p in b.fingerprints[h]), options.k))
        flagged = score >= options.threshold and matched >= options.min_tokens
        pairs.append(Pair(a.name, b.name, round(score, 4), count, matched, flagged))
    pairs.sort(key=lambda p: (-p.score, -p.matched_tokens, p.a, p.b))
    return pairs, common


def _where(tokens: tuple[Token, ...], start: int, length: int) -> str:
    first, last = tokens[start], tokens[start + length - 1]
    if first.cell != last.cell:
        return f"cell {first.cell + 1} line {first.line} to cell {last.cell + 1} line {last.line}"
    lines = f"line {first.line}" if first.line == last.line else \
        f"lines {first.line}-{last.line}"
    return f"cell {first.cell + 1}, {lines}"


def _view(doc: Document, marks: list[tuple[int, int, int]]) -> tuple[CellView, ...]:
    """Code cells holding student tokens, with the characters of each region marked."""
    spans: dict[tuple[int, int], list[int | None]] = {}
    for start, length, number in marks:
        extent: dict[tuple[int, int], tuple[int, int]] = {}
        for t in doc.tokens[start:start + length]:   # whole line span, spaces included
            low, high = extent.get((t.cell, t.line), (t.col, t.end))
            extent[(t.cell, t.line)] = (min(low, t.col), max(high, t.end))
        for (cell, line), (low, high) in extent.items():
            text = doc.cells[cell][line - 1]
            chars = spans.setdefault((cell, line), [None] * len(text))
            chars[low:high] = [number] * (min(high, len(text)) - low)
    views = []
    for cell in sorted({t.cell for t in doc.tokens}):
        lines = []
        for number, text in enumerate(doc.cells[cell], start=1):
            chars = spans.get((cell, number), [None] * len(text))
            segments, start = [], 0
            for x in range(1, len(text) + 1):
                if x == len(text) or chars[x] != chars[start]:
                    segments.append(Segment(text[start:x], chars[start]))
                    start = x
            lines.append(Line(number, tuple(segments),
                              (cell, number) in doc.scaffold_lines))
        views.append(CellView(cell + 1, tuple(lines)))
    return tuple(views)


def pair_detail(pair: Pair, a: Document, b: Document, ignore: set[int],
                options: SimilarityOptions) -> PairDetail:
    runs = matching_runs([t.text for t in a.tokens], list(a.hashes),
                         [t.text for t in b.tokens], list(b.hashes), options.k, ignore)
    regions = tuple(Region(n, length, _where(a.tokens, i, length), _where(b.tokens, j, length))
                    for n, (i, j, length) in enumerate(runs, start=1))
    return PairDetail(pair, regions,
                      _view(a, [(i, length, n) for n, (i, _, length) in enumerate(runs, 1)]),
                      _view(b, [(j, length, n) for n, (_, j, length) in enumerate(runs, 1)]))


def compare(assignment: Assignment, paths: list[Path],
            options: SimilarityOptions = SimilarityOptions()) -> SimilarityReport:
    """Compare every submission under paths (as collect() expands them) with every other.

    A submission that is not a readable notebook is listed in report.skipped with the reason;
    the others are compared as usual. Raises collect.CollectError when paths hold no notebook.
    """
    submissions = collect(paths, assignment.limits)
    scaffold = scaffold_of(assignment, options.k)
    docs, skipped = [], []
    for submission in submissions:
        if submission.problem is not None:  # a link, over a limit, a name collision: unread
            skipped.append(Skipped(submission.stem, submission.source,
                                   f"{submission.stem}: {submission.problem}; left out of "
                                   f"the comparison"))
            continue
        try:
            docs.append(read_document(submission, assignment, scaffold, options))
        except UnreadableSubmission as exc:
            skipped.append(Skipped(submission.stem, str(submission.notebook), str(exc)))
    pairs, common = score_pairs(docs, options)
    by_name = {doc.name: doc for doc in docs}
    shown = pairs[:options.top]
    ignore = set(scaffold.hashes) | common
    details = tuple(pair_detail(p, by_name[p.a], by_name[p.b], ignore, options) for p in shown)
    return SimilarityReport(assignment.slug, options, tuple(d.name for d in docs),
                            tuple(skipped), {d.name: d.notes for d in docs if d.notes},
                            tuple(pairs), details, len(common))


# -- writing ------------------------------------------------------------------------------------
CSV_COLUMNS = ("submission_a", "submission_b", "score", "matched_tokens", "shared_fingerprints",
               "flagged")


def write_report(report: SimilarityReport, out_dir: Path) -> tuple[Path, Path]:
    """Write out_dir/similarity.html and out_dir/similarity.csv; return both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "similarity.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for p in report.pairs:
            writer.writerow([p.a, p.b, f"{p.score:.4f}", p.matched_tokens, p.shared,
                             "yes" if p.flagged else "no"])
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                             undefined=jinja2.StrictUndefined, autoescape=True)
    html = env.get_template("similarity.html.j2").render(report=report, options=report.options)
    html_path = out_dir / "similarity.html"
    html_path.write_text(html, encoding="utf-8")
    return html_path, csv_path
