"""The files an example submission carries besides its notebook (see autograder/examples.py).

correct: the reference checkpoint; partly_wrong: the same training stopped after a few hundred
steps (files/autoencoder-weak.pt, stored in float16: load_state_dict casts it); broken: a file
that bundles the weights with a pickled object of a custom class, which the grader must refuse.
Both checkpoints are written by scripts/train_autoencoder_reference.py.
"""

import shutil
from pathlib import Path

import torch

FILES = Path(__file__).resolve().parent / "files"
CHECKPOINT = "autoencoder.pt"
SOURCES = {"correct": FILES / "autoencoder.pt", "partly_wrong": FILES / "autoencoder-weak.pt"}


class TrainingRun:
    """What a student might bundle with the weights: torch.load(weights_only=True) refuses it."""

    def __init__(self, epochs, state_dict):
        self.epochs = epochs
        self.state_dict = state_dict


def write(kind, folder):
    folder = Path(folder)
    target = folder / CHECKPOINT
    if kind in SOURCES:
        shutil.copy(SOURCES[kind], target)
    elif kind == "broken":
        write_pickled_object(target)
    else:
        raise ValueError(f"unknown example kind {kind!r}; expected correct, partly_wrong or "
                         f"broken")
    return target


def write_pickled_object(target):
    """A checkpoint holding a custom object besides the tensors (refused when graded)."""
    state = torch.load(SOURCES["partly_wrong"], map_location="cpu", weights_only=True)
    torch.save({"run": TrainingRun(epochs=1, state_dict=state)}, target)
    return target
