"""Reference solution: word embeddings, cosine similarity and word analogies.

Conventions: ``E`` is an (n, d) array whose row i is the vector of ``vocab[i]``; ``vocab``
is a list of n words (for GloVe, most frequent first). If a word occurs twice in vocab,
its first occurrence counts, as in gensim.

Every function is self-contained (it calls no other function of this file), so the
grader can paste any question's functions into a notebook cell on their own and a bug in
a student's earlier answer cannot leak into the reference behaviour of a later one.
Zero vectors: their cosine with anything is defined as 0 (never NaN), because a zero
vector has no direction; this matters for padding rows and for toy tables.
"""
import numpy as np

# --- q1 -------------------------------------------------------------------------------

def one_hot(words, vocab):
    """(len(words), len(vocab)) float array; row r has a single 1 at the index of words[r].

    A single string counts as a one-word list. An unknown word raises KeyError naming it.
    """
    if isinstance(words, str):
        words = [words]
    index = {}
    for i, w in enumerate(vocab):
        index.setdefault(w, i)
    out = np.zeros((len(words), len(vocab)))
    for r, w in enumerate(words):
        if w not in index:
            raise KeyError(f"one_hot: word {w!r} is not in the vocabulary "
                           f"({len(vocab)} words); check spelling and case")
        out[r, index[w]] = 1.0
    return out


def cosine_similarity(a, b):
    """Cosine of the angle between vectors, u.v / (|u| |v|).

    Two 1-D vectors (d,) -> a Python float. Otherwise each argument is a matrix of row
    vectors (a 1-D argument is one row): (n, d) x (k, d) -> (n, k) array with entry
    [i, j] = cos(a[i], b[j]). Zero vectors give 0, not NaN. Values are clipped to
    [-1, 1] to hide rounding (e.g. 1.0000000002 for a vector with itself).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.ndim > 2 or b.ndim > 2 or a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"cosine_similarity takes vectors or 2-D matrices of row vectors, "
                         f"got shapes {a.shape} and {b.shape}")
    A, B = np.atleast_2d(a), np.atleast_2d(b)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"cosine_similarity: vectors must have the same length d, got "
                         f"shapes {a.shape} and {b.shape} (rows are vectors)")
    na = np.linalg.norm(A, axis=1, keepdims=True)
    nb = np.linalg.norm(B, axis=1, keepdims=True)
    # Dividing a zero row by 1 keeps it zero, so its dot products (and cosines) are 0.
    na[na == 0] = 1.0
    nb[nb == 0] = 1.0
    S = np.clip((A / na) @ (B / nb).T, -1.0, 1.0)
    if a.ndim == 1 and b.ndim == 1:
        return float(S[0, 0])
    return S

# --- q2 -------------------------------------------------------------------------------

def most_similar(E, vocab, query, k=5, exclude=()):
    """The k words whose vectors have the highest cosine with ``query``, best first.

    query: a word of vocab (then that word itself is excluded) or a vector (d,).
    exclude: words never returned. Returns a list of (word, score) with Python float
    scores; equal scores are ordered by vocabulary index (the more frequent word first).
    """
    E = np.asarray(E)
    if E.ndim != 2 or E.shape[0] != len(vocab):
        raise ValueError(f"E must be (len(vocab), d) = ({len(vocab)}, d), got {E.shape}")
    index = {}
    for i, w in enumerate(vocab):
        index.setdefault(w, i)
    if isinstance(exclude, str):
        exclude = (exclude,)
    skip = []
    for w in ([query] if isinstance(query, str) else []) + list(exclude):
        if w not in index:
            raise KeyError(f"most_similar: word {w!r} is not in the vocabulary")
        skip.append(index[w])
    dtype = np.result_type(E.dtype, np.float32)   # GloVe stays float32, like gensim
    q = E[index[query]] if isinstance(query, str) else np.asarray(query).ravel()
    q = np.asarray(q, dtype=dtype)
    if q.shape != (E.shape[1],):
        raise ValueError(f"most_similar: query vector must have shape ({E.shape[1]},), "
                         f"got {np.shape(query)}")
    # Row norms without materializing a normalized copy of E (80 MB for GloVe).
    norms = np.sqrt(np.einsum("ij,ij->i", E, E, dtype=dtype))
    norms[norms == 0] = 1.0
    qn = np.linalg.norm(q)
    scores = (E @ q) / norms / (qn if qn > 0 else 1.0)
    scores = scores.astype(float)
    scores[skip] = -np.inf
    k = min(int(k), len(vocab) - len(set(skip)))
    if k <= 0:
        return []
    # All entries tied with the k-th best are kept, then sorted by (-score, index):
    # deterministic, unlike argpartition's arbitrary choice among ties.
    kth = np.partition(scores, len(scores) - k)[len(scores) - k]
    cand = np.flatnonzero(scores >= kth)
    best = cand[np.lexsort((cand, -scores[cand]))][:k]
    return [(vocab[i], float(scores[i])) for i in best]

# --- q3 -------------------------------------------------------------------------------

def analogy(E, vocab, a, b, c, k=1):
    """"a is to b as c is to ?": the k best words for b - a + c, as (word, score).

    Each vector is first scaled to unit length (so frequent words with long vectors do
    not dominate), the query is b - a + c, and candidates are scored by cosine with it.
    The three question words are never returned. analogy(E, vocab, "man", "king",
    "woman") -> [("queen", 0.852...)] on GloVe 6B 50d.
    """
    E = np.asarray(E)
    if E.ndim != 2 or E.shape[0] != len(vocab):
        raise ValueError(f"E must be (len(vocab), d) = ({len(vocab)}, d), got {E.shape}")
    index = {}
    for i, w in enumerate(vocab):
        index.setdefault(w, i)
    for w in (a, b, c):
        if w not in index:
            hint = f" (did you mean {w.lower()!r}?)" if w.lower() in index else ""
            raise KeyError(f"analogy: word {w!r} is not in the vocabulary{hint}")
    ia, ib, ic = index[a], index[b], index[c]
    dtype = np.result_type(E.dtype, np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", E, E, dtype=dtype))
    norms[norms == 0] = 1.0
    Eabc = np.asarray(E[[ia, ib, ic]], dtype=dtype) / norms[[ia, ib, ic], None]
    q = Eabc[1] - Eabc[0] + Eabc[2]
    qn = np.linalg.norm(q)
    # cos(q, e_i) = (e_i / |e_i|) . q / |q|: the same as scoring the normalized rows.
    scores = ((E @ q) / norms / (qn if qn > 0 else 1.0)).astype(float)
    scores[[ia, ib, ic]] = -np.inf
    k = min(int(k), len(vocab) - len({ia, ib, ic}))
    if k <= 0:
        return []
    kth = np.partition(scores, len(scores) - k)[len(scores) - k]
    cand = np.flatnonzero(scores >= kth)
    best = cand[np.lexsort((cand, -scores[cand]))][:k]
    return [(vocab[i], float(scores[i])) for i in best]

# --- q4 -------------------------------------------------------------------------------

def analogy_accuracy(E, vocab, questions, restrict_vocab=30000):
    """Fraction of analogy questions answered correctly, as (accuracy, n_answered).

    questions: a list of 4-tuples (a, b, c, expected), or the path of a
    questions-words.txt file (lines starting with ':' are section headers, other lines
    hold four words). Same rules as gensim 4.4's KeyedVectors.evaluate_word_analogies(
    path, restrict_vocab, case_insensitive=True):
    * only the first ``restrict_vocab`` words (None: all) are candidates; a question
      with any of its four words outside them is skipped and not counted;
    * case is ignored (gensim upper-cases both sides; for the ASCII questions this is the
      same as lower-casing). The exercise's vocabularies never hold two words that differ
      only in case (GloVe is lower-case), so gensim's extra scan for such twins is left
      out: with twins, the first spelling stands for the word and the others are ordinary
      candidates;
    * the answer is the 3CosAdd best candidate: highest cosine with unit(b) - unit(a) +
      unit(c), the three question words excluded.
    Computed in E's precision (float32 for GloVe, as gensim), batched through matrix
    products. Returns (0.0, 0) if no question can be answered.
    """
    E = np.asarray(E)
    if E.ndim != 2 or E.shape[0] != len(vocab):
        raise ValueError(f"E must be (len(vocab), d) = ({len(vocab)}, d), got {E.shape}")
    if isinstance(questions, str) or hasattr(questions, "__fspath__"):
        with open(questions, encoding="utf-8") as fh:
            questions = [line.split() for line in fh if not line.startswith(":")]
        questions = [q for q in questions if len(q) == 4]   # gensim skips bad lines too
    R = len(vocab) if restrict_vocab is None else min(int(restrict_vocab), len(vocab))
    ok = {}
    for i in range(R - 1, -1, -1):        # backwards, so the first occurrence wins
        ok[str(vocab[i]).upper()] = i
    rows = []
    for q in questions:
        if isinstance(q, str) or len(q) != 4:
            raise ValueError(f"analogy_accuracy: each question must be (a, b, c, expected), "
                             f"got {q!r}; drop section names first, e.g. [q[1:] for q in qs]")
        ids = [ok.get(str(w).upper()) for w in q]
        if None not in ids:
            rows.append(ids)
    if not rows:
        return 0.0, 0
    Q = np.array(rows, dtype=np.intp)                  # (m, 4): a, b, c, expected

    dtype = np.result_type(E.dtype, np.float32)
    En = np.asarray(E[:R], dtype=dtype)
    norms = np.sqrt(np.einsum("ij,ij->i", En, En))
    norms[norms == 0] = 1.0
    En = En / norms[:, None]
    # Scaling the query to unit length would not change the ranking, so it is skipped.
    queries = En[Q[:, 1]] - En[Q[:, 0]] + En[Q[:, 2]]
    pred = np.empty(len(Q), dtype=np.intp)
    batch = 128          # (128, 30000) float32 scores stay in cache-friendly 15 MB blocks
    for s in range(0, len(Q), batch):
        qb = Q[s:s + batch]
        S = queries[s:s + batch] @ En.T
        r = np.arange(len(qb))[:, None]
        S[r, qb[:, :3]] = -np.inf
        pred[s:s + batch] = S.argmax(axis=1)
    correct = pred == Q[:, 3]
    return float(correct.mean()), int(len(Q))
