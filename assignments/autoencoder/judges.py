"""Judges of the trained checkpoint (q7): every measurement, computed from raw outputs.

Each judge gets (inputs, outputs, expected) and returns (fraction of the points, messages).
The outputs are the raw tensors of the q7 probes (reconstructions, denoised images, codes);
the grader computes them itself from the submitted autoencoder.pt, and the judge computes the
MSE, the denoising gain and the linear-probe accuracy here, against the images and labels in
the inputs, which never enter the sandbox. They are embedded in the otter test files too, so:
numpy only, no reference, no data files. The thresholds were measured with
scripts/train_autoencoder_reference.py; the numbers behind them are in README.md.

Messages of hidden checks (inputs without "explain") say what kind of result it is and hold
no digit at all: the expected values and the tolerances stay with the grader. Messages are
data (checklib.say); their wording in each language is in messages.toml.
"""

import math

import numpy as np

from checklib import say

# Reconstruction: test-set MSE divided by the MSE of PCA with the same number of components
# (64), fitted on 10,000 training images. Full marks at or below FULL, none at or above ZERO,
# linear in between.
RECON_FULL_RATIO = 1.0
RECON_ZERO_RATIO = 2.5
# Denoising: MSE(noisy, clean) / MSE(model(noisy), clean) with Gaussian noise of std 0.2.
DENOISE_FULL_GAIN = 3.0
DENOISE_ZERO_GAIN = 1.0
# Linear probe: accuracy of a ridge classifier on the codes (10 classes, chance 0.10), fitted
# on 500 training images and scored on 500 test images. Random convolutional features already
# score 0.19-0.26 and the trained reference 0.21-0.32, so this catches codes that carry no
# class information (constant, NaN, rows out of order), not the quality of training.
PROBE_FULL_ACCURACY = 0.20
PROBE_ZERO_ACCURACY = 0.12
PROBE_RIDGE = 1.0


def _curve(value, full, zero):
    """1 at `full` or better, 0 at `zero` or worse, linear in between (either direction)."""
    if not math.isfinite(value):
        return 0.0
    fraction = (value - zero) / (full - zero)
    return float(min(1.0, max(0.0, fraction)))


def clean_images(images):
    """uint8 (N, 32, 32, 3) -> float64 (N, 3, 32, 32) in [0, 1], the models' layout."""
    return np.asarray(images, dtype=np.float64).transpose(0, 3, 1, 2) / 255.0


def _images_like(outputs, key, clean):
    """outputs[key] as float64 if it holds one finite image per input image, else a reason."""
    value = outputs.get(key) if isinstance(outputs, dict) else None
    if not isinstance(value, np.ndarray) or value.shape != clean.shape:
        shape = getattr(value, "shape", type(value).__name__)
        return None, say("autoencoder.images-shape", shape=shape)
    value = value.astype(np.float64)
    if not np.all(np.isfinite(value)):
        return None, say("autoencoder.images-not-finite")
    return value, None


def mse(a, b):
    return float(np.mean((a - b) ** 2))


def _verdict(fraction, key):
    """key.good, key.partial or key.poor, by the fraction of the points."""
    if fraction >= 1.0:
        return say(key + ".good")
    return say(key + ".partial" if fraction > 0 else key + ".poor")


def reconstruction_vs_pca(inputs, outputs, expected):
    clean = clean_images(inputs["images"])
    recon, problem = _images_like(outputs, "reconstructions", clean)
    if problem:
        return 0.0, [problem]
    n = len(clean)
    if recon.min() < 0.0 or recon.max() > 1.0:
        return 0.0, [say("autoencoder.recon-range-these" if inputs.get("explain")
                         else "autoencoder.recon-range")]
    error = mse(recon, clean)
    baseline = float(inputs["pca_mse"])
    ratio = error / baseline
    fraction = _curve(ratio, RECON_FULL_RATIO, RECON_ZERO_RATIO)
    if not inputs.get("explain"):
        return fraction, [_verdict(fraction, "autoencoder.recon")]
    return fraction, [say("autoencoder.recon.explain", error=error, n=n, baseline=baseline,
                          ratio=ratio, full=RECON_FULL_RATIO, zero=RECON_ZERO_RATIO,
                          fraction=fraction)]


def denoising_gain(inputs, outputs, expected):
    clean = clean_images(inputs["images"])
    noisy, problem = _images_like(outputs, "noisy", clean)
    denoised, problem = (None, problem) if problem else _images_like(outputs, "denoised", clean)
    if problem:
        return 0.0, [problem]
    noisy_mse, denoised_mse = mse(noisy, clean), mse(denoised, clean)
    gain = noisy_mse / denoised_mse if denoised_mse > 0 else float("inf")
    fraction = _curve(gain, DENOISE_FULL_GAIN, DENOISE_ZERO_GAIN)
    if not inputs.get("explain"):
        return fraction, [_verdict(fraction, "autoencoder.denoise")]
    return fraction, [say("autoencoder.denoise.explain", std=float(inputs["noise_std"]),
                          noisy=noisy_mse, denoised=denoised_mse, gain=gain,
                          full=DENOISE_FULL_GAIN, zero=DENOISE_ZERO_GAIN, fraction=fraction)]


def _standardize(train, test):
    mean = train.mean(axis=0)
    std = train.std(axis=0) + 1e-8
    return (train - mean) / std, (test - mean) / std


def ridge_probe_accuracy(train_features, train_labels, test_features, test_labels,
                         ridge=PROBE_RIDGE, classes=10):
    """Accuracy of a one-vs-all ridge regression classifier (closed form, deterministic)."""
    F_train, F_test = _standardize(np.asarray(train_features, dtype=np.float64),
                                   np.asarray(test_features, dtype=np.float64))
    F_train = np.hstack([F_train, np.ones((len(F_train), 1))])
    F_test = np.hstack([F_test, np.ones((len(F_test), 1))])
    Y = np.eye(classes)[np.asarray(train_labels, dtype=np.int64)] * 2.0 - 1.0
    penalty = ridge * np.eye(F_train.shape[1])
    penalty[-1, -1] = 0.0  # no penalty on the bias
    W = np.linalg.solve(F_train.T @ F_train + penalty, F_train.T @ Y)
    predicted = np.argmax(F_test @ W, axis=1)
    return float(np.mean(predicted == np.asarray(test_labels)))


def linear_probe(inputs, outputs, expected):
    train, test = outputs.get("train_features"), outputs.get("test_features")
    n_train, n_test = len(inputs["train_images"]), len(inputs["test_images"])
    for name, feats, n in (("training", train, n_train), ("test", test, n_test)):
        if not isinstance(feats, np.ndarray) or feats.ndim != 2 or feats.shape[0] != n:
            shape = getattr(feats, "shape", type(feats).__name__)
            return 0.0, [say("autoencoder.codes-shape." + name, shape=shape)]
        if not np.all(np.isfinite(feats)):
            return 0.0, [say("autoencoder.codes-not-finite." + name)]
    accuracy = ridge_probe_accuracy(train, inputs["train_labels"], test, inputs["test_labels"])
    fraction = _curve(accuracy, PROBE_FULL_ACCURACY, PROBE_ZERO_ACCURACY)
    if not inputs.get("explain"):
        return fraction, [_verdict(fraction, "autoencoder.probe")]
    return fraction, [say("autoencoder.probe.explain", features=int(train.shape[1]),
                          n_train=n_train, accuracy=accuracy, n_test=n_test,
                          full=PROBE_FULL_ACCURACY, zero=PROBE_ZERO_ACCURACY,
                          fraction=fraction)]
