"""Benchmark: `neurograde similarity` on 500 generated perceptron submissions.

Each submission takes one of four implementation variants for each of the four functions
(4^4 combinations), renames every identifier a student may rename at random, shuffles the order
of the functions (one cell, or one per stub cell), changes comments, adds up to three random statements to each
function and adds a cell of randomly generated exploration code of its own. A few submissions are untouched stubs and a few
are renamed copies of another submission, so the report has something to flag.

    /opt/neurograde/venv/bin/python benchmarks/bench_similarity.py [--n 500] [--seed 0]

Prints the time to compare (reading, fingerprinting, indexing, scoring, matching regions and
writing the report; generation excluded) in total and per submission, twice: with the default
options and with the common-code filter off (every shared fingerprint counts: the worst case
for the inverted index).
"""

from __future__ import annotations

import argparse
import io
import keyword
import random
import tempfile
import time
import tokenize
from pathlib import Path

import nbformat

from neurograde.similarity.fingerprint import BUILTINS
from neurograde.release import build_notebook, fill_notebook, solution_source
from neurograde.similarity.report import SimilarityOptions, compare, write_report
from neurograde.spec import LANGUAGES, load_assignment

VARIANTS = {
    "predict": [
        "def predict(X, w, b):\n    return np.where(np.asarray(X) @ np.asarray(w) + b >= 0, 1, -1)\n",
        "def predict(X, w, b):\n    out = []\n    for row in X:\n        total = b\n"
        "        for xj, wj in zip(row, w):\n            total += xj * wj\n"
        "        out.append(1 if total >= 0 else -1)\n    return np.array(out)\n",
        "def predict(X, w, b):\n    z = np.dot(X, w) + b\n    labels = np.ones(len(z), dtype=int)\n"
        "    labels[z < 0] = -1\n    return labels\n",
        "def predict(X, w, b):\n    return np.array([1 if np.dot(x, w) + b >= 0 else -1 for x in X])\n",
    ],
    "accuracy": [
        "def accuracy(y_true, y_pred):\n    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)\n"
        "    if len(y_true) != len(y_pred) or len(y_true) == 0:\n"
        "        raise ValueError('bad lengths')\n    return float(np.mean(y_true == y_pred))\n",
        "def accuracy(y_true, y_pred):\n    if len(y_true) != len(y_pred):\n"
        "        raise ValueError('lengths differ')\n    if not len(y_true):\n"
        "        raise ValueError('empty')\n    hits = 0\n    for a, b in zip(y_true, y_pred):\n"
        "        if a == b:\n            hits += 1\n    return hits / len(y_true)\n",
        "def accuracy(y_true, y_pred):\n    n = len(y_true)\n    if n == 0 or n != len(y_pred):\n"
        "        raise ValueError(f'{n} vs {len(y_pred)}')\n"
        "    return sum(1 for i in range(n) if y_true[i] == y_pred[i]) / n\n",
        "def accuracy(y_true, y_pred):\n    t = np.array(y_true)\n    p = np.array(y_pred)\n"
        "    if t.shape[0] != p.shape[0]:\n        raise ValueError('shape')\n"
        "    if t.shape[0] == 0:\n        raise ValueError('empty')\n"
        "    return (t == p).sum() / t.shape[0]\n",
    ],
    "better_model": [
        "def better_model(X, y, models):\n"
        "    scores = {n: accuracy(y, predict(X, *wb)) for n, wb in models.items()}\n"
        "    top = max(scores.values())\n    best = [n for n in scores if scores[n] == top]\n"
        "    return best[0] if len(best) == 1 else 'tie'\n",
        "def better_model(X, y, models):\n    best, best_acc, tie = None, -1, False\n"
        "    for name, (w, b) in models.items():\n        acc = accuracy(y, predict(X, w, b))\n"
        "        if acc > best_acc:\n            best, best_acc, tie = name, acc, False\n"
        "        elif acc == best_acc:\n            tie = True\n    return 'tie' if tie else best\n",
        "def better_model(X, y, models):\n    names = list(models)\n"
        "    accs = np.array([accuracy(y, predict(X, *models[n])) for n in names])\n"
        "    idx = np.flatnonzero(accs == accs.max())\n"
        "    return names[idx[0]] if idx.size == 1 else 'tie'\n",
        "def better_model(X, y, models):\n"
        "    ranked = sorted(models, key=lambda n: accuracy(y, predict(X, *models[n])), reverse=True)\n"
        "    first = accuracy(y, predict(X, *models[ranked[0]]))\n"
        "    if len(ranked) > 1 and accuracy(y, predict(X, *models[ranked[1]])) == first:\n"
        "        return 'tie'\n    return ranked[0]\n",
    ],
    "train_perceptron": [
        None,  # the reference
        "def train_perceptron(X, y, epochs, lr=1.0):\n    X = np.array(X, dtype=float)\n"
        "    w = np.zeros(X.shape[1])\n    b = 0.0\n    history = []\n    for epoch in range(epochs):\n"
        "        errors = 0\n        for i in range(X.shape[0]):\n"
        "            if y[i] * (np.dot(w, X[i]) + b) <= 0:\n                w = w + lr * y[i] * X[i]\n"
        "                b = b + lr * y[i]\n                errors = errors + 1\n"
        "        history.append(errors)\n    return w, b, history\n",
        "def train_perceptron(X, y, epochs, lr=1.0):\n    m, d = np.shape(X)\n"
        "    w, b, counts = np.zeros(d), 0.0, [0] * epochs\n    e = 0\n    while e < epochs:\n"
        "        for j in range(m):\n            margin = y[j] * (X[j] @ w + b)\n"
        "            if margin <= 0:\n                w += lr * y[j] * np.asarray(X[j], float)\n"
        "                b += lr * y[j]\n                counts[e] += 1\n        e += 1\n"
        "    return w, b, counts\n",
        "def train_perceptron(X, y, epochs, lr=1.0):\n    X, y = np.asarray(X, float), np.asarray(y, float)\n"
        "    w = np.zeros(len(X[0]))\n    b = 0.0\n    mistakes = []\n    for _ in range(epochs):\n"
        "        wrong = [0]\n        for xi, yi in zip(X, y):\n"
        "            update = lr * yi if yi * (xi.dot(w) + b) <= 0 else 0.0\n"
        "            if update:\n                w = w + update * xi\n                b += update\n"
        "                wrong[0] += 1\n        mistakes.append(wrong[0])\n    return w, b, mistakes\n",
    ],
}
KEEP = {"np", "predict", "accuracy", "better_model", "train_perceptron", "dtype", "key",
        "reverse", "X_test", "y_test", "models"}
WORDS = ("data", "pts", "vals", "arr", "res", "tmp", "acc", "cnt", "idx", "lbl", "feat", "wt",
         "bias", "net", "out", "err", "cur", "prev", "best", "item", "row", "col", "z", "q")
COMMENTS = ("# compute the result", "# loop over the samples", "# TODO tidy up", "# check",
            "# vectorized version", "# see lecture 3", "# works, don't touch")


def rename(source: str, rng: random.Random) -> str:
    """source with every renamable identifier replaced consistently by a random name."""
    names: dict[str, str] = {}
    edits: dict[int, list[tuple[int, int, str]]] = {}
    previous = ""
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if (tok.type == tokenize.NAME and not keyword.iskeyword(tok.string) and previous != "."
                and tok.string not in BUILTINS and tok.string not in KEEP):
            new = names.setdefault(tok.string, f"{rng.choice(WORDS)}_{len(names)}"
                                   f"{rng.randrange(100)}")
            edits.setdefault(tok.start[0], []).append((tok.start[1], tok.end[1], new))
        previous = tok.string
    lines = source.split("\n")
    for row, changes in edits.items():
        line = lines[row - 1]
        for start, end, new in sorted(changes, reverse=True):
            line = line[:start] + new + line[end:]
        lines[row - 1] = line
    return "\n".join(lines)


def comment(source: str, rng: random.Random) -> str:
    lines = source.split("\n")
    for _ in range(rng.randrange(3)):
        at = rng.randrange(1, len(lines))
        indent = len(lines[at]) - len(lines[at].lstrip())
        lines.insert(at, " " * indent + rng.choice(COMMENTS))
    return "\n".join(lines)


def statement(rng: random.Random) -> str:
    """One random line of student code; varied in shape, so it differs after normalization."""
    def operand() -> str:
        kind = rng.randrange(6)
        if kind == 0:
            return f"{rng.choice(WORDS)}.{rng.choice(['shape[0]', 'size', 'ndim', 'T', 'sum()'])}"
        if kind == 1:
            return f"np.{rng.choice(['mean', 'abs', 'sqrt', 'max', 'linalg.norm'])}({rng.choice(WORDS)})"
        if kind == 2:
            return f"{rng.choice(['len', 'abs', 'round', 'float', 'int'])}({rng.choice(WORDS)})"
        if kind == 3:
            return f"{rng.choice(WORDS)}[{rng.randrange(3)}]"
        return str(rng.choice([rng.randrange(10), round(rng.random(), 3)])) if kind == 4 \
            else rng.choice(WORDS)
    expression = operand()
    for _ in range(rng.randrange(3)):
        expression += f" {rng.choice(['+', '-', '*', '/', '**', '%', '//'])} {operand()}"
    form = rng.randrange(4)
    if form == 0:
        return f"print({rng.choice(['', 'f', 'r'])}'debug', {expression})"
    if form == 1:
        return f"assert {expression} {rng.choice(['>', '<', '==', '!='])} {operand()}"
    return f"{rng.choice(WORDS)}{rng.randrange(99)} {rng.choice(['=', '+=', '-=', '*='])} {expression}"


def mutate(source: str, rng: random.Random) -> str:
    """source with a few statements of the student's own added to the function body."""
    lines = source.rstrip("\n").split("\n")
    for _ in range(rng.randrange(4)):
        at = rng.randrange(1, len(lines))
        if lines[at].lstrip().startswith(("elif", "else")):
            continue
        indent = len(lines[at]) - len(lines[at].lstrip())
        lines.insert(at, " " * indent + statement(rng))
    return "\n".join(lines) + "\n"


def exploration(rng: random.Random) -> str:
    """A cell of the student's own code: random statements over the notebook's data."""
    names = ["X_test", "y_test", "models"]
    lines = []
    for i in range(rng.randrange(4, 14)):
        target = f"{rng.choice(WORDS)}{i}"
        kind = rng.randrange(5)
        if kind == 0:
            model = rng.choice(["f1", "f2"])
            lines.append(f"{target} = predict(X_test, *models[{model!r}])")
        elif kind == 1:
            lines.append(f"{target} = np.{rng.choice(['mean', 'sum', 'max', 'std'])}"
                         f"({rng.choice(names[:2])}, axis={rng.randrange(2)}) * {rng.random():.2f}")
        elif kind == 2:
            lines.append(f"{target} = accuracy(y_test, {rng.choice(names[:2])}[:, 0] > "
                         f"{rng.randrange(5)})" if rng.random() < 0.5 else
                         f"print({rng.choice(names)}.shape, {rng.randrange(100)})")
        elif kind == 3:
            lines.append(f"for {target} in range({rng.randrange(1, 9)}):\n"
                         f"    print({target} ** {rng.randrange(1, 4)} - {rng.random():.3f})")
        else:
            lines.append(f"{target} = train_perceptron(X_test, y_test, {rng.randrange(1, 20)}, "
                         f"lr={rng.random():.2f})[{rng.randrange(3)}]")
        names.append(target)
    return "\n".join(lines) + "\n"


def generate(folder: Path, n: int, seed: int) -> list[tuple[str, str]]:
    """Write n notebooks into folder; return the (original, copy) name pairs."""
    assignment = load_assignment("perceptron")
    rng = random.Random(seed)
    notebooks = {lang: build_notebook(assignment, lang) for lang in LANGUAGES}
    VARIANTS["train_perceptron"][0] = solution_source(assignment, "q4", assignment.reference)
    qid = {name: q.id for q in assignment.questions for name in q.defines}
    written: list[tuple[str, dict[str, str]]] = []
    copies = []
    for index in range(n):
        roll = rng.random()
        if roll < 0.04:
            sources = {}                                          # untouched stubs
        elif roll < 0.08 and written:                             # a renamed copy
            original, originals = rng.choice(written)
            sources = {q: comment(rename(s, rng), rng) for q, s in originals.items()}
            copies.append((original, f"student{index:04d}"))
        else:
            functions = {name: comment(rename(mutate(rng.choice(options), rng), rng), rng)
                         for name, options in VARIANTS.items()}
            if rng.random() < 0.5:
                sources = {qid[name]: code for name, code in functions.items()}
            else:
                order = rng.sample(list(functions), len(functions))
                sources = {"q4": "\n\n".join(functions[name] for name in order)}
            written.append((f"student{index:04d}", sources))
        nb = fill_notebook(notebooks[rng.choice(LANGUAGES)], sources)
        if sources:
            nb.cells.insert(-1, nbformat.v4.new_code_cell(exploration(rng)))
        nbformat.write(nb, str(folder / f"student{index:04d}.ipynb"))
    return copies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    assignment = load_assignment("perceptron")
    with tempfile.TemporaryDirectory(prefix="neurograde-bench-") as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        start = time.perf_counter()
        copies = generate(folder, args.n, args.seed)
        print(f"generated {args.n} submissions in {time.perf_counter() - start:.1f} s")
        for label, options in [("default options", SimilarityOptions()),
                               ("common-code filter off", SimilarityOptions(common_fraction=1.0))]:
            start, cpu = time.perf_counter(), time.process_time()
            report = compare(assignment, [folder], options)
            write_report(report, Path(tmp) / "report")
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            caught = sum(1 for a, b in copies if (p := report.pair(a, b)) and p.flagged)
            print(f"{label}: {elapsed:.2f} s wall ({cpu:.2f} s CPU, one process) for "
                  f"{len(report.submissions)} submissions = {elapsed / args.n * 1000:.1f} ms per "
                  f"submission; {len(report.pairs)} pairs in the CSV, {len(report.flagged)} "
                  f"flagged ({caught} of the {len(copies)} renamed copies), "
                  f"{report.common} common fingerprints ignored")


if __name__ == "__main__":
    main()
