"""Correct embeddings solutions written differently from the reference (tests/test_diagnoses.py):
each gets full marks and names no mistake. WITHOUT_VALIDATION has correct mathematics and no
input validation: it loses at most the validation points of those questions.

The reference computes GloVe scores in float32 (as gensim); these compute in float64, loop
where a student might, return numpy scalars, or build later questions on earlier functions
(most_similar on cosine_similarity, analogy on most_similar, analogy_accuracy on analogy).
"""

SOLUTIONS = {
    # Python loops and float64: one_hot by scanning the vocabulary, cosines one pair at a time,
    # the k best by a heap, analogies and their accuracy one question at a time.
    "loops-float64": {
        "q1": '''
import math


def one_hot(words, vocab):
    if isinstance(words, str):
        words = [words]
    out = np.zeros((len(words), len(vocab)))
    for r, word in enumerate(words):
        for i, v in enumerate(vocab):
            if v == word:
                out[r, i] = 1.0
                break
        else:
            raise KeyError(f"{word!r} is not in the vocabulary")
    return out


def cosine_similarity(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    A = a.reshape(1, -1) if a.ndim == 1 else a
    B = b.reshape(1, -1) if b.ndim == 1 else b
    S = np.zeros((len(A), len(B)))
    for i in range(len(A)):
        for j in range(len(B)):
            nu = math.sqrt(sum(x * x for x in A[i]))
            nv = math.sqrt(sum(y * y for y in B[j]))
            if nu > 0 and nv > 0:
                S[i, j] = sum(x * y for x, y in zip(A[i], B[j])) / (nu * nv)
    if a.ndim == 1 and b.ndim == 1:
        return float(S[0, 0])
    return S
''',
        "q2": '''
import heapq


def most_similar(E, vocab, query, k=5, exclude=()):
    position = {}
    for i, w in enumerate(vocab):
        position.setdefault(w, i)
    skip = {position[w] for w in exclude}
    E = np.asarray(E, dtype=np.float64)
    if isinstance(query, str):
        skip.add(position[query])
        q = E[position[query]]
    else:
        q = np.asarray(query, dtype=np.float64)
    norms = np.sqrt((E * E).sum(axis=1))
    norms[norms == 0] = 1.0
    scores = E @ q / norms / (np.sqrt(q @ q) or 1.0)
    candidates = (i for i in range(len(vocab)) if i not in skip)
    best = heapq.nsmallest(k, candidates, key=lambda i: (-scores[i], i))
    return [(vocab[i], float(scores[i])) for i in best]
''',
        "q3": '''
def analogy(E, vocab, a, b, c, k=1):
    position = {}
    for i, w in enumerate(vocab):
        position.setdefault(w, i)
    ia, ib, ic = position[a], position[b], position[c]
    E = np.asarray(E, dtype=np.float64)
    norms = np.linalg.norm(E, axis=1)
    norms[norms == 0] = 1.0
    q = E[ib] / norms[ib] - E[ia] / norms[ia] + E[ic] / norms[ic]
    scores = E @ q / norms / (np.linalg.norm(q) or 1.0)     # a zero query: every score 0
    scores[[ia, ib, ic]] = -np.inf
    order = np.argsort(-scores, kind="stable")[:min(k, len(vocab) - 3)]
    return [(vocab[i], float(scores[i])) for i in order]
''',
        "q4": '''
def analogy_accuracy(E, vocab, questions, restrict_vocab=30000):
    if not isinstance(questions, (list, tuple)):
        with open(questions) as fh:
            questions = [line.split() for line in fh if not line.startswith(":")]
        questions = [q for q in questions if len(q) == 4]
    n = len(vocab) if restrict_vocab is None else min(restrict_vocab, len(vocab))
    position = {}
    for i, w in enumerate(vocab[:n]):
        position.setdefault(w.lower(), i)
    U = np.asarray(E[:n], dtype=np.float64)
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    U = U / np.where(norms > 0, norms, 1.0)
    right = answered = 0
    for question in questions:
        ids = [position.get(w.lower()) for w in question]
        if None in ids:
            continue
        scores = U @ (U[ids[1]] - U[ids[0]] + U[ids[2]])
        scores[ids[:3]] = -np.inf
        right += int(np.argmax(scores)) == ids[3]
        answered += 1
    return (right / answered if answered else 0.0), answered
''',
    },
    # numpy all the way, float64, numpy scalars returned (np.float64 cosines and scores,
    # np.str_ words, np.float64 accuracy and np.int64 count): the docstrings' Python floats
    # and ints are read the same.
    "vectorized-numpy-scalars": {
        "q1": '''
def one_hot(words, vocab):
    words = [words] if isinstance(words, str) else list(words)
    position = {w: i for i, w in reversed(list(enumerate(vocab)))}
    missing = [w for w in words if w not in position]
    if missing:
        raise KeyError(f"not in the vocabulary: {missing}")
    return np.eye(len(vocab))[[position[w] for w in words]]


def cosine_similarity(a, b):
    A, B = np.atleast_2d(np.asarray(a, dtype=float)), np.atleast_2d(np.asarray(b, dtype=float))
    na = np.sqrt(np.einsum("ij,ij->i", A, A))
    nb = np.sqrt(np.einsum("ij,ij->i", B, B))
    S = np.divide(A @ B.T, np.outer(na, nb), out=np.zeros((len(A), len(B))),
                  where=np.outer(na, nb) > 0)
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return S[0, 0]
    return S
''',
        "q2": '''
def most_similar(E, vocab, query, k=5, exclude=()):
    position = {w: i for i, w in reversed(list(enumerate(vocab)))}
    E = np.asarray(E, dtype=np.float64)
    q = E[position[query]] if isinstance(query, str) else np.asarray(query, dtype=np.float64)
    norms = np.linalg.norm(E, axis=1)
    scores = np.divide(E @ q, norms * np.linalg.norm(q), out=np.zeros(len(E)),
                       where=norms * np.linalg.norm(q) > 0)
    skip = [position[w] for w in ([query] if isinstance(query, str) else []) + list(exclude)]
    scores[skip] = -np.inf
    order = np.lexsort((np.arange(len(E)), -scores))[:k]
    order = order[np.isfinite(scores[order])]   # never an excluded word
    return [(np.str_(vocab[i]), scores[i]) for i in order]
''',
        "q3": '''
def analogy(E, vocab, a, b, c, k=1):
    position = {w: i for i, w in reversed(list(enumerate(vocab)))}
    ids = [position[w] for w in (a, b, c)]
    E = np.asarray(E, dtype=np.float64)
    norms = np.linalg.norm(E, axis=1)
    norms[norms == 0] = 1.0
    U = E / norms[:, None]
    q = np.array([-1.0, 1.0, 1.0]) @ U[ids]
    scores = U @ (q / (np.linalg.norm(q) or 1.0))     # a zero query: every score 0
    scores[ids] = -np.inf
    order = np.lexsort((np.arange(len(E)), -scores))[:k]
    order = order[np.isfinite(scores[order])]
    return [(np.str_(vocab[i]), scores[i]) for i in order]
''',
        "q4": '''
def analogy_accuracy(E, vocab, questions, restrict_vocab=30000):
    if isinstance(questions, (str, Path)):
        lines = Path(questions).read_text(encoding="utf-8").splitlines()
        questions = [line.split() for line in lines if line and not line.startswith(":")]
        questions = [q for q in questions if len(q) == 4]
    n = len(vocab) if restrict_vocab is None else min(int(restrict_vocab), len(vocab))
    position = {}
    for i, w in enumerate(vocab[:n]):
        position.setdefault(w.lower(), i)
    rows = [[position.get(w.lower()) for w in q] for q in questions]
    Q = np.array([r for r in rows if None not in r], dtype=np.int64).reshape(-1, 4)
    if len(Q) == 0:
        return np.float64(0.0), np.int64(0)
    U = np.asarray(E[:n], dtype=np.float64)
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    U = np.divide(U, norms, out=np.zeros_like(U), where=norms > 0)
    right = np.int64(0)
    for start in range(0, len(Q), 500):
        block = Q[start:start + 500]
        S = (U[block[:, 1]] - U[block[:, 0]] + U[block[:, 2]]) @ U.T
        np.put_along_axis(S, block[:, :3], -np.inf, axis=1)
        right += np.sum(S.argmax(axis=1) == block[:, 3])
    return right / np.float64(len(Q)), np.int64(len(Q))
''',
    },
    # Each later question built on the earlier ones, as the text invites: most_similar ranks
    # cosine_similarity(E, q), analogy asks most_similar for the unit offset vector with the
    # question words excluded, analogy_accuracy asks analogy (k=1) question by question.
    "calls-earlier-functions": {
        "q2": '''
def most_similar(E, vocab, query, k=5, exclude=()):
    position = {w: i for i, w in reversed(list(enumerate(vocab)))}
    skip = [position[w] for w in exclude]
    if isinstance(query, str):
        skip.append(position[query])
        query = E[position[query]]
    scores = cosine_similarity(E, query).ravel()
    scores[skip] = -np.inf
    order = [i for i in np.argsort(-scores, kind="stable") if scores[i] > -np.inf][:k]
    return [(vocab[i], float(scores[i])) for i in order]
''',
        "q3": '''
def analogy(E, vocab, a, b, c, k=1):
    position = {w: i for i, w in reversed(list(enumerate(vocab)))}
    unit = [np.asarray(E[position[w]], dtype=float) for w in (a, b, c)]
    unit = [v / np.linalg.norm(v) for v in unit]
    return most_similar(E, vocab, unit[1] - unit[0] + unit[2], k=k, exclude=(a, b, c))
''',
        "q4": '''
def analogy_accuracy(E, vocab, questions, restrict_vocab=30000):
    if isinstance(questions, (str, Path)):
        with open(questions, encoding="utf-8") as fh:
            questions = [line.split() for line in fh if not line.startswith(":")]
        questions = [q for q in questions if len(q) == 4]
    n = len(vocab) if restrict_vocab is None else min(restrict_vocab, len(vocab))
    words = [w.lower() for w in vocab[:n]]
    known = set(words)
    answered = [[w.lower() for w in q] for q in questions
                if all(w.lower() in known for w in q)]
    if not answered:
        return 0.0, 0
    right = sum(analogy(E[:n], words, a, b, c)[0][0] == d for a, b, c, d in answered)
    return right / len(answered), len(answered)
''',
    },
}

# vocab.index raises ValueError, not the KeyError naming the word that the docstring asks for.
WITHOUT_VALIDATION = {
    "list-index": {
        "q1": '''
def one_hot(words, vocab):
    if isinstance(words, str):
        words = [words]
    out = np.zeros((len(words), len(vocab)))
    for r, w in enumerate(words):
        out[r, vocab.index(w)] = 1.0
    return out


def cosine_similarity(a, b):
    A, B = np.atleast_2d(a).astype(float), np.atleast_2d(b).astype(float)
    na = np.linalg.norm(A, axis=1, keepdims=True)
    nb = np.linalg.norm(B, axis=1, keepdims=True)
    S = (A / np.where(na > 0, na, 1.0)) @ (B / np.where(nb > 0, nb, 1.0)).T
    return float(S[0, 0]) if np.ndim(a) == 1 and np.ndim(b) == 1 else S
''',
    },
}
