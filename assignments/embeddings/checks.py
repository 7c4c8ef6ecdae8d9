"""Embeddings checks: inputs and tolerances (trusted side). Points add up per question.

Public checks use the notebook's toy table and the variant's GloVe examples (see variant());
hidden checks draw words, tables and analogy questions from rng. GloVe checks send `limit`
(how many of the most frequent words the probe loads), never the vectors.

Word lists are compared exactly, so hidden inputs are redrawn until every ranking they ask for
is clear: consecutive scores among the top k + 1 differ by more than MARGIN (cosine), far above
float32 rounding (~1e-6), so a float32 and a float64 implementation agree on the words.

Questions 2 to 4 are graded on their own: a most_similar or an analogy that calls the
notebook's cosine_similarity gets, during the probe, a stand-in for it (probes.py,
Names.standing_in) that answers from values computed here (_given: the cosines of the rows that
can reach the answer), so a wrong cosine_similarity costs question 1's points only. The
stand-in knows the check's table and query vectors; any other call (row by row, another table)
goes to the submission's own function. An analogy_accuracy that asks the notebook's analogy
question by question gets a stand-in for analogy too, answering from the given answers of the
check's questions (_answers). Batched products of many questions at once, and a most_similar
or analogy that calls cosine_similarity row by row, use the submission's own functions.

Input validation (Check.validation) is one check, the KeyError of one_hot for an unknown word:
0.2 of q1's 2 points, 2% of the assignment (at most 10%, issue 12); the rest is mathematics.
"""

from functools import lru_cache

import numpy as np

from neurograde.checklib import EXACT, Tol
from neurograde.data.glove import load_analogy_questions, load_glove
from neurograde.spec import Check

# The setup cell's toy table (tests/test_embeddings_grading.py checks they stay equal).
TOY_VOCAB = ["man", "woman", "boy", "girl", "prince", "princess", "queen", "king", "monarch"]
TOY_E = np.array([[-1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [-1.0, -1.0, 0.0], [1.0, -1.0, 0.0],
                  [-1.0, -0.5, 1.0], [1.0, -0.5, 1.0], [1.0, 1.0, 1.0], [-1.0, 1.0, 1.0],
                  [0.0, 1.0, 1.0]])
TOY = dict(E=TOY_E, vocab=TOY_VOCAB)
# Hand-made questions: 6 of 8 right with the whole table; "monarch" is the 9th word, so
# restrict_vocab=8 skips the two questions that use it (5 of 6); mixed case tests case folding.
TOY_QUESTIONS = [["man", "king", "woman", "queen"], ["boy", "prince", "girl", "princess"],
                 ["king", "queen", "man", "woman"], ["MAN", "KING", "WOMAN", "QUEEN"],
                 ["Woman", "Girl", "Man", "Boy"], ["man", "woman", "king", "monarch"],
                 ["king", "monarch", "queen", "woman"], ["girl", "princess", "boy", "king"]]

SCORE = Tol(atol=1e-5)             # cosines: float32 GloVe arithmetic is good to ~1e-6
RANKED = {"words": EXACT, "scores": SCORE}
ACCURACY = {"accuracy": Tol(atol=1e-9), "n_answered": EXACT}
MARGIN = 1e-4
LIMIT = 50_000                     # GloVe words loaded by the hidden q2/q3 checks
FREQUENT = (200, 20_000)           # ranks of query words: common, but past the stop words


# ---------------------------------------------------------------------------- data

@lru_cache(maxsize=1)
def _glove():
    return load_glove()


@lru_cache(maxsize=1)
def _unit():
    """Unit rows (float64) of the first 60,000 GloVe words: enough for every hidden check."""
    E = np.asarray(_glove()[0][:60_000], dtype=np.float64)
    return E / np.linalg.norm(E, axis=1, keepdims=True)


@lru_cache(maxsize=1)
def _frequent():
    vocab = _glove()[1]
    return np.array([i for i in range(*FREQUENT) if vocab[i].isalpha() and vocab[i].isascii()])


@lru_cache(maxsize=1)
def _questions():
    """(section, a, b, c, expected) of questions-words.txt, in file order."""
    return load_analogy_questions()


def _clear(scores, k):
    """Are consecutive scores among the top k + 1 (excluded words at -inf) MARGIN apart?"""
    top = np.sort(scores[np.isfinite(scores)])[::-1][:k + 1]
    return bool(np.all(-np.diff(top) > MARGIN))


@lru_cache(maxsize=1)
def _index():
    """GloVe word -> row (the first occurrence)."""
    return {w: i for i, w in reversed(list(enumerate(_glove()[1])))}


def _row_cosines(q, E=None, limit=None):
    """Cosines (float64) of the vector q with every row of a check's table: E, or GloVe's first
    `limit` words (None: all). A small table's are computed as the reference computes them, so
    that equal cosines (the toy table's ties) stay exactly equal."""
    q = np.asarray(q, dtype=np.float64)
    qn = np.linalg.norm(q)
    if E is not None:
        E = np.asarray(E, dtype=np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", E, E))
        norms[norms == 0] = 1.0
        return (E @ q) / norms / (qn if qn > 0 else 1.0)
    if limit is not None and limit <= len(_unit()):
        return _unit()[:limit] @ (q / qn)
    return _scores_all(q, [])[:limit]


STAND_IN_ALL_ROWS = 64      # a table this small gives the stand-in every row's cosine


def _given(q, skip, k, E=None, limit=None):
    """What cosine_similarity stands in with while most_similar or analogy looks for the k
    words nearest to q, skipping the rows skip: q and its unit vector (to recognize the query
    the submission passes), and the cosines of every row of a small table, or of the rows that
    can reach the answer in a large one (the best k + len(skip) + 2, and the skipped rows)."""
    cos = _row_cosines(q, E, limit)
    if len(cos) <= STAND_IN_ALL_ROWS:
        rows = np.arange(len(cos))
    else:
        rows = np.union1d(np.argsort(-cos, kind="stable")[:k + len(skip) + 2], list(skip))
    q = np.asarray(q, dtype=np.float64)
    qn = np.linalg.norm(q)
    return {"queries": np.stack([q, q / (qn if qn > 0 else 1.0)]),   # a zero q stays zero
            "rows": rows.astype(np.int64), "cos": cos[rows]}


def _given_neighbours(calls, E=None, vocab=None, limit=None):
    """_given for each most_similar call [{"query", "k", "exclude"}] of a check."""
    index = _index() if E is None else {w: i for i, w in reversed(list(enumerate(vocab)))}
    table = _glove()[0] if E is None else np.asarray(E)
    given = []
    for c in calls:
        skip = [index[w] for w in c["exclude"]]
        if isinstance(c["query"], str):
            skip.append(index[c["query"]])
            q = table[index[c["query"]]]
        else:
            q = c["query"]
        given.append(_given(q, skip, 5 if c["k"] is None else int(c["k"]), E, limit))
    return given


def _given_analogies(questions, k, E=None, vocab=None, limit=None):
    """_given for each analogy question [a, b, c] of a check (k: one for all, or one per
    question; None: the default, 1): the query b - a + c of unit vectors, the three words
    skipped."""
    index = _index() if E is None else {w: i for i, w in reversed(list(enumerate(vocab)))}
    table = _glove()[0] if E is None else np.asarray(E)
    ks = k if isinstance(k, list) else [k] * len(questions)
    given = []
    for words, k in zip(questions, ks):
        ids = [index[w] for w in words]
        rows = np.asarray(table[ids], dtype=np.float64)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        U = rows / np.where(norms > 0, norms, 1.0)
        given.append(_given(U[1] - U[0] + U[2], ids, 1 if k is None else int(k), E, limit))
    return given


def _neighbours(**inputs):
    """A most_similar check's inputs with the stand-in's values (see _given)."""
    return dict(inputs, given=_given_neighbours(inputs["calls"], inputs.get("E"),
                                                inputs.get("vocab"), inputs.get("limit")))


def _analogies(**inputs):
    """An analogy check's inputs with the stand-in's values (see _given)."""
    return dict(inputs, given=_given_analogies(inputs["questions"], inputs["k"], inputs.get("E"),
                                               inputs.get("vocab"), inputs.get("limit")))


def _analogy_scores(U, a, b, c):
    q = U[b] - U[a] + U[c]
    s = U @ (q / np.linalg.norm(q))
    s[[a, b, c]] = -np.inf
    return s


# ---------------------------------------------------------------------------- variants

# The course's exercise is the canonical variant; per-student variants redraw the GloVe word whose
# neighbours question 2 asks for (from QUERY_WORDS) and the two GloVe analogies of the text and
# question 3 (questions of questions-words.txt that GloVe answers right with a clear margin:
# one of the family section, one of the capitals), see variant(). Each analogy is
# [a, b, c, answer, cosine of the answer]; the notebook text and setup cell print them.
CANONICAL = {"query": "frog", "neighbours": None,
             "analogies": [["man", "king", "woman", "queen", 0.852],
                           ["france", "paris", "germany", "berlin", 0.920]],
             "seed": True}

QUERY_WORDS = ("frog", "rabbit", "eagle", "whale", "spider", "wolf", "horse", "snake", "owl",
               "deer", "shark", "turtle", "tiger", "monkey", "sheep", "camel", "violin",
               "guitar", "piano", "trumpet", "apple", "banana", "potato", "tomato", "cheese",
               "bread", "coffee", "bicycle", "truck", "hammer", "knife", "shirt", "jacket",
               "river", "mountain", "island", "doctor", "teacher", "nurse", "soldier",
               "chemistry", "physics", "football", "tennis", "rain", "snow", "castle",
               "church", "bottle", "engine")
ANALOGY_SECTIONS = (("family",), ("capital-common-countries", "capital-world"))


@lru_cache(maxsize=1)
def _norms_all():
    E = _glove()[0]
    return np.sqrt(np.einsum("ij,ij->i", E, E, dtype=np.float64))


def _scores_all(q, skip):
    """Cosines of q with all 400,000 GloVe words (float32 products), skip at -inf."""
    s = (_glove()[0] @ np.asarray(q, dtype=np.float32)).astype(np.float64)
    s /= np.where(_norms_all() > 0, _norms_all(), 1.0) * np.linalg.norm(q)
    s[list(skip)] = -np.inf
    return s


def _cosine64(i, q):
    return float(np.asarray(_glove()[0][i], dtype=np.float64) @ q
                 / (_norms_all()[i] * np.linalg.norm(q)))


def _unit64(i):
    return np.asarray(_glove()[0][i], dtype=np.float64) / _norms_all()[i]


def variant(rng):
    """A query word whose five nearest GloVe neighbours are clearly ranked, and two analogy
    questions (family, capitals) that 3CosAdd on the whole GloVe vocabulary answers right, the
    answer MARGIN ahead of the runner-up."""
    vocab = _glove()[1]
    index = {w: i for i, w in reversed(list(enumerate(vocab)))}
    while True:
        query = str(QUERY_WORDS[int(rng.integers(len(QUERY_WORDS)))])
        i = index[query]
        s = _scores_all(_unit64(i), [i])
        if _clear(s, 5):
            neighbours = [vocab[j] for j in np.argsort(-s, kind="stable")[:5]]
            break
    analogies = []
    for sections in ANALOGY_SECTIONS:
        pool = [q for q in _questions() if q[0] in sections
                and all(w.lower() in index for w in q[1:])]
        while True:
            a, b, c, d = (w.lower() for w in pool[int(rng.integers(len(pool)))][1:])
            ids = [index[w] for w in (a, b, c)]
            q = _unit64(ids[1]) - _unit64(ids[0]) + _unit64(ids[2])
            s = _scores_all(q, ids)
            best = int(np.argmax(s))
            if vocab[best] == d and _clear(s, 1):
                analogies.append([a, b, c, d, round(_cosine64(best, q), 3)])
                break
    return {"query": query, "neighbours": neighbours, "analogies": analogies, "seed": False}


# ---------------------------------------------------------------------------- q1

def _random_one_hot(rng):
    vocab = [_glove()[1][i] for i in rng.choice(_frequent(), size=int(rng.integers(15, 40)),
                                                 replace=False)]
    words = [vocab[i] for i in rng.integers(0, len(vocab), size=int(rng.integers(4, 9)))]
    return dict(words=words, vocab=vocab)


def _random_single_word(rng):
    vocab = [_glove()[1][i] for i in rng.choice(_frequent(), size=int(rng.integers(15, 40)),
                                                 replace=False)]
    return dict(word=vocab[int(rng.integers(len(vocab)))], vocab=vocab)


def _random_matrices(rng):
    d = int(rng.integers(3, 60))
    n, k = rng.choice(np.arange(2, 12), size=2, replace=False)
    return dict(matrices=[[rng.normal(size=(int(n), d)), rng.normal(size=(int(k), d))]])


def _random_one_row(rng):
    d = int(rng.integers(3, 60))
    return dict(A=rng.normal(size=(int(rng.integers(2, 8)), d)),
                B=3 * rng.normal(size=(int(rng.integers(2, 8)), d)))


def _random_zero_rows(rng):
    d = int(rng.integers(3, 20))
    A, B = rng.normal(size=(6, d)), rng.normal(size=(5, d))
    A[rng.choice(6, size=2, replace=False)] = 0.0
    B[int(rng.integers(5))] = 0.0
    return dict(pairs=[[A[i], B[j]] for i in range(6) for j in range(5)][::4], matrices=[[A, B]])


# ---------------------------------------------------------------------------- q2

def _random_word_queries(rng):
    vocab, U = _glove()[1], _unit()[:LIMIT]
    calls = []
    while len(calls) < 3:
        i, k = int(rng.choice(_frequent())), int(rng.integers(3, 9))
        s = U @ U[i]
        s[i] = -np.inf
        if _clear(s, k):
            calls.append({"query": vocab[i], "k": k, "exclude": []})
    return _neighbours(limit=LIMIT, calls=calls)


def _random_vector_queries(rng):
    (E, vocab), U = _glove(), _unit()[:LIMIT]
    calls = []
    while not calls:                       # a sum of two word vectors, both excluded
        i, j = (int(x) for x in rng.choice(_frequent(), size=2, replace=False))
        q = np.asarray(E[i] + E[j], dtype=np.float32)
        s = U @ (q / np.linalg.norm(q))
        s[[i, j]] = -np.inf
        if _clear(s, 5):
            calls.append({"query": q, "k": 5, "exclude": [vocab[i], vocab[j]]})
    while len(calls) < 2:                  # a word query without its nearest neighbour
        i = int(rng.choice(_frequent()))
        s = U @ U[i]
        s[i] = -np.inf
        nearest = int(np.argmax(s))
        s[nearest] = -np.inf
        if _clear(s, 4):
            calls.append({"query": vocab[i], "k": 4, "exclude": [vocab[nearest]]})
    return _neighbours(limit=LIMIT, calls=calls)


def _random_small_neighbours(rng):
    """A small table whose last word has the zero vector (cosine 0 with anything): word
    queries with k = 0, 1, the default (5) and beyond the words left (every word ranked, the
    zero one at 0), a query vector shorter than 1, and the zero query vector with every word
    but a random one excluded (that word, with cosine 0)."""
    E, vocab = _small_table(rng, zero=True)
    n, d = E.shape
    U = _unit_rows(E)
    calls = []
    for k in (None, n + 3, 1, 0):
        while True:
            i = int(rng.integers(n - 1))
            s = U @ U[i]
            s[i] = -np.inf
            if _clear(s, 5 if k is None else min(k, n - 1)):
                calls.append({"query": vocab[i], "k": k, "exclude": []})
                break
    while True:
        q = rng.normal(size=d)
        q *= 0.5 / np.linalg.norm(q)
        if _clear(U @ (2 * q), 3):
            calls.append({"query": q, "k": 3, "exclude": []})
            break
    kept = int(rng.integers(n))
    calls.append({"query": np.zeros(d), "k": [None, 1, 3][int(rng.integers(3))],
                  "exclude": [w for i, w in enumerate(vocab) if i != kept]})
    return _neighbours(E=E, vocab=vocab, calls=calls)


# ---------------------------------------------------------------------------- q3

def _random_file_analogies(rng):
    U = _unit()[:LIMIT]
    index = {w: i for i, w in reversed(list(enumerate(_glove()[1][:LIMIT])))}
    known = [q for q in _questions() if all(w.lower() in index for w in q[1:])]
    picked = []
    while len(picked) < 3:
        q = known[int(rng.integers(len(known)))]
        a, b, c = (w.lower() for w in q[1:4])
        if [a, b, c] not in picked and _clear(_analogy_scores(U, index[a], index[b],
                                                              index[c]), 3):
            picked.append([a, b, c])
    return _analogies(limit=LIMIT, questions=picked, k=3)


def _small_table(rng, n=12, d=4, zero=False):
    """n GloVe words with made-up vectors of d entries of one decimal, none shorter than 0.3,
    or the last one zero (zero=True)."""
    vocab = [_glove()[1][i] for i in rng.choice(_frequent(), size=n, replace=False)]
    while True:
        E = np.round(rng.normal(size=(n, d)), 1)
        if np.all(np.linalg.norm(E, axis=1) > 0.3):
            break
    if zero:
        E[-1] = 0.0
    return E, vocab


def _unit_rows(E):
    """E's rows scaled to length 1; a zero row stays zero."""
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    return E / np.where(norms > 0, norms, 1.0)


def _random_small_table(rng, questions=2, k=3, zero=False):
    """Analogy questions on a small table (k: one for all, or one per question; None: the
    default, 1); the words of a question never the zero one."""
    E, vocab = _small_table(rng, zero=zero)
    U = _unit_rows(E)
    ks = k if isinstance(k, list) else [k] * questions
    picked = []
    while len(picked) < questions:
        a, b, c = (int(x) for x in rng.choice(len(vocab) - zero, size=3, replace=False))
        asked = 1 if ks[len(picked)] is None else ks[len(picked)]
        if _clear(_analogy_scores(U, a, b, c), max(1, min(asked, len(vocab) - 3))):
            picked.append([vocab[a], vocab[b], vocab[c]])
    return _analogies(E=E, vocab=vocab, questions=picked, k=k)


def _random_small_table_every_word(rng):
    """A table with a zero vector; one question asked with k beyond the words left (every
    word but a, b and c ranked, the zero one at 0), with k = 0 and with the default k."""
    E, vocab = _small_table(rng, zero=True)
    U = _unit_rows(E)
    while True:
        a, b, c = (int(x) for x in rng.choice(len(vocab) - 1, size=3, replace=False))
        if _clear(_analogy_scores(U, a, b, c), len(vocab) - 3):
            return _analogies(E=E, vocab=vocab, questions=[[vocab[a], vocab[b], vocab[c]]] * 3,
                              k=[len(vocab), 0, None])


def _random_four_words(rng):
    """A table of 4 words, so that each question leaves one candidate (no ties to order): a,
    b and c along (1, 1, 1, 1) / 2, (1, 0, 0, 0) and (-1, 1, 1, 1) / 2, their coordinates
    permuted and scaled by powers of 2 (all exact in binary), so that unit(b) - unit(a) +
    unit(c) is exactly zero (the fourth word's cosine with it is 0); two other questions on
    the same table whose query is not zero; in random order, with k = 1, the default and 3."""
    E, vocab = _small_table(rng, n=4, d=4)
    axes = rng.permutation(4)
    for row, v in enumerate(([0.5, 0.5, 0.5, 0.5], [1.0, 0.0, 0.0, 0.0],
                             [-0.5, 0.5, 0.5, 0.5])):
        E[row] = np.asarray(v)[axes] * 2.0 ** int(rng.integers(-2, 3))
    a, b, c, other = vocab
    questions = [[a, b, c], [other, a, b], [c, other, a]]
    order = rng.permutation(3)
    return _analogies(E=E, vocab=vocab, questions=[questions[i] for i in order],
                      k=[1, None, 3])


# ---------------------------------------------------------------------------- q4

def _answerable_and_clear(rows, restrict):
    """Keep the questions that are skipped (a word outside the first `restrict` words) or whose
    best candidate is MARGIN ahead of the second: both are decided the same in any precision."""
    vocab, U = _glove()[1], _unit()[:restrict]
    index = {w.upper(): i for i, w in reversed(list(enumerate(vocab[:restrict])))}
    ids = [[index.get(w.upper()) for w in row[1:]] for row in rows]
    answerable = [i for i, q in enumerate(ids) if None not in q]
    Q = np.array([ids[i] for i in answerable], dtype=np.intp).reshape(-1, 4)
    queries = U[Q[:, 1]] - U[Q[:, 0]] + U[Q[:, 2]]
    S = (queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ U.T
    S[np.arange(len(Q))[:, None], Q[:, :3]] = -np.inf
    top2 = -np.partition(-S, 1, axis=1)[:, :2]
    unclear = {answerable[j] for j in np.flatnonzero(top2[:, 0] - top2[:, 1] <= MARGIN)}
    return [row for i, row in enumerate(rows) if i not in unclear]


def _question_sample(rng, size):
    restrict = int(rng.integers(10_000, 30_001))
    lines = np.sort(rng.choice(len(_questions()), size=size, replace=False))
    rows = _answerable_and_clear([_questions()[i] for i in lines], restrict)
    return restrict, rows


def _random_question_list(rng):
    restrict, rows = _question_sample(rng, 400)
    return _accuracy(restrict_vocabs=[restrict], limit=restrict + 20_000,
                     questions=[list(r[1:]) for r in rows])


def _random_question_file(rng):
    restrict, rows = _question_sample(rng, 300)
    return _accuracy(restrict_vocabs=[restrict], limit=restrict + 20_000,
                     questions=[list(r[1:]) for r in rows], sections=[r[0] for r in rows],
                     as_file=True)


DEFAULT_RESTRICT = 30_000          # analogy_accuracy's default restrict_vocab


def _random_default_restrict(rng):
    """Questions asked without restrict_vocab, on GloVe's first LIMIT words: a sample, and
    three of its answerable questions with the expected word moved to rank 30,000 (the last
    one the default keeps), 30,001 (the first one it skips) and past it, so that the number
    answered tells the default."""
    lines = np.sort(rng.choice(len(_questions()), size=200, replace=False))
    rows = [list(r[1:]) for r in _answerable_and_clear([_questions()[i] for i in lines],
                                                        DEFAULT_RESTRICT)]
    index = _index()
    answerable = [r for r in rows if all(index.get(w.lower(), LIMIT) < DEFAULT_RESTRICT
                                         for w in r)]
    vocab = _glove()[1]
    moved = [DEFAULT_RESTRICT - 1, DEFAULT_RESTRICT, int(rng.integers(DEFAULT_RESTRICT + 1,
                                                                       LIMIT))]
    for row, rank in zip(answerable[:3], moved):
        rows.append(row[:3] + [vocab[rank]])
    return _accuracy(restrict_vocabs=["default"], limit=LIMIT, questions=rows)


def _random_small_questions(rng):
    """A small table whose last word has the zero vector: 5 to 9 questions (never about the
    zero word), the expected word the best candidate in some of them (the first one) and not
    in others (the second one), asked with the whole table and with restrict_vocab=2, which
    leaves none answerable ((0.0, 0))."""
    E, vocab = _small_table(rng, zero=True)
    n = len(vocab)
    U = _unit_rows(E)
    right = rng.random(int(rng.integers(5, 10))) < 0.5
    right[:2] = True, False
    rows = []
    while len(rows) < len(right):
        a, b, c = (int(x) for x in rng.choice(n - 1, size=3, replace=False))
        s = _analogy_scores(U, a, b, c)
        if _clear(s, 1):
            best = int(np.argmax(s))
            others = [i for i in range(n) if i not in (a, b, c, best)]
            d = best if right[len(rows)] else int(rng.choice(others))
            rows.append([vocab[a], vocab[b], vocab[c], vocab[d]])
    return _accuracy(E=E, vocab=vocab, questions=rows, restrict_vocabs=[None, 2])


def _spelled(rng, word):
    """word in lower case, upper case or capitalized, at random."""
    return (word.lower(), word.upper(), word.capitalize())[int(rng.integers(3))]


def _random_mixed_case(rng):
    """Words compared ignoring case on both sides: a small table whose words are written in
    mixed case (lower, upper, capitalized; no two differ only in case) and 6 questions
    written in random case, the expected word the best candidate in some (the first ones)
    and not in others (the last one)."""
    E, words = _small_table(rng)
    n = len(words)
    U = _unit_rows(E)
    right = rng.random(6) < 0.5
    right[:2], right[-1] = True, False
    rows = []
    while len(rows) < len(right):
        a, b, c = (int(x) for x in rng.choice(n, size=3, replace=False))
        s = _analogy_scores(U, a, b, c)
        if _clear(s, 1):
            best = int(np.argmax(s))
            d = best if right[len(rows)] else int(rng.choice([i for i in range(n)
                                                              if i not in (a, b, c, best)]))
            rows.append([_spelled(rng, words[i]) for i in (a, b, c, d)])
    vocab = [_spelled(rng, w) for w in words]
    return _accuracy(E=E, vocab=vocab, questions=rows, restrict_vocabs=[None])


def _answers(rows, restrict, E=None, vocab=None, limit=None):
    """What analogy stands in with while analogy_accuracy runs with this restrict_vocab
    ("default": none given): the size n of the table it asks about, and for each question
    whose a, b and c are among the first n words (case ignored), the answer
    analogy(E[:n], vocab[:n], a, b, c) gives, [word, cosine], the words as the vocabulary
    writes them. A small table's are computed as the reference computes them."""
    if E is None:
        words = _glove()[1][:limit]
    else:
        words = list(vocab)
    restrict = DEFAULT_RESTRICT if restrict == "default" else restrict
    n = len(words) if restrict is None else min(int(restrict), len(words))
    if E is None and n <= len(_unit()):
        U = _unit()[:n]
    else:
        En = np.asarray((_glove()[0] if E is None else E)[:n], dtype=np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", En, En))
        norms[norms == 0] = 1.0
        U = En / norms[:, None]
    index = {}
    for i in range(n - 1, -1, -1):
        index[str(words[i]).upper()] = i
    asked = sorted({tuple(index[w.upper()] for w in row[:3]) for row in rows
                    if all(w.upper() in index for w in row[:3])})
    Q = np.array(asked, dtype=np.intp).reshape(-1, 3)
    queries = U[Q[:, 1]] - U[Q[:, 0]] + U[Q[:, 2]]
    answers = []
    for start in range(0, len(Q), 256):
        block = Q[start:start + 256]
        S = queries[start:start + 256] @ U.T
        S[np.arange(len(block))[:, None], block] = -np.inf
        best = S.argmax(axis=1)
        cos = S[np.arange(len(block)), best] / np.linalg.norm(queries[start:start + 256], axis=1)
        answers += [[words[j], float(c)] for j, c in zip(best, cos)]
    return {"n": n, "asked": [[words[i] for i in q] for q in asked], "answers": answers}


def _accuracy(**inputs):
    """An analogy_accuracy check's inputs with the stand-in's values for each restrict_vocab
    (see _answers)."""
    rows = inputs.get("questions")
    rows = [list(r[1:]) for r in _questions()] if rows is None else rows
    return dict(inputs, given=[_answers(rows, r, inputs.get("E"), inputs.get("vocab"),
                                        inputs.get("limit"))
                               for r in inputs["restrict_vocabs"]])


# ---------------------------------------------------------------------------- the list

def checks(v):
    query = v["query"]
    questions = [list(q[:3]) for q in v["analogies"]]
    asked = " and ".join(f"{a}:{b}::{c}" for a, b, c in questions)
    toy = TOY_E
    zero = np.zeros(3)
    return [
        # q1: one_hot and cosine_similarity
        Check("q1", "one_hot on the toy vocabulary", "one_hot",
              lambda rng: dict(words=["queen", "man", "queen", "monarch"], vocab=TOY_VOCAB),
              points=0.2, tol=EXACT),
        Check("q1", "one_hot of an unknown word raises KeyError naming it", "one_hot_unknown",
              lambda rng: dict(words=["king", "emperor"], vocab=TOY_VOCAB, unknown="emperor"),
              points=0.2, judge="one_hot_unknown", validation=True),
        Check("q1", "cosine of pairs of toy vectors", "cosine_similarity",
              lambda rng: dict(pairs=[[toy[7], toy[6]], [toy[0], toy[8]], [toy[4], toy[2]],
                                      [toy[1], 2 * toy[1]]]),
              points=0.2, tol=SCORE),
        Check("q1", "cosine of the toy table with itself, shape (9, 9)", "cosine_similarity",
              lambda rng: dict(matrices=[[toy, toy]]), points=0.2, tol=SCORE),
        Check("q1", "a zero vector has cosine 0, not NaN", "cosine_similarity",
              lambda rng: dict(pairs=[[zero, toy[7]], [zero, zero]],
                               matrices=[[np.vstack([toy[:3], zero]), np.vstack([zero, toy[6]])]]),
              points=0.2, tol=SCORE),
        Check("q1", "one_hot of random words in a random vocabulary", "one_hot",
              _random_one_hot, points=0.2, hidden=True, tol=EXACT),
        Check("q1", "one_hot of one word given as a str", "one_hot_single", _random_single_word,
              points=0.2, hidden=True, tol=EXACT),
        Check("q1", "cosine of random matrices (n, d) x (k, d)", "cosine_similarity",
              _random_matrices, points=0.2, hidden=True, tol=SCORE),
        Check("q1", "cosine with one argument a single vector", "cosine_one_row",
              _random_one_row, points=0.2, hidden=True, tol=SCORE),
        Check("q1", "random matrices with zero rows", "cosine_similarity", _random_zero_rows,
              points=0.2, hidden=True, tol=SCORE),
        # q2: most_similar
        Check("q2", f"GloVe neighbours of {query!r}", "most_similar",
              lambda rng: _neighbours(limit=None,
                                      calls=[{"query": query, "k": 5, "exclude": []}]),
              points=0.5, tol=RANKED),
        Check("q2", "toy table: a word query, a vector query and exclude", "most_similar",
              lambda rng: _neighbours(**TOY, calls=[
                  {"query": "man", "k": 3, "exclude": []},
                  {"query": np.array([0.5, -1.0, 0.25]), "k": 4, "exclude": []},
                  {"query": "queen", "k": 2, "exclude": ["monarch"]}]),
              points=0.5, tol=RANKED),
        Check("q2", "neighbours of random frequent GloVe words", "most_similar",
              _random_word_queries, points=0.4, hidden=True, tol=RANKED),
        Check("q2", "GloVe vector queries and excluded words", "most_similar",
              _random_vector_queries, points=0.3, hidden=True, tol=RANKED),
        Check("q2", "a small table with a zero vector: k = 0, 1, the default and beyond the "
              "words left; a short query vector and a zero one", "most_similar",
              _random_small_neighbours,
              points=0.3, hidden=True, tol=RANKED),
        # q3: analogy
        Check("q3", "toy table: man:king::woman and boy:prince::girl, k=3", "analogy",
              lambda rng: _analogies(**TOY, questions=[["man", "king", "woman"],
                                                       ["boy", "prince", "girl"]], k=3),
              points=0.5, tol=RANKED),
        Check("q3", f"GloVe: {asked}", "analogy",
              lambda rng: _analogies(limit=None, questions=questions, k=1),
              points=0.75, tol=RANKED),
        Check("q3", "GloVe: your notebook's own GLOVE_ANALOGIES", "analogy_on_notebook_data",
              lambda rng: _analogies(limit=None, questions=questions, k=1),
              points=0.25, tol=RANKED),
        Check("q3", "random questions of questions-words.txt on GloVe, k=3", "analogy",
              _random_file_analogies, points=0.5, hidden=True, tol=RANKED),
        Check("q3", "a random small table, k=3", "analogy", _random_small_table, points=0.5,
              hidden=True, tol=RANKED),
        Check("q3", "a small table with a zero vector: k beyond the words left, 0 and the "
              "default", "analogy", _random_small_table_every_word, points=0.25, hidden=True,
              tol=RANKED),
        Check("q3", "four words: a query b - a + c that is exactly zero", "analogy",
              _random_four_words, points=0.25, hidden=True, tol=RANKED),
        # q4: analogy_accuracy
        Check("q4", "toy questions, restrict_vocab=None and 8", "analogy_accuracy",
              lambda rng: _accuracy(**TOY, questions=TOY_QUESTIONS, restrict_vocabs=[None, 8]),
              points=0.5, tol=ACCURACY),
        Check("q4", "questions-words.txt on GloVe, restrict_vocab=2000", "analogy_accuracy",
              lambda rng: _accuracy(limit=None, questions=None, restrict_vocabs=[2000]),
              points=1.0, tol=ACCURACY),
        Check("q4", "a random sample of the questions on GloVe", "analogy_accuracy",
              _random_question_list, points=0.25, hidden=True, tol=ACCURACY),
        Check("q4", "a table and questions in mixed case", "analogy_accuracy",
              _random_mixed_case, points=0.25, hidden=True, tol=ACCURACY),
        Check("q4", "a random sample written to a file with sections", "analogy_accuracy",
              _random_question_file, points=0.25, hidden=True, tol=ACCURACY),
        Check("q4", "the default restrict_vocab, questions around rank 30,000",
              "analogy_accuracy", _random_default_restrict, points=0.25, hidden=True,
              tol=ACCURACY),
        Check("q4", "a small table with a zero vector; a restrict_vocab that leaves no question",
              "analogy_accuracy", _random_small_questions, points=0.5, hidden=True,
              tol=ACCURACY),
    ]
