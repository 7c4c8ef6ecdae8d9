"""Autoencoder checks: inputs and tolerances (trusted side). Points add up per question.

Inputs are real CIFAR-10 images (uint8, as the loader returns them), found by the loader's
lookup ($NEUROGRADE_DATA, ../shared/datasets, the user cache). Public checks use fixed images;
hidden ones draw a class-balanced set from the grading seed.

Models of q1 and q2 get weights chosen here (the probes refill every parameter from a seeded
generator), so their codes, outputs and gradients are compared with the reference's own.

train_epoch (q4) is graded on its own: in its denoising checks the notebook's add_noise (q3)
stands in for the noisy batches computed here (_noisy_batches), so a wrong add_noise costs
q3's points only. Every train_epoch check ends on a smaller batch, so a mean of the batch
losses that does not weight them by batch size shows. No check is of input validation.

The trained-model checks (q7) are judge-only (parent_namespace): the grader reads the
submitted autoencoder.pt itself (no link followed, size capped), loads it with weights_only
into its own copy of the question-1 architecture, and runs the q7 probes on images drawn from
a part of CIFAR-10 that no sandboxed check ever draws from; the images and the linear probe's
labels never enter the job sent to the sandbox. PCA with the same number of components, fitted
here, is the baseline.
"""

import os
import stat
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from neurograde.checklib import EXACT, Tol, WrongReturn, say
from neurograde.data.cifar10 import load_cifar10, sample_indices
from neurograde.spec import REFERENCE_DIR, Check, _load_module

LATENT_DIM = 64
PCA_FIT_PER_CLASS = 1000   # the baseline PCA is fitted on 10,000 training images
PCA_SEED = 2024
PUBLIC_SEED = 11
NOISE_STD = 0.2
FLOAT = Tol(atol=1e-6, rtol=1e-5)
NETWORK = Tol(atol=1e-5, rtol=1e-4)   # float32 convolutions: summation order may differ
GRADIENT = Tol(atol=1e-8, rtol=1e-3)  # gradients of a mean over ~10^4 pixels are ~1e-4
TRAINING = Tol(atol=1e-6, rtol=1e-4)  # a few float32 SGD steps: summation order may differ
PCA_TOL = Tol(atol=1e-7, rtol=1e-3)   # float32 or float64, SVD or eigh: all within 0.1 %
CHECKPOINT = "autoencoder.pt"
# A state_dict of Autoencoder(64) is about 2.4 MB in float32 (4.8 MB in float64); anything far
# larger is not one, and is refused before a byte of it is loaded.
CHECKPOINT_MAX_BYTES = 32 * 1024 * 1024


@lru_cache(maxsize=None)
def _split(split):
    X, y, _ = load_cifar10(split=split)
    return X, y


def _pick(split, per_class, seed, pool=None):
    """per_class images of every class (uint8 (N, 32, 32, 3)) and their labels, drawn from
    the indices in pool (None: the whole split)."""
    X, y = _split(split)
    if pool is None:
        idx = sample_indices(y, per_class, int(seed))
    else:
        idx = pool[sample_indices(y[pool], per_class, int(seed))]
    return X[idx], y[idx]


@lru_cache(maxsize=None)
def _pool(split, side):
    """The image indices a side draws hidden images from: sandboxed checks the even-numbered
    images of every class, the grader's own q7 checks the odd-numbered ones minus the public
    images, so that no image of a judge-only check is ever in a job sent to the sandbox.
    Numbered within each class: the splits list the classes in turn (0, 1, ..., 9, 0, ...),
    so a parity of the index itself would give each side half of the classes."""
    _, y = _split(split)
    rank = np.empty(len(y), dtype=np.int64)
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        rank[members] = np.arange(len(members))
    side_ones = np.flatnonzero(rank % 2 == (0 if side == "sandbox" else 1))
    if side == "sandbox":
        return side_ones
    public = sample_indices(y, 20 if split == "train" else 10, PUBLIC_SEED)
    return np.setdiff1d(side_ones, public)


def _seed(rng):
    return int(rng.integers(0, 2**31 - 1))


@lru_cache(maxsize=None)
def pca_basis(k=LATENT_DIM):
    """Mean (D,) and top-k principal directions (D, k) of 10,000 training images.

    Block power iteration with a fixed start and Rayleigh-Ritz: within 0.01 % of the exact
    eigendecomposition's test MSE at a tenth of its time.
    """
    X, _ = _pick("train", PCA_FIT_PER_CLASS, PCA_SEED)
    A = torch.from_numpy(X).permute(0, 3, 1, 2).reshape(len(X), -1).to(torch.float32) / 255.0
    mean = A.mean(dim=0)
    A = A - mean
    # float32 halves the time; the baseline MSE moves by 0.02 %.
    Q = torch.randn(A.shape[1], k + 32, generator=torch.Generator().manual_seed(0))
    for _ in range(6):
        Q = torch.linalg.qr(A.T @ (A @ Q)).Q
    _, _, Vh = torch.linalg.svd(A @ Q, full_matrices=False)
    return mean.to(torch.float64), (Q @ Vh.T[:, :k]).to(torch.float64)


def pca_mse(images, k=LATENT_DIM):
    """MSE per pixel of the images (uint8 HWC) reconstructed from the baseline PCA."""
    mean, P = pca_basis(k)
    B = torch.from_numpy(images).permute(0, 3, 1, 2).reshape(len(images), -1)
    B = B.to(torch.float64) / 255.0 - mean
    return float(((B @ P @ P.T - B) ** 2).mean())


# ------------------------------------------------------------------------------ inputs

def _public_images(n):
    X, _ = _pick("test", 10, PUBLIC_SEED)
    return X[:n]


def _hidden_images(rng, per_class):
    return _pick("test", per_class, _seed(rng), _pool("test", "sandbox"))[0]


def _far_codes(rng, n, latent_dim):
    """Large codes: a decoder not bounded to [0, 1] leaves that range on them."""
    return (50.0 * rng.standard_normal((n, latent_dim))).astype(np.float32)


def _model(images, latent_dim, seed, rng, **more):
    return dict(images=images, latent_dim=latent_dim, seed=seed, **more,
                far_codes=_far_codes(rng, len(images), latent_dim))


def _public_model(n, latent_dim, **more):
    return _model(_public_images(n), latent_dim, PUBLIC_SEED,
                  np.random.default_rng(PUBLIC_SEED), **more)


def _hidden_model(rng, latent_dim, n, **more):
    return _model(_hidden_images(rng, 1)[:n], latent_dim, _seed(rng), rng, **more)


def _train_epoch(images, batch_size=8, epochs=1, noise_std=None, with_labels=False):
    # noise_std None: the probe leaves it to train_epoch's default (no noise).
    # Plain SGD is linear in the gradients, so equivalent ways of writing the loss agree to
    # rounding; lr 30 is large enough for a missing zero_grad to move the weights by ~1e-2.
    # The last batch is smaller than the others (batch_size does not divide the images), so
    # the mean of the batch losses weighted by batch size and the plain mean of the batch
    # losses differ.
    inputs = dict(images=images, batch_size=batch_size, epochs=epochs, noise_std=noise_std,
                  lr=30.0, with_labels=with_labels)
    if noise_std:
        inputs["noisy"] = _noisy_batches(images, batch_size, epochs, noise_std)
    return inputs


def _noisy_batches(images, batch_size, epochs, noise_std):
    """What add_noise stands in with while train_epoch runs (probes.train_epoch): for every
    epoch, the noisy images of each batch, as the reference's add_noise draws them from the
    global generator, which the probe seeds with 100 + epoch before the epoch."""
    reference = _load_module(REFERENCE_DIR / "autoencoder.py",
                             "neurograde_reference_autoencoder")
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    x = x.to(torch.float32).contiguous() / 255.0
    noisy = []
    for epoch in range(epochs):
        generator = torch.Generator().manual_seed(100 + epoch)  # the same stream as the seed
        noisy.append([reference.add_noise(x[i:i + batch_size], noise_std, generator).numpy()
                      for i in range(0, len(x), batch_size)])
    return noisy


def _pca(rng, n_train, n_test, k, crop):
    seed = _seed(rng)
    train = _pick("train", n_train // 10, seed, _pool("train", "sandbox"))[0]
    test = _pick("test", n_test // 10, seed, _pool("test", "sandbox"))[0]
    return _pca_inputs(train, test, k, crop)


def _pca_inputs(train, test, k, crop):
    # Top-left crops (N, crop, crop, 3): PCA of full images (D = 3072) costs seconds per call,
    # in the sandbox and for every known mistake alike.
    return dict(train_images=train[:, :crop, :crop], test_images=test[:, :crop, :crop], k=k)


# ------------------------------------------------------------------------------ q7 (grader only)

def _judge_images(rng, per_class, split="test"):
    return _pick(split, per_class, _seed(rng), _pool(split, "parent"))


def _reconstruction(images, show=8, explain=False):
    return dict(images=images, show=show, pca_mse=pca_mse(images), explain=explain)


def _denoising(rng):
    return dict(images=_judge_images(rng, 20)[0], noise_std=NOISE_STD, seed=_seed(rng))


def _linear_probe(rng):
    train, train_labels = _judge_images(rng, 50, "train")
    test, test_labels = _judge_images(rng, 50, "test")
    return dict(train_images=train, test_images=test, train_labels=train_labels,
                test_labels=test_labels)


def read_checkpoint(submission, limit=CHECKPOINT_MAX_BYTES):
    """The bytes of the submission's autoencoder.pt: only a file of the submission's own
    folder, opened without following a link (O_NOFOLLOW, from the folder's descriptor), a
    regular file of at most `limit` bytes; anything else is refused with a message
    (WrongReturn, worded from messages.toml)."""
    root = Path(submission.root)
    own = {os.path.abspath(f) for f in submission.files}
    save = f"torch.save(model.state_dict(), '{CHECKPOINT}')"
    if os.path.abspath(root / CHECKPOINT) not in own:
        raise WrongReturn(say("autoencoder.not-submitted", file=CHECKPOINT, save=save))
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fd = os.open(CHECKPOINT, flags, dir_fd=folder)
        finally:
            os.close(folder)
    except OSError as exc:
        raise WrongReturn(say("autoencoder.not-opened", file=CHECKPOINT,
                              error=str(exc.strerror))) from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise WrongReturn(say("autoencoder.not-plain", file=CHECKPOINT))
        too_big = WrongReturn(say("autoencoder.too-big", file=CHECKPOINT,
                                  megabytes=limit // (1024 * 1024)))
        if info.st_size > limit:
            raise too_big
        data = fh.read(limit + 1)
    if len(data) > limit:  # grew while being read
        raise too_big
    return data


def submitted_model(submission):
    """The namespace the q7 probes run on in the grader: its own Autoencoder (the reference
    architecture of question 1) and the bytes of the submitted checkpoint."""
    reference = _load_module(REFERENCE_DIR / "autoencoder.py",
                             "neurograde_reference_autoencoder")
    return {"Autoencoder": reference.Autoencoder, "__checkpoint__": read_checkpoint(submission)}


def checks():
    model = {"parameters": EXACT, "codes": NETWORK, "decoded": NETWORK, "forward": NETWORK,
             "decoded_far": NETWORK}
    tied = {**model, "decoder_gradients": GRADIENT, "encoder_gradients": GRADIENT}
    noise = {"noisy": FLOAT, "input_after": EXACT}
    return [
        # q1: the convolutional autoencoder (architecture given in the notebook)
        Check("q1", "Autoencoder(64) on 4 test images", "autoencoder_structure",
              lambda rng: _public_model(4, LATENT_DIM), points=1.0, tol=model),
        Check("q1", "another latent size, odd batch size", "autoencoder_structure",
              lambda rng: _hidden_model(rng, int(rng.choice([16, 128])),
                                        int(rng.integers(1, 8))),
              points=1.0, hidden=True, tol=model),
        Check("q1", "the default latent size; the loss's gradient reaches every layer",
              "autoencoder_gradients",
              lambda rng: dict(images=_hidden_images(rng, 1), latent_dim=None,
                               seed=_seed(rng)),
              points=2.0, hidden=True, tol={"gradients": GRADIENT}),
        # q2: tied weights
        Check("q2", "TiedAutoencoder(8, hidden=16) on 4 test images", "tied_structure",
              lambda rng: _public_model(4, 8, hidden=16), points=1.5, tol=tied),
        Check("q2", "default hidden width, latent 64", "tied_outputs",
              lambda rng: _hidden_model(rng, LATENT_DIM, 6, hidden=None),
              points=1.0, hidden=True, tol=model),
        Check("q2", "the loss's gradient reaches both weight matrices", "tied_gradients",
              lambda rng: dict(images=_hidden_images(rng, 1), latent_dim=16, hidden=32,
                               seed=_seed(rng)),
              points=0.5, hidden=True, tol={"gradients": GRADIENT}),
        # q3: add_noise
        Check("q3", "std 0.1 on 4 test images, a fixed generator", "add_noise",
              lambda rng: dict(images=_public_images(4), std=0.1, seed=0),
              points=1.0, tol=noise),
        Check("q3", "std 0.5 saturates: clamp to [0, 1]", "add_noise",
              lambda rng: dict(images=_hidden_images(rng, 1), std=0.5, seed=_seed(rng)),
              points=1.0, hidden=True, tol=noise),
        Check("q3", "zero std leaves images alone", "add_noise",
              lambda rng: dict(images=_hidden_images(rng, 1)[:3], std=0.0, seed=_seed(rng)),
              points=0.5, hidden=True, tol=noise),
        Check("q3", "noise follows the generator", "add_noise_repeatable",
              lambda rng: dict(images=_hidden_images(rng, 1)[:3], std=0.3, seed=_seed(rng)),
              points=0.5, hidden=True, tol=FLOAT),
        # q4: train_epoch, on a small fixed model
        Check("q4", "one epoch, batches of 8, 8 and 4, no noise (the default)", "train_epoch",
              lambda rng: _train_epoch(_public_images(20)), points=1.0, tol=TRAINING),
        Check("q4", "three epochs over (images, labels) batches", "train_epoch",
              lambda rng: _train_epoch(_hidden_images(rng, 3), batch_size=8, epochs=3,
                                       noise_std=0.0, with_labels=True),
              points=1.0, hidden=True, tol=TRAINING),
        Check("q4", "denoising: noisy inputs, clean targets", "train_epoch",
              lambda rng: _train_epoch(_hidden_images(rng, 2), batch_size=6, epochs=2,
                                       noise_std=0.3),
              points=1.0, hidden=True, tol=TRAINING),
        Check("q4", "denoising with labelled batches", "train_epoch",
              lambda rng: _train_epoch(_hidden_images(rng, 2), batch_size=7, epochs=2,
                                       noise_std=0.1, with_labels=True),
              points=1.0, hidden=True, tol=TRAINING),
        # q5: the PCA baseline
        Check("q5", "k=16 on 16x16 crops, 200 training and 50 test images",
              "pca_reconstruction_mse",
              lambda rng: _pca_inputs(_pick("train", 20, PUBLIC_SEED)[0],
                                      _pick("test", 5, PUBLIC_SEED)[0], 16, 16),
              points=1.0, tol={"mse": PCA_TOL}),
        Check("q5", "12x12 crops, k=32, 300 training images", "pca_reconstruction_mse",
              lambda rng: _pca(rng, 300, 100, 32, 12), points=1.0, hidden=True,
              tol={"mse": PCA_TOL}),
        Check("q5", "8x8 crops, k=5", "pca_reconstruction_mse",
              lambda rng: _pca(rng, 400, 100, 5, 8), points=1.0, hidden=True,
              tol={"mse": PCA_TOL}),
        # q6: encoder_features, on a small fixed model that has dropout
        Check("q6", "features of 10 test images", "encoder_features",
              lambda rng: dict(images=_public_images(10), latent_dim=12, dropout=0.5),
              points=1.0, tol={"features": FLOAT}),
        Check("q6", "300 images in one call", "encoder_features",
              lambda rng: dict(images=_hidden_images(rng, 30), latent_dim=20, dropout=0.3),
              points=1.0, hidden=True, tol={"features": FLOAT}),
        # q7: the submitted autoencoder.pt, evaluated by the grader itself (never retrained)
        Check("q7", "autoencoder.pt reconstructs 100 test images", "checkpoint_reconstruction",
              lambda rng: _reconstruction(_pick("test", 10, PUBLIC_SEED)[0], explain=True),
              points=1.0, judge="reconstruction_vs_pca", parent_namespace=submitted_model),
        Check("q7", "test MSE against PCA on 500 images", "checkpoint_reconstruction",
              lambda rng: _reconstruction(_judge_images(rng, 50)[0]),
              points=2.0, hidden=True, judge="reconstruction_vs_pca",
              parent_namespace=submitted_model),
        Check("q7", "denoising gain at noise std 0.2", "checkpoint_denoising", _denoising,
              points=1.5, hidden=True, judge="denoising_gain", parent_namespace=submitted_model),
        Check("q7", "linear probe on the codes", "checkpoint_features", _linear_probe,
              points=1.5, hidden=True, judge="linear_probe", parent_namespace=submitted_model),
    ]
