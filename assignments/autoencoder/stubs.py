# %% setup
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The grader sets NEUROGRADE_GRADING=1: it then loads no data and trains nothing here; it
# loads your autoencoder.pt itself and calls your functions on its own images.
GRADING = os.environ.get("NEUROGRADE_GRADING") == "1"

TRAIN = False        # True: question 7 trains your autoencoder (minutes) and saves it
DATA_DIR = None      # folder holding cifar10/ (None: $NEUROGRADE_DATA, then the usual places)
CHECKPOINT = "autoencoder.pt"
LATENT_DIM = 64

X_test = y_test = None
if not GRADING:
    import matplotlib.pyplot as plt
    from cifar10 import DataNotFound, load_cifar10, to_tensor

    try:
        X_test_u8, y_test, classes = load_cifar10(DATA_DIR, split="test", limit=1000)
        X_test = to_tensor(X_test_u8)  # float32 (1000, 3, 32, 32) in [0, 1]
        print(f"CIFAR-10: {len(X_test)} test images loaded, classes {classes}")
    except DataNotFound as exc:
        print(exc)  # says where the data was looked for and how to get it


# %% q1
class Autoencoder(nn.Module):
    """A convolutional autoencoder for CIFAR-10 images, with exactly these layers.

    Autoencoder(latent_dim) builds two nn.Sequential attributes, in this order:
      self.encoder:  Conv2d 3 -> 32, Conv2d 32 -> 64, Conv2d 64 -> 128 (each kernel_size=4,
                     stride=2, padding=1, followed by ReLU: 32x32 -> 16x16 -> 8x8 -> 4x4),
                     Flatten, Linear 128*4*4 -> latent_dim
      self.decoder:  Linear latent_dim -> 128*4*4, ReLU, Unflatten(1, (128, 4, 4)),
                     ConvTranspose2d 128 -> 64, ReLU, ConvTranspose2d 64 -> 32, ReLU,
                     ConvTranspose2d 32 -> 3 (each kernel_size=4, stride=2, padding=1),
                     Sigmoid
    then
      encode(x): x (B, 3, 32, 32) float in [0, 1]  ->  code z (B, latent_dim)
      decode(z): z (B, latent_dim)  ->  images (B, 3, 32, 32), every value in [0, 1]
      forward(x) = decode(encode(x))
    Any batch size B >= 1 must work. The grader loads your trained weights (autoencoder.pt)
    into its own copy of this architecture: the state_dict's names and shapes must be these
    (encoder.0.weight, ..., decoder.7.bias).
    """

    def __init__(self, latent_dim=64):
        super().__init__()
        self.latent_dim = latent_dim
        raise NotImplementedError  # define the encoder's and the decoder's layers

    def encode(self, x):
        raise NotImplementedError

    def decode(self, z):
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError


# %% q2
class TiedAutoencoder(nn.Module):
    """Fully connected autoencoder 3072 -> hidden -> latent_dim -> hidden -> 3072, tied weights.

    TiedAutoencoder(latent_dim, hidden=512) holds exactly two weight matrices,
    W1 (hidden, 3072) and W2 (latent_dim, hidden), plus the biases b1 (hidden,),
    b2 (latent_dim,), c2 (hidden,) and c1 (3072,), all nn.Parameter under these names:
      encode(x): flatten x (B, 3, 32, 32) to (B, 3072); h = relu(x W1^T + b1);
                 z = h W2^T + b2  ->  (B, latent_dim)
      decode(z): the SAME matrices, transposed: h = relu(z W2 + c2);
                 x_hat = sigmoid(h W1 + c1), reshaped to (B, 3, 32, 32)
      forward(x) = decode(encode(x))
    That is half the weights of the untied model, and the reconstruction's gradient reaches
    W1 and W2 through both the encoder and the decoder.
    """

    def __init__(self, latent_dim, hidden=512):
        super().__init__()
        raise NotImplementedError  # create W1, W2, b1, b2, c2, c1 (nn.Parameter)

    def encode(self, x):
        raise NotImplementedError

    def decode(self, z):
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError


# %% q3
def add_noise(x, std, generator=None):
    """Gaussian corruption for a denoising autoencoder.

    x: (B, 3, 32, 32) float tensor in [0, 1] (left unchanged); std: the noise's standard
    deviation (>= 0); generator: the torch.Generator to draw from (None: torch's global one).
    Draw noise ~ N(0, 1) of x's shape in ONE call, torch.randn(x.shape, generator=...), so
    that two generators in the same state give the same noise.
    Returns x + std * noise, clamped to [0, 1].
    """
    raise NotImplementedError


# %% q4
def train_epoch(model, loader, optimizer, noise_std=0.0):
    """One pass over loader with one optimizer step per batch; returns the epoch's mean loss.

    model: an autoencoder (model(x) reconstructs x). loader: an iterable of batches, each a
    tensor x (B, 3, 32, 32) or a tuple/list whose first item is x (what a DataLoader over
    TensorDataset(X) or TensorDataset(X, y) yields; labels are ignored).
    Put the model in training mode, then for every batch:
      inputs = add_noise(x, noise_std) if noise_std > 0 else x   (the global generator)
      loss = mean squared error between model(inputs) and the CLEAN x
      zero the gradients, backpropagate, take the optimizer step.
    Returns a float: the mean of the batch losses, weighted by batch size.
    """
    raise NotImplementedError


# %% q5
def pca_reconstruction_mse(X_train, X_test, k):
    """The PCA baseline: MSE of X_test rebuilt from the top-k principal components of X_train.

    X_train: (n, ...) float tensor, X_test: (m, ...) with the same trailing shape (e.g.
    images (n, 3, 32, 32)); each row is flattened to a vector of D numbers.
    Fit on X_train only: its mean mu (D,) and the k directions of largest variance, the
    columns of P (D, k), orthonormal. Rebuild each test row x as mu + P P^T (x - mu).
    Returns a float: the mean squared error over all m * D entries.
    """
    raise NotImplementedError


# %% q6
def encoder_features(model, X):
    """The codes of a trained autoencoder as features for another model.

    model: an autoencoder with encode; X: (N, 3, 32, 32) float tensor in [0, 1].
    Returns an (N, latent_dim) tensor: model.encode on X in evaluation mode (model.eval():
    no dropout) and without gradients, in batches of a few hundred images so that a large
    N fits in memory.
    """
    raise NotImplementedError


# %% q7
# Question 7: train your Autoencoder (TRAIN = True in the setup cell) or load the one you
# trained before, then see what it learned. When grading, this cell does nothing.
EPOCHS = 12            # about 15-40 s per epoch on a laptop CPU
BATCH_SIZE = 128
LEARNING_RATE = 2e-3
NOISE_STD = 0.1        # trained as a denoising autoencoder

model = None
if not GRADING and TRAIN:
    X_train = to_tensor(load_cifar10(DATA_DIR, split="train")[0])
    torch.manual_seed(0)
    model = Autoencoder(LATENT_DIM)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, EPOCHS)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_train),
                                         batch_size=BATCH_SIZE, shuffle=True)
    for epoch in range(EPOCHS):
        loss = train_epoch(model, loader, optimizer, noise_std=NOISE_STD)
        schedule.step()
        print(f"epoch {epoch + 1}/{EPOCHS}: training MSE {loss:.5f}")
    torch.save(model.state_dict(), CHECKPOINT)  # the weights only: a plain state_dict
elif not GRADING and os.path.exists(CHECKPOINT):
    model = Autoencoder(LATENT_DIM)
    model.load_state_dict(torch.load(CHECKPOINT, weights_only=True))
elif not GRADING:
    print(f"{CHECKPOINT} not found: set TRAIN = True in the setup cell and run again")

if model is not None and X_test is not None:
    model.eval()
    with torch.no_grad():
        noisy = add_noise(X_test, 0.2, torch.Generator().manual_seed(0))
        rebuilt, denoised = model(X_test), model(noisy)
    X_fit, y_fit, _ = load_cifar10(DATA_DIR, split="train", limit=2000)
    X_fit = to_tensor(X_fit)
    print(f"test MSE: your autoencoder {F.mse_loss(rebuilt, X_test).item():.5f}, PCA with "
          f"{LATENT_DIM} components {pca_reconstruction_mse(X_fit, X_test, LATENT_DIM):.5f}")
    print(f"noise std 0.2: MSE {F.mse_loss(noisy, X_test).item():.5f} before, "
          f"{F.mse_loss(denoised, X_test).item():.5f} after your autoencoder")
    # A linear classifier (least squares on one-hot labels) on the codes: how much of the
    # class survives the compression?
    codes_fit = torch.as_tensor(encoder_features(model, X_fit), dtype=torch.float64)
    codes_test = torch.as_tensor(encoder_features(model, X_test), dtype=torch.float64)
    mean, std = codes_fit.mean(0), codes_fit.std(0) + 1e-8
    A = torch.cat([(codes_fit - mean) / std, torch.ones(len(codes_fit), 1)], dim=1)
    W = torch.linalg.lstsq(A, F.one_hot(torch.as_tensor(y_fit), 10).double()).solution
    B = torch.cat([(codes_test - mean) / std, torch.ones(len(codes_test), 1)], dim=1)
    accuracy = ((B @ W).argmax(1) == torch.as_tensor(y_test)).double().mean().item()
    print(f"linear classifier on the codes: {accuracy:.1%} test accuracy (chance: 10%)")
    rows = [("original", X_test), ("rebuilt", rebuilt), ("noisy", noisy),
            ("denoised", denoised)]
    shown = min(8, len(X_test))
    fig, axes = plt.subplots(len(rows), shown, figsize=(10, 5.5), squeeze=False)
    for r, (name, images) in enumerate(rows):
        for c in range(shown):
            axes[r, c].imshow(images[c].permute(1, 2, 0).clamp(0, 1).numpy())
            axes[r, c].axis("off")
        axes[r, 0].set_title(name, fontsize=9, loc="left")
    plt.show()
