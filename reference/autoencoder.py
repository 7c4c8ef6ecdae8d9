"""Reference solution: autoencoder on CIFAR-10 (hidden from students).

Every API name is self-contained given the notebook's setup imports (torch, nn, F, np), because
the example builder pastes each one into its stub cell.
"""

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

# The reference's trained weights, for the checks that grade a checkpoint. A submission's
# checkpoint is autoencoder.pt in its own folder; probes.py reads this name only here.
__reference_checkpoint__ = str(Path(__file__).resolve().parent.parent / "assignments"
                               / "autoencoder" / "files" / "autoencoder.pt")


class Autoencoder(nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.latent_dim = latent_dim
        # 32x32 -> 16x16 -> 8x8 -> 4x4, then one linear layer to the code.
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(64, 128, kernel_size=4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(128 * 4 * 4, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 128 * 4 * 4), nn.ReLU(),
            nn.Unflatten(1, (128, 4, 4)),
            nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 3, kernel_size=4, stride=2, padding=1),
            nn.Sigmoid(),  # pixels live in [0, 1]
        )

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


class TiedAutoencoder(nn.Module):
    def __init__(self, latent_dim, hidden=512):
        super().__init__()
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.W1 = nn.Parameter(torch.empty(hidden, 3 * 32 * 32))
        self.W2 = nn.Parameter(torch.empty(latent_dim, hidden))
        nn.init.kaiming_uniform_(self.W1, a=5 ** 0.5)  # nn.Linear's default initialisation
        nn.init.kaiming_uniform_(self.W2, a=5 ** 0.5)
        self.b1 = nn.Parameter(torch.zeros(hidden))
        self.b2 = nn.Parameter(torch.zeros(latent_dim))
        self.c2 = nn.Parameter(torch.zeros(hidden))
        self.c1 = nn.Parameter(torch.zeros(3 * 32 * 32))

    def encode(self, x):
        h = F.relu(F.linear(x.flatten(1), self.W1, self.b1))
        return F.linear(h, self.W2, self.b2)

    def decode(self, z):
        # The decoder has no weight matrices of its own: it reuses W2 and W1, transposed.
        h = F.relu(F.linear(z, self.W2.t(), self.c2))
        return torch.sigmoid(F.linear(h, self.W1.t(), self.c1)).view(-1, 3, 32, 32)

    def forward(self, x):
        return self.decode(self.encode(x))


def add_noise(x, std, generator=None):
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return torch.clamp(x + std * noise, 0.0, 1.0)


def train_epoch(model, loader, optimizer, noise_std=0.0):
    model.train()
    total, count = 0.0, 0
    for batch in loader:
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        inputs = add_noise(x, noise_std) if noise_std > 0 else x
        loss = F.mse_loss(model(inputs), x)  # always against the clean images
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
        count += len(x)
    return total / count


def pca_reconstruction_mse(X_train, X_test, k):
    A = torch.as_tensor(X_train, dtype=torch.float64).flatten(1)
    B = torch.as_tensor(X_test, dtype=torch.float64).flatten(1)
    mean = A.mean(dim=0)
    _, _, Vh = torch.linalg.svd(A - mean, full_matrices=False)
    P = Vh[:k].T                          # (D, k): the top-k principal directions
    centred = B - mean
    error = centred @ P @ P.T - centred
    return float((error ** 2).mean())


def encoder_features(model, X, batch_size=256):
    model.eval()
    X = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        codes = [model.encode(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]
    return torch.cat(codes)
