"""Property judges for the autoencoder checks that have no single right answer.

Each judge gets (inputs, outputs, expected) and returns (fraction of the points, messages).
They are embedded in the otter test files too, so: numpy only, no reference, no data files.
The thresholds were measured with scripts/train_autoencoder_reference.py; the numbers behind
them are in assignments/autoencoder/README.md.
"""

import math

import numpy as np

# Reconstruction: test-set MSE divided by the MSE of PCA with the same number of components
# (64), fitted on 10,000 training images. Full marks at or below FULL, none at or above ZERO,
# linear in between.
RECON_FULL_RATIO = 1.0
RECON_ZERO_RATIO = 2.5
# Denoising: MSE(noisy, clean) / MSE(model(noisy), clean) with Gaussian noise of std 0.2.
DENOISE_FULL_GAIN = 3.0
DENOISE_ZERO_GAIN = 1.0
# Linear probe: accuracy of a ridge classifier on encoder_features (10 classes, chance 0.10),
# fitted on 500 training images and scored on 500 test images. Random convolutional features
# already score about 0.23 and the trained reference 0.23-0.29, so this catches codes that
# carry no class information (constant, NaN, rows out of order), not the quality of training.
PROBE_FULL_ACCURACY = 0.20
PROBE_ZERO_ACCURACY = 0.12
PROBE_RIDGE = 1.0
# 40 Adam steps (lr 1e-3) on one batch of 10 images: mean of the last 3 losses / the first
# (reference Autoencoder 0.28-0.56, TiedAutoencoder 0.05-0.16 over twelve seeds).
LOSS_FULL_RATIO = 0.90
LOSS_ZERO_RATIO = 0.99


def _curve(value, full, zero):
    """1 at `full` or better, 0 at `zero` or worse, linear in between (either direction)."""
    if not math.isfinite(value):
        return 0.0
    fraction = (value - zero) / (full - zero)
    return float(min(1.0, max(0.0, fraction)))


def _number(outputs, key):
    value = outputs[key]
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} is not a number")
    return float(value)


def reconstruction_vs_pca(inputs, outputs, expected):
    mse = _number(outputs, "mse")
    baseline = float(inputs["pca_mse"])
    n = len(inputs["images"])
    if not outputs.get("in_unit_range", False):
        return 0.0, [f"reconstructions must lie in [0, 1] (finite), as the images do; yours "
                     f"leave that range on {n} test images (does the decoder end in a sigmoid?)"]
    ratio = mse / baseline
    fraction = _curve(ratio, RECON_FULL_RATIO, RECON_ZERO_RATIO)
    return fraction, [f"test MSE {mse:.5f} on {n} test images; PCA with 64 components: "
                      f"{baseline:.5f}; ratio {ratio:.2f} (full marks at <= "
                      f"{RECON_FULL_RATIO:g}, none at >= {RECON_ZERO_RATIO:g}) -> "
                      f"{fraction:.0%} of the points"]


def denoising_gain(inputs, outputs, expected):
    noisy = _number(outputs, "noisy_mse")
    denoised = _number(outputs, "denoised_mse")
    gain = noisy / denoised if denoised > 0 else float("inf")
    fraction = _curve(gain, DENOISE_FULL_GAIN, DENOISE_ZERO_GAIN)
    return fraction, [f"noise std {inputs['noise_std']:g}: MSE of the noisy images {noisy:.5f}, "
                      f"of your model's output {denoised:.5f}; gain {gain:.2f} (full marks at "
                      f">= {DENOISE_FULL_GAIN:g}, none at <= {DENOISE_ZERO_GAIN:g}) -> "
                      f"{fraction:.0%} of the points"]


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
    train, test = outputs["train_features"], outputs["test_features"]
    n_train, n_test = len(inputs["train_images"]), len(inputs["test_images"])
    for name, feats, n in (("training", train, n_train), ("test", test, n_test)):
        if not isinstance(feats, np.ndarray) or feats.ndim != 2 or feats.shape[0] != n:
            shape = getattr(feats, "shape", type(feats).__name__)
            return 0.0, [f"encoder_features should return an (N, latent_dim) array; for {n} "
                         f"{name} images it returned {shape}"]
        if not np.all(np.isfinite(feats)):
            return 0.0, [f"encoder_features returned NaN or inf for the {name} images"]
    accuracy = ridge_probe_accuracy(train, inputs["train_labels"], test, inputs["test_labels"])
    fraction = _curve(accuracy, PROBE_FULL_ACCURACY, PROBE_ZERO_ACCURACY)
    return fraction, [f"a linear classifier on your {train.shape[1]} features, fitted on "
                      f"{n_train} training images, labels {accuracy:.1%} of {n_test} test "
                      f"images (chance 10%; full marks at >= {PROBE_FULL_ACCURACY:.0%}, none "
                      f"at <= {PROBE_ZERO_ACCURACY:.0%}) -> {fraction:.0%} of the points"]


def loss_falls(inputs, outputs, expected):
    losses = np.asarray(outputs["losses"], dtype=np.float64).ravel()
    if losses.size < 4:
        return 0.0, [f"expected {inputs['steps']} losses, got {losses.size}"]
    if not np.all(np.isfinite(losses)):
        return 0.0, ["the loss became NaN or inf during training"]
    ratio = float(losses[-3:].mean() / losses[0]) if losses[0] > 0 else float("inf")
    fraction = _curve(ratio, LOSS_FULL_RATIO, LOSS_ZERO_RATIO)
    return fraction, [f"MSE {losses[0]:.4f} before and {losses[-3:].mean():.4f} after "
                      f"{losses.size} Adam steps on one batch (ratio {ratio:.2f}; full marks at "
                      f"<= {LOSS_FULL_RATIO:g}, none at >= {LOSS_ZERO_RATIO:g}) -> "
                      f"{fraction:.0%} of the points"]
