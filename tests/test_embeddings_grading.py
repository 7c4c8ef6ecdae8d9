"""Grading the embeddings assignment on the real GloVe vectors: known mistakes are named in the
feedback, a wrongly shaped return value gets a message that says what was expected, the checks'
inputs keep every known mistake detectable, a correct implementation that computes in
float64 (the reference uses GloVe's float32) still gets full marks, and a wrong earlier
function called by later questions costs its own question's points only."""

import copy
import importlib.util
import inspect
import re
import textwrap
from collections import ChainMap
from pathlib import Path

import numpy as np
import pytest

from assignment_grading import question
from neurograde import checklib
from neurograde.batch import BatchOptions, grade_batch
from neurograde.judge import expectations
from neurograde.probe import default_seed, make_plan
from neurograde.release import build_notebook, fill_notebook, solution_source
from neurograde.spec import load_assignment

import nbformat

A = load_assignment("embeddings")
MISTAKES = {m.id: m for m in A.mistakes}


def _notebook(sources: dict, path):
    """The student notebook with every question's stub replaced: sources[qid] if given, else
    the reference code."""
    filled = {q: sources.get(q) or solution_source(A, q, A.reference) for q in A.question_ids}
    nbformat.write(fill_notebook(build_notebook(A, "en"), filled), str(path))
    return path


def _with_variant(mistake):
    q = A.question_of(mistake.function)
    return {q.id: solution_source(A, q.id, A.reference, {mistake.function: mistake.variant})}


def _ranked_analogy_wrapped(body: str) -> str:
    """A q3 cell whose analogy post-processes the reference's (word, score) list with body."""
    ranked = re.sub(r"^def analogy\b", "def _ranked", inspect.getsource(A.reference.analogy),
                    count=1, flags=re.M)
    return ranked + "\n\ndef analogy(E, vocab, a, b, c, k=1):\n" + textwrap.indent(body, "    ")


def _alternatives():
    path = Path(__file__).parent / "alternatives" / "embeddings.py"
    spec = importlib.util.spec_from_file_location("alternatives_embeddings", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Later questions built on earlier ones (most_similar on cosine_similarity, analogy on
# most_similar, analogy_accuracy on analogy), with one earlier function wrong: the known
# mistake's variant pasted into its cell.
CALLS_EARLIER = _alternatives().SOLUTIONS["calls-earlier-functions"]
UPSTREAM = {"cosine-dot": ("q1", ("q2", "q3", "q4")),
            "analogy-sign": ("q3", ("q4",))}


def _upstream_sources(mistake_id):
    mistake = MISTAKES[mistake_id]
    qid = A.question_of(mistake.function).id
    return {**CALLS_EARLIER,
            qid: solution_source(A, qid, A.reference, {mistake.function: mistake.variant})}


WRONG_STRUCTURES = {
    # only the words, no scores
    "words-only": "return [w for w, _ in _ranked(E, vocab, a, b, c, k)]\n",
    # one (word, score) pair instead of a list of them
    "single-pair": "return _ranked(E, vocab, a, b, c, k)[0]\n",
    # (score, word) instead of (word, score)
    "score-first": "return [(s, w) for w, s in _ranked(E, vocab, a, b, c, k)]\n",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, box):
    """Every mistake variant and every wrong structure, graded once through the real sandbox."""
    folder = tmp_path_factory.mktemp("embeddings-subs")
    paths = [_notebook(_with_variant(m), folder / f"mistake-{m.id}.ipynb")
             for m in MISTAKES.values()]
    paths += [_notebook({"q3": _ranked_analogy_wrapped(body)}, folder / f"structure-{name}.ipynb")
              for name, body in WRONG_STRUCTURES.items()]
    paths += [_notebook(_upstream_sources(m), folder / f"upstream-{m}.ipynb") for m in UPSTREAM]
    summary = grade_batch(A, paths, tmp_path_factory.mktemp("embeddings-out"),
                          BatchOptions(jobs=2, timeout=300, quiet=True))
    # keyed by name: a notebook file's key is its file name (collect.py)
    return {r.submission.removesuffix(".ipynb"): r for r in summary.results}


@pytest.mark.parametrize("mistake_id", sorted(MISTAKES))
def test_mistake_variant_is_named_in_feedback(graded, mistake_id):
    """A notebook that is the reference except for one known wrong variant loses points only
    in that variant's question, and some failed check there names the mistake (id and the
    English message) in its feedback."""
    mistake = MISTAKES[mistake_id]
    result = graded[f"mistake-{mistake_id}"]
    qid = A.question_of(mistake.function).id
    assert result.status == "ok", result.message
    for q in result.questions:
        if q.id == qid:
            assert q.score < q.possible
        else:
            assert q.score == pytest.approx(q.possible, abs=1e-9), q.feedback
    named = [c for c in result.checks if c.mistake == mistake_id]
    assert named, [c.feedback for c in result.checks if c.status != "passed"]
    assert all(c.question == qid and c.status == "failed" for c in named)
    assert any(f"likely mistake: {mistake.text('en')}" in f for c in named for f in c.feedback)


@pytest.mark.parametrize("mistake_id", sorted(UPSTREAM))
def test_a_wrong_earlier_function_costs_its_own_question_only(graded, mistake_id):
    """Later questions whose functions call an earlier, wrong one (as the text invites: the
    cosine of question 1 in most_similar, analogy in analogy_accuracy) keep full marks: their
    probes give the earlier function's right values (Names.standing_in). Only the earlier
    question loses points, and its mistake is the one named."""
    result = graded[f"upstream-{mistake_id}"]
    wrong, later = UPSTREAM[mistake_id]
    assert result.status == "ok", result.message
    scores = {q.id: (q.score, q.possible) for q in result.questions}
    assert scores[wrong][0] < scores[wrong][1]
    for qid in later:
        assert scores[qid][0] == pytest.approx(scores[qid][1]), \
            (qid, question(result, qid).feedback)
    assert {c.mistake for c in result.checks if c.mistake} == {mistake_id}


@pytest.mark.parametrize("name", sorted(WRONG_STRUCTURES))
def test_analogy_with_the_wrong_structure_gets_a_clear_message(graded, name):
    """An analogy that returns something other than a list of (word, score) pairs scores 0 on
    q3 without disturbing the other questions, and every public q3 check says which call
    returned what, and that a list of (word, score) pairs, best first, was expected (hidden
    checks only say that the kind of value was wrong)."""
    result = graded[f"structure-{name}"]
    assert result.status == "ok", result.message
    scores = {q.id: (q.score, q.possible) for q in result.questions}
    assert scores["q3"][0] == 0
    assert all(s == p for qid, (s, p) in scores.items() if qid != "q3")
    expected_detail = {"words-only": "item 0 is a str",
                       "single-pair": "item 0 is a str",
                       "score-first": "item 0 starts with a float"}[name]
    for check in (c for c in result.checks if c.question == "q3"):
        text = " ".join(check.feedback)
        assert check.status == "error"
        if check.hidden:        # the judge keeps hidden checks' details to itself
            assert "returned the wrong kind of value (the public checks show what is expected)" \
                in text, text
            continue
        assert re.search(r"analogy\(E, vocab, '\w+', '\w+', '\w+', k=\d\) should return a "
                         r"list of \(word, score\) pairs, best first", text), text
        assert expected_detail in text, text


@pytest.mark.parametrize("seed", ["assignment", "other"])
def test_every_mistake_differs_from_the_reference_on_some_check(seed):
    """With the assignment's seed (the release's and the grader's) and another one, each
    known mistake runs on the inputs of at least one check of its question and gives an
    output outside the tolerance, so the judge can name it; each one is also caught by a
    public check, whose failure the student sees before submitting."""
    plan = make_plan(A, default_seed(A) if seed == "assignment" else 1)
    exp = expectations(plan)
    found = {m.id for variants in exp.variants.values() for m, _ in variants}
    assert found == set(MISTAKES)
    public = {m.id for p in plan.checks if not p.check.hidden for m, _ in exp.variants[p.id]}
    assert public == set(MISTAKES)


def test_points_and_toy_table_match_the_sources():
    """Check points add up to each question's points, there are public and hidden checks in
    every question, and the toy table the checks use is the notebook's setup-cell table."""
    checks = A.checks
    for q in A.questions:
        mine = [c for c in checks if c.question == q.id]
        assert sum(c.points for c in mine) == pytest.approx(q.points)
        assert any(c.hidden for c in mine) and any(not c.hidden for c in mine)
    namespace = {}
    setup = next(c.source for c in build_notebook(A, "en").cells
                 if c.metadata.get("neurograde", {}).get("role") == "setup")
    exec(compile(setup, "stubs.py:setup", "exec"), namespace)
    toy = next(c for c in checks if c.name.startswith("toy table: man:king")).inputs(None)
    assert toy["vocab"] == namespace["TOY_VOCAB"]
    np.testing.assert_array_equal(toy["E"], namespace["TOY_E"])


# --------------------------------------------------------------------- float64 implementation

def _one_hot(words, vocab):
    words = [words] if isinstance(words, str) else words
    position = {}
    for i, w in enumerate(vocab):
        position.setdefault(w, i)
    X = np.zeros((len(words), len(vocab)))
    for r, w in enumerate(words):
        if w not in position:
            raise KeyError(f"unknown word {w}")
        X[r, position[w]] = 1.0
    return X


def _cosine(a, b):
    A2, B2 = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
    na, nb = np.linalg.norm(A2, axis=1), np.linalg.norm(B2, axis=1)
    S = (A2 @ B2.T) / np.outer(np.where(na > 0, na, 1.0), np.where(nb > 0, nb, 1.0))
    return float(S[0, 0]) if np.ndim(a) == 1 and np.ndim(b) == 1 else S


def _rank(E, vocab, q, skip, k):
    E = np.asarray(E, np.float64)
    norms = np.linalg.norm(E, axis=1)
    scores = (E @ q) / np.where(norms > 0, norms, 1.0) / (np.linalg.norm(q) or 1.0)
    scores[list(skip)] = -np.inf
    order = [i for i in np.argsort(-scores, kind="stable") if scores[i] > -np.inf][:k]
    return [(vocab[i], float(scores[i])) for i in order]


def _most_similar(E, vocab, query, k=5, exclude=()):
    position = {w: i for i, w in reversed(list(enumerate(vocab)))}
    skip = {position[w] for w in exclude}
    if isinstance(query, str):
        skip.add(position[query])
        query = np.asarray(E[position[query]])
    return _rank(E, vocab, np.asarray(query, np.float64), skip, k)


def _analogy(E, vocab, a, b, c, k=1):
    position = {w: i for i, w in reversed(list(enumerate(vocab)))}
    ids = [position[w] for w in (a, b, c)]
    U = np.asarray(E, np.float64)[ids]
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    return _rank(E, vocab, U[1] - U[0] + U[2], set(ids), k)


def _analogy_accuracy(E, vocab, questions, restrict_vocab=30000):
    if not isinstance(questions, list):
        with open(questions) as fh:
            questions = [line.split() for line in fh if not line.startswith(":")]
    R = len(vocab) if restrict_vocab is None else min(restrict_vocab, len(vocab))
    position = {}
    for i, w in enumerate(vocab[:R]):
        position.setdefault(w.lower(), i)
    U = np.asarray(E[:R], np.float64)
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    U /= np.where(norms > 0, norms, 1.0)          # a zero vector has cosine 0 with anything
    right = answered = 0
    for q in questions:          # one question at a time: slow but obviously right
        ids = [position.get(w.lower()) for w in q]
        if None in ids:
            continue
        s = U @ (U[ids[1]] - U[ids[0]] + U[ids[2]])
        s[ids[:3]] = -np.inf
        right += int(np.argmax(s)) == ids[3]
        answered += 1
    return (right / answered if answered else 0.0), answered


FLOAT64 = {"one_hot": _one_hot, "cosine_similarity": _cosine, "most_similar": _most_similar,
           "analogy": _analogy, "analogy_accuracy": _analogy_accuracy}


@pytest.mark.parametrize("seed", [None, 1, 2])
def test_a_float64_implementation_passes_every_check(seed):
    """An independent, loop-based implementation computing in float64 passes every check under
    the checks' tolerances, for several grading seeds: the hidden inputs avoid near ties, so the
    word lists and accuracies do not depend on float32 rounding."""
    plan = make_plan(A, seed)
    reference = vars(A.reference)
    for planned in plan.checks:
        probe = getattr(A.probes, planned.check.probe)
        expected = checklib.normalize(probe(checklib.Names(reference),
                                            **copy.deepcopy(planned.inputs)))
        got = checklib.normalize(probe(checklib.Names(ChainMap(FLOAT64, reference)),
                                       **copy.deepcopy(planned.inputs)))
        if planned.check.judge:
            judge = getattr(A.judges, planned.check.judge)
            fraction, problems = judge(planned.inputs, got, expected)
            assert fraction == 1.0, f"{planned.id} {planned.check.name}: {problems}"
            continue
        problems = checklib.compare(got, expected, planned.check.tol)
        assert not problems, f"{planned.id} {planned.check.name}: {problems}"
