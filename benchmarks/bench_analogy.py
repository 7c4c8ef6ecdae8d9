"""Time gensim's evaluate_word_analogies against reference/embeddings.analogy_accuracy.

Both run in this one process on the same GloVe 6B 50d vectors and the same
questions-words.txt, with restrict_vocab=30000 and case-insensitive matching. The goal is
a reference at least 3x faster than gensim (which scores one question per call).

    /opt/neurograde/venv/bin/python benchmarks/bench_analogy.py [--repeat 5]

Each side gets one untimed warm-up call first (page-in of the memory-mapped vectors,
BLAS thread start-up), then the calls alternate so that a noisy neighbour slows both
sides alike; the best and median times are reported, and the ratio uses the best.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # run from anywhere, without installing the package

from neurograde.data.glove import analogy_questions_path, load_glove  # noqa: E402


def load_reference():
    # reference/ is not a package; load the file directly, as the grader does.
    spec = importlib.util.spec_from_file_location("_ref_embeddings", ROOT / "reference" / "embeddings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per side (default 5)")
    parser.add_argument("--restrict-vocab", type=int, default=30000)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    try:
        from gensim.models import KeyedVectors
    except ImportError:
        print("gensim is not installed: pip install gensim==4.4.0", file=sys.stderr)
        return 2
    ref = load_reference()
    E, vocab = load_glove()
    path = str(analogy_questions_path())
    kv = KeyedVectors(E.shape[1], count=0, dtype=np.float32)
    kv.add_vectors(vocab, np.array(E))

    def run_gensim():
        score, sections = kv.evaluate_word_analogies(
            path, restrict_vocab=args.restrict_vocab, case_insensitive=True)
        total = sections[-1]
        return score, len(total["correct"]) + len(total["incorrect"])

    def run_reference():
        return ref.analogy_accuracy(E, vocab, path, restrict_vocab=args.restrict_vocab)

    results = {"gensim": run_gensim(), "reference": run_reference()}   # warm-up
    times = {"gensim": [], "reference": []}
    for _ in range(args.repeat):
        for name, fn in (("gensim", run_gensim), ("reference", run_reference)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)

    print(f"GloVe 6B 50d, {Path(path).name}, restrict_vocab={args.restrict_vocab}, "
          f"{args.repeat} timed calls per side")
    for name in ("gensim", "reference"):
        acc, n = results[name]
        print(f"  {name:<9} accuracy {acc:.6f} over {n} questions   "
              f"best {min(times[name]):.3f} s   median {statistics.median(times[name]):.3f} s")
    ratio = min(times["gensim"]) / min(times["reference"])
    same = (abs(results["gensim"][0] - results["reference"][0]) <= 1e-9
            and results["gensim"][1] == results["reference"][1])
    print(f"  ratio gensim/reference (best times): {ratio:.1f}x "
          f"({'meets' if ratio >= 3 else 'MISSES'} the 3x goal)")
    print(f"  results {'agree' if same else 'DISAGREE'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
