"""Similarity report: renamed copies are flagged, independent solutions and scaffolding are not.

The submissions are perceptron notebooks built from the released student notebook with
hand-written code: a loop-based and a vectorized solution written independently, the
reference, a renamed copy of the loop-based one (functions reordered, comments and docstrings
changed, all in one cell of the Spanish notebook) and an untouched stub notebook.
"""

import csv

import nbformat
import numpy as np
import pytest

from neurograde import cli
from neurograde.examples import write_examples
from neurograde.similarity.fingerprint import ID, kgram_hashes, tokenize_cell, winnow
from neurograde.release import build_notebook, fill_notebook, solution_source
from neurograde.similarity.report import SimilarityOptions, compare, write_report

LOOP = {
    "q1": '''def predict(X, w, b):
    """Labels of a perceptron sign(X @ w + b), with sign(0) taken as +1.

    X: (m, d) points, one per row; w: (d,) weights; b: scalar bias.
    Returns an (m,) array of +1 / -1.
    """
    labels = []
    for row in X:
        total = b
        for xj, wj in zip(row, w):
            total += xj * wj   # dot product by hand
        labels.append(1 if total >= 0 else -1)
    return np.array(labels)
''',
    "q2": '''def accuracy(y_true, y_pred):
    """Fraction of positions where y_pred equals y_true, as a float in [0, 1].

    y_true, y_pred: (m,) arrays of labels.
    Raises ValueError when the lengths differ (or m == 0).
    """
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred must have the same length")
    if len(y_true) == 0:
        raise ValueError("cannot compute the accuracy of zero labels")
    hits = 0
    for a, b in zip(y_true, y_pred):
        if a == b:
            hits += 1
    return hits / len(y_true)
''',
    "q3": '''def better_model(X, y, models):
    """Name of the model with the highest accuracy on (X, y), or "tie" if the best are equal.

    X: (m, d); y: (m,) labels in {+1, -1}; models: dict name -> (w, b).
    """
    best_name, best_score, tied = None, -1.0, False
    for name in models:
        w, b = models[name]
        score = accuracy(y, predict(X, w, b))
        if score > best_score:
            best_name, best_score, tied = name, score, False
        elif score == best_score:
            tied = True
    return "tie" if tied else best_name
''',
    "q4": '''def train_perceptron(X, y, epochs, lr=1.0):
    """Rosenblatt's online perceptron rule.

    X: (m, d); y: (m,) labels in {+1, -1}; epochs: passes over the data; lr: learning rate.
    w (d,) and b start at 0; samples are visited in the given order; on a mistake,
    i.e. y_i * (w . x_i + b) <= 0, update w += lr * y_i * x_i and b += lr * y_i.
    Returns (w, b, mistakes) where mistakes[e] is the number of updates in epoch e.
    """
    n_features = len(X[0])
    w = np.zeros(n_features)
    b = 0.0
    history = []
    for epoch in range(epochs):
        errors = 0
        for i in range(len(X)):
            activation = np.dot(w, X[i]) + b
            if y[i] * activation <= 0:
                w = w + lr * y[i] * np.asarray(X[i], dtype=float)
                b += lr * y[i]
                errors += 1
        history.append(errors)
    return w, b, history
''',
}

VECTORIZED = {
    "q1": '''def predict(X, w, b):
    """Labels of a perceptron sign(X @ w + b), with sign(0) taken as +1.

    X: (m, d) points, one per row; w: (d,) weights; b: scalar bias.
    Returns an (m,) array of +1 / -1.
    """
    scores = np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b
    return np.where(scores >= 0, 1, -1)
''',
    "q2": '''def accuracy(y_true, y_pred):
    """Fraction of positions where y_pred equals y_true, as a float in [0, 1].

    y_true, y_pred: (m,) arrays of labels.
    Raises ValueError when the lengths differ (or m == 0).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"need label arrays of one non-zero length, got {y_true.shape} "
                         f"and {y_pred.shape}")
    return float((y_true == y_pred).mean())
''',
    "q3": '''def better_model(X, y, models):
    """Name of the model with the highest accuracy on (X, y), or "tie" if the best are equal.

    X: (m, d); y: (m,) labels in {+1, -1}; models: dict name -> (w, b).
    """
    names = list(models)
    scores = np.array([accuracy(y, predict(X, *models[n])) for n in names])
    best = np.flatnonzero(scores == scores.max())
    return names[best[0]] if best.size == 1 else "tie"
''',
    "q4": '''def train_perceptron(X, y, epochs, lr=1.0):
    """Rosenblatt's online perceptron rule.

    X: (m, d); y: (m,) labels in {+1, -1}; epochs: passes over the data; lr: learning rate.
    w (d,) and b start at 0; samples are visited in the given order; on a mistake,
    i.e. y_i * (w . x_i + b) <= 0, update w += lr * y_i * x_i and b += lr * y_i.
    Returns (w, b, mistakes) where mistakes[e] is the number of updates in epoch e.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w, b = np.zeros(X.shape[1]), 0.0
    mistakes = []
    for _ in range(epochs):
        updates = 0
        for xi, yi in zip(X, y):
            if yi * (w @ xi + b) <= 0:
                w += lr * yi * xi
                b += lr * yi
                updates += 1
        mistakes.append(updates)
    return w, b, mistakes
''',
}

# LOOP with every name a student may change renamed, the functions in reverse order in one
# cell, docstrings dropped or rewritten, comments changed and error messages reworded.
RENAMED_COPY = '''# my perceptron trainer
def train_perceptron(data, labels, n_epochs, lr=1.0):
    dim = len(data[0])
    weights = np.zeros(dim)
    bias = 0.0
    per_epoch = []
    for ep in range(n_epochs):
        wrong = 0
        for k in range(len(data)):
            act = np.dot(weights, data[k]) + bias   # net input
            if labels[k] * act <= 0:
                weights = weights + lr * labels[k] * np.asarray(data[k], dtype=float)
                bias += lr * labels[k]
                wrong += 1
        per_epoch.append(wrong)
    return weights, bias, per_epoch


def better_model(points, targets, candidates):
    """Pick the best of the candidate models."""
    top, top_acc, draw = None, -1.0, False
    for key in candidates:
        weights, bias = candidates[key]
        acc = accuracy(targets, predict(points, weights, bias))
        if acc > top_acc:
            top, top_acc, draw = key, acc, False
        elif acc == top_acc:
            draw = True
    return "tie" if draw else top


def accuracy(truth, guess):
    # compare element by element
    if len(truth) != len(guess):
        raise ValueError("lengths differ")
    if len(truth) == 0:
        raise ValueError("no labels")
    correct = 0
    for t, g in zip(truth, guess):
        if t == g:
            correct += 1
    return correct / len(truth)


def predict(points, weights, bias):
    out = []
    for p in points:
        s = bias
        for coord, wt in zip(p, weights):
            s += coord * wt
        out.append(1 if s >= 0 else -1)
    return np.array(out)
'''


def _namespace(sources: str) -> dict:
    namespace = {"np": np}
    exec(compile(sources, "<submission>", "exec"), namespace)
    return namespace


def _write(assignment, folder, name, lang, sources):
    path = folder / f"{name}.ipynb"
    nbformat.write(fill_notebook(build_notebook(assignment, lang), sources), str(path))
    return path


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory, perceptron):
    folder = tmp_path_factory.mktemp("submissions")
    reference = {q: solution_source(perceptron, q, perceptron.reference)
                 for q in perceptron.question_ids}
    _write(perceptron, folder, "loop", "en", LOOP)
    _write(perceptron, folder, "vectorized", "pt", VECTORIZED)
    _write(perceptron, folder, "reference", "en", reference)
    _write(perceptron, folder, "renamed", "es", {"q4": RENAMED_COPY})
    _write(perceptron, folder, "stub", "en", {})
    _write(perceptron, folder, "stub_es", "es", {})
    return folder


@pytest.fixture(scope="module")
def report(class_dir, perceptron):
    return compare(perceptron, [class_dir], SimilarityOptions(csv_min_score=0.0))


@pytest.mark.parametrize("sources", [LOOP, VECTORIZED, {"q4": RENAMED_COPY}],
                         ids=["loop", "vectorized", "renamed"])
def test_hand_written_solutions_are_correct(perceptron, sources):
    """Do the test's solutions agree with the reference (so they are 'independent correct')?"""
    ours = _namespace("\n\n".join(sources.values()))
    ref = vars(perceptron.reference)
    from neurograde.release import build_notebook
    setup_cell = next(c.source for c in build_notebook(perceptron, "en").cells
                      if c.metadata.get("neurograde", {}).get("role") == "setup")
    setup = _namespace(setup_cell)  # the stub's setup section is a template (variants)
    X, y, models = setup["X_test"], setup["y_test"], setup["models"]
    w, b = models["f2"]
    np.testing.assert_array_equal(ours["predict"](X, w, b), ref["predict"](X, w, b))
    assert ours["accuracy"](y, -y) == pytest.approx(0.0, abs=1e-12)
    assert ref["accuracy"](y, -y) == pytest.approx(0.0, abs=1e-12)
    assert ours["accuracy"](y, ref["predict"](X, w, b)) == \
        pytest.approx(ref["accuracy"](y, ref["predict"](X, w, b)), abs=1e-12)
    with pytest.raises(ValueError):
        ours["accuracy"](y, y[:3])
    assert ours["better_model"](X, y, models) == ref["better_model"](X, y, models)
    assert ours["better_model"](X, y, {"a": models["f1"], "b": models["f1"]}) == "tie"
    got, want = ours["train_perceptron"](X, y, 5, 0.5), ref["train_perceptron"](X, y, 5, 0.5)
    np.testing.assert_allclose(got[0], want[0])
    assert got[1] == pytest.approx(want[1]) and list(got[2]) == list(want[2])


def test_renamed_copy_is_flagged_and_ranked_first(report):
    """Is a renamed, reordered, re-commented copy the top pair, flagged, with a high score?"""
    top = report.pairs[0]
    assert {top.a, top.b} == {"loop.ipynb", "renamed.ipynb"}
    assert top.flagged
    assert top.score >= 0.8
    assert top.matched_tokens >= 200


def test_independent_solutions_are_not_flagged(report):
    """Do independent correct solutions (sharing only the scaffolding) stay unflagged and well
    below the copy?"""
    assert [(p.a, p.b) for p in report.flagged] == [("loop.ipynb", "renamed.ipynb")]
    copy_score = report.pair("loop.ipynb", "renamed.ipynb").score
    for a, b in [("loop.ipynb", "vectorized.ipynb"), ("loop.ipynb", "reference.ipynb"),
                 ("reference.ipynb", "vectorized.ipynb"), ("renamed.ipynb", "vectorized.ipynb")]:
        pair = report.pair(a, b)
        score = pair.score if pair else 0.0
        assert score < report.options.threshold - 0.2, (a, b, score)
        assert score < copy_score - 0.5


def test_untouched_stubs_have_no_similarity(report):
    """Does scaffolding alone (stub notebooks in two languages) give zero similarity?"""
    for other in report.submissions:
        for stub in ("stub.ipynb", "stub_es.ipynb"):
            if other != stub:
                assert report.pair(stub, other) is None, (stub, other)


def test_matching_regions_are_shown_side_by_side(report, tmp_path):
    """Does the HTML show the copied code of both sides, highlighted, escaped, best pair first?"""
    html_path, csv_path = write_report(report, tmp_path)
    html = html_path.read_text()
    first = report.details[0]
    assert {first.pair.a, first.pair.b} == {"loop.ipynb", "renamed.ipynb"}
    assert len(first.regions) >= 4    # one per function, reordered
    assert sum(r.tokens for r in first.regions) >= 200
    assert html.index('id="pair1"') < html.index('id="pair2"')
    assert '<mark class="r1" title="match 1">' in html
    assert "if labels[k] * act &lt;= 0:" in html         # student code is HTML-escaped
    assert "if y[i] * activation &lt;= 0:" in html
    rows = list(csv.DictReader(csv_path.open()))
    assert {rows[0]["submission_a"], rows[0]["submission_b"]} == \
        {"loop.ipynb", "renamed.ipynb"}
    assert rows[0]["flagged"] == "yes" and all(r["flagged"] == "no" for r in rows[1:])
    assert float(rows[0]["score"]) >= 0.8 and int(rows[0]["matched_tokens"]) >= 200


def test_broken_input_gives_a_message_per_submission(perceptron, tmp_path):
    """Are unreadable notebooks reported one by one, while the rest are still compared?"""
    folder = tmp_path / "subs"
    folder.mkdir()
    _write(perceptron, folder, "loop", "en", LOOP)
    _write(perceptron, folder, "renamed", "es", {"q4": RENAMED_COPY})
    (folder / "truncated.ipynb").write_text('{"cells": [{"cell_type": "code", "sour')
    (folder / "not_a_notebook.ipynb").write_text('{"hello": "world"}')
    bad_indent = dict(LOOP, q2=LOOP["q2"].replace("    hits = 0", "  hits = 0"))
    _write(perceptron, folder, "bad_indent", "en", bad_indent)
    write_examples(perceptron, folder / "examples")   # includes a SyntaxError cell
    report = compare(perceptron, [folder, folder / "examples"])
    messages = {s.submission: s.message for s in report.skipped}
    # examples/ seen from folder is a sub-folder holding three notebooks: not one submission.
    assert set(messages) == {"truncated.ipynb", "not_a_notebook.ipynb", "examples"}
    assert "truncated.ipynb is not a readable notebook" in messages["truncated.ipynb"]
    assert "NotJSONError" in messages["truncated.ipynb"]
    assert "perceptron-broken.ipynb" in report.submissions
    assert any("could not tokenize" in n and "cell" in n
               for n in report.notes["bad_indent.ipynb"])
    assert report.pair("bad_indent.ipynb", "loop.ipynb").flagged  # the rest of the cell counts
    assert report.pair("loop.ipynb", "renamed.ipynb").flagged


def test_cli_similarity(class_dir, tmp_path, capsys):
    """Does `neurograde similarity` write both files and name the flagged pair?"""
    out = tmp_path / "report"
    code = cli.main(["similarity", "--assignment", "perceptron", str(class_dir),
                     "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert (out / "similarity.html").exists() and (out / "similarity.csv").exists()
    assert "1 pair(s) flagged" in printed and "loop.ipynb <-> renamed.ipynb" in printed


def test_cli_unknown_assignment_lists_known(class_dir, tmp_path, capsys):
    """Does an unknown slug fail with a usage error that suggests and lists the known ones?"""
    code = cli.main(["similarity", "--assignment", "perceptorn", str(class_dir),
                     "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == cli.USAGE_ERROR
    assert "Did you mean 'perceptron'" in err and "Known:" in err and "glorot" in err


def test_normalization_ignores_names_comments_and_docstrings():
    """Do renaming, comments, docstrings and literal values leave the normalized tokens alone,
    while attribute names and builtins are kept?"""
    a = tokenize_cell('def f(x, n=3):\n    """Doc."""\n    return np.sum(x) * len(x) + n  # c\n')
    b = tokenize_cell("def g(values, k=7):\n    # other comment\n"
                      "    return np.sum(values) * len(values) + k\n")
    texts = [[t.text for t in line] for line in a.lines]
    assert texts == [[t.text for t in line] for line in b.lines]
    assert texts[1][:4] == ["return", ID, ".", "sum"] and "len" in texts[1]
    magic = tokenize_cell("%matplotlib inline\n!pip install numpy\nx = 1\n")
    assert [[t.text for t in line] for line in magic.lines] == [[ID, "=", "$num"]]


def test_winnowing_guarantee():
    """Does a shared run of k + w - 1 tokens always give a shared fingerprint, and a run
    shorter than k never?"""
    k, w = 5, 4
    rng = np.random.default_rng(0)
    shared = [f"s{i}" for i in range(k + w - 1)]
    for _ in range(20):
        left = [f"a{x}" for x in rng.integers(0, 1000, 30)]
        right = [f"b{x}" for x in rng.integers(0, 1000, 30)]
        one = {h for h, _ in winnow(kgram_hashes(left[:10] + shared + left[10:], k), w)}
        two = {h for h, _ in winnow(kgram_hashes(right[:20] + shared + right[20:], k), w)}
        assert one & two
    short = shared[:k - 1]
    one = {h for h, _ in winnow(kgram_hashes(["a"] * 3 + short + ["b"] * 3, k), w)}
    two = {h for h, _ in winnow(kgram_hashes(["c"] * 3 + short + ["d"] * 3, k), w)}
    assert not one & two
