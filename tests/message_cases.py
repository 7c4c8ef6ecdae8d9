"""Made-up wrong outputs for the property judges and wrong return values for the probes, used by
test_messages_catalog.py to check that what the grader says renders in every language.

CASES[slug]() yields (judge name, inputs, outputs, expected) with small made-up data (no
CIFAR-10, no GloVe); the *_refusals generators yield the WrongReturn a probe raises.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from neurograde import checklib
from neurograde.spec import load_assignment


def _glorot_cases():
    rng = np.random.default_rng(3)
    n_in, n_out = 60, 40
    variance = 2 / (n_in + n_out)
    limit, std = (3 * variance) ** 0.5, variance ** 0.5
    base = {"n_in": n_in, "n_out": n_out, "_limit": limit, "_variance": variance, "_std": std}
    samples = [rng.uniform(0, limit, (n_in, n_out)), rng.normal(0, 1, (n_in, n_out)),
               rng.normal(0, std, (n_out, n_in)), np.full((n_in, n_out), np.nan), [[1.0]],
               rng.uniform(-limit, limit, (n_in, n_out)), rng.normal(0, std, (3, 3))]
    for show in (False, True):
        for W in samples:
            for judge in ("glorot_uniform_sample", "glorot_normal_sample"):
                yield judge, {**base, "_show_numbers": show}, {"W": np.asarray(W)}, None
    layers = {"n_layers": 4}
    good = {"glorot": [0.1] * 4, "small": [1e-12] * 4, "large": [0.9] * 4}
    for wrong in ({"glorot": [1.5] * 4}, {"glorot": [0.001] * 4}, {"small": [0.1] * 4},
                  {"large": [0.1] * 4}, {"glorot": [0.1] * 5}, {"glorot": [0.1] * 2},
                  {"glorot": ["a"] * 4}, {"glorot": [float("nan")] * 4}, {"glorot": 0.1},
                  {"glorot": [0.2] * 4}):
        yield "activation_band", layers, {**good, **wrong}, good


def _gan_cases():
    xs = np.linspace(-3, 3, 7)
    density = np.exp(-xs ** 2 / 2) / np.sqrt(2 * np.pi)
    inputs = {"xs": xs, "pr_x": density, "pg_x": density}
    expected = {"best": -1.0, "others": [-1.1, -1.2]}
    for out in ({"best": -1.0, "others": [-1.1, -0.5]}, {"best": -1.5, "others": [-1.1, -1.2]},
                {"best": float("nan"), "others": [-1.1, -1.2]}, {"best": "x", "others": []},
                {"others": []}, {"best": -1.0, "others": [-1.1]},
                {"best": -1.0, "others": [-0.9, -0.8]}):
        yield "d_star_maximizes", inputs, out, expected
    mass = 2 * float(0.5 * np.dot(np.diff(xs), density[1:] + density[:-1]))
    for out in ({"value": 0.1, "jsd": 0.2}, {"value": 2 * 0.3 - np.log(2) * mass, "jsd": 0.3},
                {"value": None, "jsd": 0.0}):
        yield "optimum_identity", inputs, out, {"value": -np.log(4.0), "jsd": 0.0}


def _gradient_descent_cases():
    A = np.diag([1.0, 4.0])
    inputs = {"A": A, "b": np.ones(2), "x0": np.zeros(2), "n_steps": 200,
              "factors": [0.5, 1.5]}
    for lr in (1.0, 0.1, float("inf"), "x", 0.4999):
        yield "stability", inputs, {"lr_max": lr}, {"lr_max": 0.5}
    yield "stability", inputs, {}, {"lr_max": 0.5}


def _backprop_cases():
    rng = np.random.default_rng(0)
    shapes = {"W1": (3, 2), "b1": (3, 1), "W2": (1, 3), "b2": (1, 1)}
    params = {k: rng.normal(size=s) for k, s in shapes.items()}
    # the course's central differences: a judge-only input
    numeric = {k: rng.normal(size=s) for k, s in shapes.items()}
    inputs = {"params": params, "_numeric": numeric}
    wrong = {"dW1": -numeric["W1"], "db1": numeric["b1"] * 3, "dW2": np.zeros((7, 7)),
             "db2": np.array([[np.inf]])}
    yield "gradient_check", inputs, {"analytic": wrong}, None
    yield "gradient_check", inputs, {"analytic": {"dW1": "s"}}, None
    yield "gradient_check", inputs, {"analytic": "nope"}, None


def _embeddings_cases():
    inputs = {"unknown": "zebra"}
    want = {"raises": checklib.Raised("KeyError")}
    for out in ({"raises": checklib.Raised(None), "message": ""},
                {"raises": checklib.Raised("ValueError"), "message": "zebra"},
                {"raises": checklib.Raised("KeyError"), "message": "not found"}, {}):
        yield "one_hot_unknown", inputs, out, want


def _autoencoder_cases():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)
    clean = images.astype(float).transpose(0, 3, 1, 2) / 255
    noisy = np.clip(clean + rng.normal(0, 0.2, clean.shape), 0, 1)
    for explain in (False, True):
        flag = {"explain": True} if explain else {}
        inputs = {"images": images, "pca_mse": 1e-3, "noise_std": 0.2, **flag}
        for recon in (np.clip(clean + 0.05, 0, 1), np.clip(clean + 0.2, 0, 1), clean * 2,
                      clean[:2], clean * np.nan, clean):
            yield "reconstruction_vs_pca", inputs, {"reconstructions": recon}, None
        for denoised in (noisy, (noisy + clean) / 2, clean[:1], clean):
            yield "denoising_gain", inputs, {"noisy": noisy, "denoised": denoised}, None
        labels = np.arange(20) % 10
        probe = {"train_images": images, "test_images": images[:5], "train_labels": labels,
                 "test_labels": labels[:5], **flag}
        probe["train_images"] = np.zeros((20, 1))
        probe["test_images"] = np.zeros((10, 1))
        probe["test_labels"] = labels[:10]
        codes = np.eye(10)[labels]
        for train, test in ((codes, codes[:10]), (codes, np.zeros((10, 10))),
                            (codes[:3], codes[:10]), (codes, codes[:10] * np.nan),
                            (codes + rng.normal(0, 0.6, codes.shape), codes[:10])):
            yield "linear_probe", probe, {"train_features": train, "test_features": test}, None


CASES = {"autoencoder": _autoencoder_cases, "backprop": _backprop_cases,
         "embeddings": _embeddings_cases, "gan": _gan_cases, "glorot": _glorot_cases,
         "gradient_descent": _gradient_descent_cases}


def embeddings_refusals():
    """Embeddings probes given wrong return values: the WrongReturn they raise."""
    probes = load_assignment("embeddings").probes
    vocab = ["a", "b", "c", "d"]
    E = np.eye(4)
    returns = [5, [("a",)], [(1, 0.5)], [("a", "x")], [("a", [1, 2])], [("a", object())]]
    for value in returns:
        names = {"most_similar": lambda *a, value=value, **k: value,
                 "analogy": lambda *a, value=value, **k: value}
        for call in (lambda ns: probes.most_similar(ns, [{"query": "a", "k": 2,
                                                          "exclude": []}], E, vocab),
                     lambda ns: probes.most_similar(ns, [{"query": [1, 0, 0, 0], "k": 2,
                                                          "exclude": []}], E, vocab),
                     lambda ns: probes.analogy(ns, [["a", "b", "c"]], 2, E, vocab)):
            with pytest.raises(checklib.WrongReturn) as info:
                call(names)
            yield info.value
    with pytest.raises(checklib.WrongReturn) as info:
        probes.analogy_accuracy({"analogy_accuracy": lambda *a, **k: 0.5}, [None],
                                [["a", "b", "c", "d"]], E, vocab)
    yield info.value


def autoencoder_refusals(folder: Path):
    """The autoencoder's refusals (return values, checkpoints): the WrongReturn raised."""
    import torch
    assignment = load_assignment("autoencoder")
    probes, reference = assignment.probes, assignment.reference
    ns = {"Autoencoder": reference.Autoencoder}
    calls = [lambda: probes._as_tensor([1.0], "encode"),
             lambda: probes._as_tensor_grad(torch.zeros(2), "forward"),
             lambda: probes._batched(lambda x: x.tolist(), torch.zeros(3, 1))]
    model = reference.Autoencoder(64)
    contents = [{"model": torch.nn.Linear(2, 2)}, {"state": model.state_dict(), "epoch": 3},
                {k: v.to(torch.int32) for k, v in model.state_dict().items()},
                reference.Autoencoder(8).state_dict()]
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        calls.append(lambda: probes.load_checkpoint(ns))  # no file yet
        for content in contents:
            calls.append(lambda content=content: (torch.save(content, "autoencoder.pt"),
                                                  probes.load_checkpoint(ns)))
        calls.append(lambda: (Path("autoencoder.pt").write_bytes(b"not torch"),
                              probes.load_checkpoint(ns)))
        for call in calls:
            with pytest.raises(checklib.WrongReturn) as info:
                call()
            yield info.value
    finally:
        os.chdir(cwd)
    read = assignment.checks_module.read_checkpoint
    (folder / "autoencoder.pt").write_bytes(b"x" * 64)
    for files, limit in (((), 1000), ((folder / "autoencoder.pt",), 10)):
        with pytest.raises(checklib.WrongReturn) as info:
            read(SimpleNamespace(root=folder, files=files), limit=limit)
        yield info.value
