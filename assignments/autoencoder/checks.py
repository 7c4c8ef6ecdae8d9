"""Autoencoder checks: inputs and tolerances (trusted side). Points add up per question.

Inputs are real CIFAR-10 images (uint8, as the loader returns them), found by the loader's
lookup ($NEUROGRADE_DATA, ../shared/datasets, the user cache). Public checks use fixed images;
hidden ones draw a class-balanced set from the grading seed. The trained-model checks (q7)
compare the submitted checkpoint with PCA using the same number of components, fitted here.
"""

from functools import lru_cache

import torch

from autograder.checklib import EXACT, Tol
from autograder.data.cifar10 import load_cifar10, sample_indices
from autograder.spec import Check

LATENT_DIM = 64
PCA_FIT_PER_CLASS = 1000   # the baseline PCA is fitted on 10,000 training images
PCA_SEED = 2024
PUBLIC_SEED = 11
NOISE_STD = 0.2
STEPS = 40                 # Adam steps on one batch of 10 images for "the loss falls"
FLOAT = Tol(atol=1e-6, rtol=1e-5)
TRAINING = Tol(atol=1e-6, rtol=1e-4)  # a few float32 SGD steps: summation order may differ
PCA_TOL = Tol(atol=1e-7, rtol=1e-3)   # float32 or float64, SVD or eigh: all within 0.1 %


@lru_cache(maxsize=None)
def _split(split):
    X, y, _ = load_cifar10(split=split)
    return X, y


def _pick(split, per_class, seed):
    """per_class images of every class (uint8 (N, 32, 32, 3)) and their labels."""
    X, y = _split(split)
    idx = sample_indices(y, per_class, int(seed))
    return X[idx], y[idx]


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
    return _pick("test", per_class, _seed(rng))[0]


def _structure(rng, latent_dim, n):
    return dict(images=_hidden_images(rng, 1)[:n], latent_dim=latent_dim)


def _tied(rng, latent_dim, hidden, n=6):
    return dict(images=_hidden_images(rng, 1)[:n], latent_dim=latent_dim, hidden=hidden)


def _train_epoch(images, batch_size=8, epochs=1, noise_std=0.0, with_labels=False):
    # Plain SGD is linear in the gradients, so equivalent ways of writing the loss agree to
    # rounding; lr 30 is large enough for a missing zero_grad to move the weights by ~1e-2.
    # Batches always divide the images evenly: the mean of batch losses, weighted or not,
    # is then the same number.
    return dict(images=images, batch_size=batch_size, epochs=epochs, noise_std=noise_std,
                lr=30.0, with_labels=with_labels)


def _pca(rng, n_train, n_test, k, crop):
    seed = _seed(rng)
    train = _pick("train", n_train // 10, seed)[0]
    test = _pick("test", n_test // 10, seed)[0]
    return _pca_inputs(train, test, k, crop)


def _pca_inputs(train, test, k, crop):
    # Top-left crops (N, crop, crop, 3): PCA of full images (D = 3072) costs seconds per call,
    # in the sandbox and for every known mistake alike.
    return dict(train_images=train[:, :crop, :crop], test_images=test[:, :crop, :crop], k=k)


def _reconstruction(images, show=8):
    return dict(images=images, show=show, pca_mse=pca_mse(images))


def _denoising(rng):
    return dict(images=_hidden_images(rng, 20), noise_std=NOISE_STD, seed=_seed(rng))


def _linear_probe(rng):
    seed = _seed(rng)
    train, train_labels = _pick("train", 50, seed)
    test, test_labels = _pick("test", 50, seed)
    return dict(train_images=train, test_images=test, train_labels=train_labels,
                test_labels=test_labels)


def checks():
    structure = {"code_shape": EXACT, "output_shape": EXACT, "forward_shape": EXACT,
                 "forward_is_decode_of_encode": EXACT, "output_in_unit_range": EXACT}
    tied = {**structure, "weight_elements": EXACT,
            "decoder_gradient_reaches_every_weight": EXACT,
            "encoder_gradient_reaches_every_weight": EXACT}
    noise = {"noisy": FLOAT, "input_unchanged": EXACT}
    return [
        # q1: the convolutional (or any) autoencoder of your design
        Check("q1", "Autoencoder(64) on 4 test images", "autoencoder_structure",
              lambda rng: dict(images=_public_images(4), latent_dim=LATENT_DIM),
              points=1.0, tol=structure),
        Check("q1", "another latent size, odd batch size", "autoencoder_structure",
              lambda rng: _structure(rng, int(rng.choice([16, 128])), int(rng.integers(1, 8))),
              points=1.0, hidden=True, tol=structure),
        Check("q1", "a few Adam steps lower the loss", "autoencoder_trains",
              lambda rng: dict(images=_hidden_images(rng, 1), latent_dim=LATENT_DIM,
                               steps=STEPS, lr=1e-3),
              points=2.0, hidden=True, judge="loss_falls"),
        # q2: tied weights
        Check("q2", "TiedAutoencoder(32, hidden=128) on 4 test images", "tied_structure",
              lambda rng: dict(images=_public_images(4), latent_dim=32, hidden=128),
              points=1.5, tol=tied),
        Check("q2", "default hidden width, latent 64", "tied_structure",
              lambda rng: _tied(rng, LATENT_DIM, None), points=1.0, hidden=True, tol=tied),
        Check("q2", "tied model learns on a fixed batch", "tied_trains",
              lambda rng: dict(images=_hidden_images(rng, 1), latent_dim=LATENT_DIM,
                               hidden=256, steps=STEPS, lr=1e-3),
              points=0.5, hidden=True, judge="loss_falls"),
        # q3: add_noise
        Check("q3", "std 0.1 on 4 test images, generator seed 0", "add_noise",
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
              points=0.5, hidden=True, tol=EXACT),
        # q4: train_epoch, on a small fixed model
        Check("q4", "one epoch, 3 batches of 8, no noise", "train_epoch",
              lambda rng: _train_epoch(_public_images(24)), points=1.0, tol=TRAINING),
        Check("q4", "three epochs over (images, labels) batches", "train_epoch",
              lambda rng: _train_epoch(_hidden_images(rng, 3), batch_size=10, epochs=3,
                                       with_labels=True),
              points=1.0, hidden=True, tol=TRAINING),
        Check("q4", "denoising: noisy inputs, clean targets", "train_epoch",
              lambda rng: _train_epoch(_hidden_images(rng, 2), batch_size=5, epochs=2,
                                       noise_std=0.3),
              points=1.0, hidden=True, tol=TRAINING),
        Check("q4", "denoising with labelled batches", "train_epoch",
              lambda rng: _train_epoch(_hidden_images(rng, 2), batch_size=4, epochs=2,
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
        # q7: the trained checkpoint autoencoder.pt (never retrained here)
        Check("q7", "autoencoder.pt reconstructs 100 test images", "checkpoint_reconstruction",
              lambda rng: _reconstruction(_pick("test", 10, PUBLIC_SEED)[0]),
              points=1.0, judge="reconstruction_vs_pca"),
        Check("q7", "test MSE against PCA on 500 images", "checkpoint_reconstruction",
              lambda rng: _reconstruction(_hidden_images(rng, 50)),
              points=2.0, hidden=True, judge="reconstruction_vs_pca"),
        Check("q7", "denoising gain at noise std 0.2", "checkpoint_denoising", _denoising,
              points=1.5, hidden=True, judge="denoising_gain"),
        Check("q7", "linear probe on the codes", "checkpoint_features", _linear_probe,
              points=1.5, hidden=True, judge="linear_probe"),
    ]
