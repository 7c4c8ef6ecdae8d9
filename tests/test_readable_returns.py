"""Every value a stub's docstring allows is read: a correct submission whose functions return
numpy scalars, 0-d arrays, float32 scalars, -inf, lists instead of tuples, torch scalars or
non-contiguous tensors gets full marks, graded through the real path (sandbox, wire format,
judge).

Each notebook is the reference with every question's functions wrapped so that their return
values come back converted (one conversion per notebook). Other functions that call a wrapped
one by its global name see the converted value too, as they would see a student's.
"""

from __future__ import annotations

import inspect
import pytest

from assignment_grading import feedback, grade, notebook_with_code
from neurograde.examples import write_reference_submission
from neurograde.release import solution_source
from neurograde.spec import load_assignment

# Defined in every question cell; the conversions a docstring allows. A float may come back
# as np.float64 ("numpy"), a 0-d array ("zero_d"), np.float32 ("float32") or, in the torch
# assignments, a 0-d tensor ("torch", which also hands tensors back as non-contiguous views
# that keep their gradients); "sequences" returns lists where the code returned tuples, and
# the arrays of the functions in LISTS as nested lists.
CONVERTER = '''
import sys as _sys

import numpy as _np


def _convert(value, mode, arrays_to_lists=False):
    """value, with its numbers, sequences or tensors in another type the docstring allows."""
    torch = _sys.modules.get("torch")
    again = lambda v: _convert(v, mode, arrays_to_lists)
    if isinstance(value, tuple):
        items = [again(v) for v in value]
        return items if mode == "sequences" else tuple(items)
    if isinstance(value, list):
        return [again(v) for v in value]
    if isinstance(value, dict):
        return {k: again(v) for k, v in value.items()}
    if isinstance(value, _np.ndarray):
        return value.tolist() if mode == "sequences" and arrays_to_lists else value
    if torch is not None and isinstance(value, torch.Tensor):
        # stacking and taking one half back: the same values and gradients, other strides
        return torch.stack([value, value], dim=-1)[..., 0] if mode == "torch" else value
    if isinstance(value, (bool, _np.bool_)):
        return {"numpy": _np.bool_, "zero_d": _np.array}.get(mode, bool)(value)
    if isinstance(value, (int, _np.integer)):
        return {"numpy": _np.int64, "zero_d": _np.array}.get(mode, int)(value)
    if isinstance(value, (float, _np.floating)):
        convert = {"numpy": _np.float64, "zero_d": _np.array, "float32": _np.float32,
                   "torch": getattr(torch, "tensor", float)}.get(mode, float)
        return convert(value)
    if isinstance(value, str) and mode == "numpy":
        return _np.str_(value)
    return value
'''

WRAPPER = '''
_reference_{name} = {name}


def {name}(*args, **kwargs):
    return _convert(_reference_{name}(*args, **kwargs), {mode!r}, {lists!r})
'''

# Functions whose docstring leaves the kind of sequence open (arrays or lists).
LISTS = {
    "perceptron": {"train_perceptron"},  # (w, b, mistakes): mistakes[e] counts epoch e
}
# Functions whose checks' tolerances leave room for float32's seven digits (elsewhere a check
# asks for more, e.g. glorot's formulas within 1e-12, an accuracy within 1e-9, or central
# differences of compute_cost).
FLOAT32 = {
    "embeddings": {"cosine_similarity", "most_similar", "analogy"},   # within 1e-5
    "autoencoder": {"train_epoch", "pca_reconstruction_mse"},         # within 1e-4 relative
}

NUMPY_MODES = ("numpy", "zero_d", "sequences")
MODES = {slug: NUMPY_MODES for slug in ("perceptron", "backprop", "glorot", "gradient_descent",
                                        "gan", "embeddings")}
MODES.update({slug: (*NUMPY_MODES, "torch") for slug in ("vae", "autoencoder")})
for slug in FLOAT32:
    MODES[slug] += ("float32",)


def _wrapped(slug: str, name: str, mode: str) -> bool:
    return mode != "float32" or name in FLOAT32.get(slug, ())


def converted_sources(assignment, mode: str) -> dict[str, str]:
    """Each question cell: the reference's code, then every function it defines rebound to a
    wrapper returning the converted value (classes are left as they are)."""
    sources = {}
    for q in assignment.questions:
        if not q.defines:
            continue
        parts = [CONVERTER, solution_source(assignment, q.id, assignment.reference)]
        for name in q.defines:
            if inspect.isfunction(getattr(assignment.reference, name)) and \
                    _wrapped(assignment.slug, name, mode):
                parts.append(WRAPPER.format(name=name, mode=mode,
                                            lists=name in LISTS.get(assignment.slug, ())))
        sources[q.id] = "\n".join(parts)
    return sources


def submission(assignment, mode: str, folder):
    """A submission of the converted notebook; with the reference's other files (e.g. the
    autoencoder's checkpoint) where the assignment needs them."""
    written = write_reference_submission(assignment, folder / mode)
    notebook = written / f"{assignment.slug}.ipynb" if written.is_dir() else written
    notebook_with_code(assignment, converted_sources(assignment, mode), notebook)
    return written


@pytest.mark.parametrize("slug", sorted(MODES))
def test_allowed_return_types_get_full_marks(slug, tmp_path, box):
    """For each conversion the assignment's docstrings allow, the reference with converted
    return values passes every check (gan_value's -inf included: a check asks for it)."""
    assignment = load_assignment(slug)
    paths = [submission(assignment, mode, tmp_path / "subs") for mode in MODES[slug]]
    results = grade(assignment, paths, tmp_path / "out")
    wrong = {}
    for mode in MODES[slug]:
        result = results[mode]
        failed = [(c.id, c.feedback) for c in result.checks if c.status != "passed"]
        if result.status != "ok" or result.cell_errors or failed:
            wrong[mode] = (result.status, result.message, failed)
        elif result.total != pytest.approx(assignment.possible, abs=1e-9):
            wrong[mode] = feedback(result)
    assert not wrong, wrong


def test_the_wrappers_convert(tmp_path):
    """The converter itself: the wrapped values really change type (else the grading test
    above proves nothing)."""
    import numpy as np
    namespace = {}
    exec(CONVERTER, namespace)
    convert = namespace["_convert"]
    assert type(convert(-float("inf"), "numpy")) is np.float64
    assert isinstance(convert(0.5, "zero_d"), np.ndarray) and convert(0.5, "zero_d").ndim == 0
    assert type(convert([1, (2.0, "a")], "float32")[1][0]) is np.float32
    assert convert((np.zeros(2), 3), "sequences", True) == [[0.0, 0.0], 3]
    assert type(convert({"n": 3}, "numpy")["n"]) is np.int64
    import torch
    t = torch.ones(2, 3, requires_grad=True)
    view = convert(t, "torch")
    assert not view.is_contiguous() and view.requires_grad and torch.equal(view, t)
    assert isinstance(convert(0.25, "torch"), torch.Tensor)
