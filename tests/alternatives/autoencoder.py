"""Correct autoencoder solutions written differently from the reference (tests/test_diagnoses.py):
each gets full marks and names no mistake. The autoencoder has no input-validation check, so
there is no WITHOUT_VALIDATION.

The architecture's parameter names and shapes are prescribed (the grader loads checkpoints
into its own copy), so the models differ in how they are written, not in their layers. Question
7 defines no function: its checks read the checkpoint, which the diagnosis test does not
submit (q7 is then 0 for every notebook alike).
"""

SOLUTIONS = {
    # Layers built in loops, the sigmoid applied in decode() instead of a module, matrix
    # products instead of F.linear, noise from Tensor.normal_, the loss as a sum over pixels
    # divided by their number, PCA from numpy's eigh of the covariance, features in one
    # torch.inference_mode block that restores the model's mode.
    "loops-and-numpy": {
        "q1": '''
class Autoencoder(nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.latent_dim = latent_dim
        layers = []
        for c_in, c_out in [(3, 32), (32, 64), (64, 128)]:
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.ReLU()]
        self.encoder = nn.Sequential(*layers, nn.Flatten(), nn.Linear(2048, latent_dim))
        layers = [nn.Linear(latent_dim, 2048), nn.ReLU(), nn.Unflatten(1, (128, 4, 4))]
        for c_in, c_out in [(128, 64), (64, 32)]:
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.ReLU()]
        self.decoder = nn.Sequential(*layers, nn.ConvTranspose2d(32, 3, 4, 2, 1))

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return torch.sigmoid(self.decoder(z))

    def forward(self, x):
        return self.decode(self.encode(x))
''',
        "q2": '''
class TiedAutoencoder(nn.Module):
    def __init__(self, latent_dim, hidden=512):
        super().__init__()
        self.W1 = nn.Parameter(torch.randn(hidden, 3072) / 3072 ** 0.5)
        self.W2 = nn.Parameter(torch.randn(latent_dim, hidden) / hidden ** 0.5)
        self.b1 = nn.Parameter(torch.zeros(hidden))
        self.b2 = nn.Parameter(torch.zeros(latent_dim))
        self.c2 = nn.Parameter(torch.zeros(hidden))
        self.c1 = nn.Parameter(torch.zeros(3072))

    def encode(self, x):
        h = torch.relu(x.reshape(len(x), -1) @ self.W1.T + self.b1)
        return h @ self.W2.T + self.b2

    def decode(self, z):
        h = torch.relu(z @ self.W2 + self.c2)
        return torch.sigmoid(h @ self.W1 + self.c1).reshape(-1, 3, 32, 32)

    def forward(self, x):
        return self.decode(self.encode(x))
''',
        "q3": '''
def add_noise(x, std, generator=None):
    noise = torch.empty(x.shape, dtype=x.dtype).normal_(generator=generator)
    return (x + std * noise).clamp(min=0.0, max=1.0)
''',
        "q4": '''
def train_epoch(model, loader, optimizer, noise_std=0.0):
    model.train()
    squared, pixels = 0.0, 0
    for batch in loader:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        noisy = add_noise(x, noise_std) if noise_std > 0 else x
        error = ((model(noisy) - x) ** 2).sum()
        optimizer.zero_grad()
        (error / x.numel()).backward()
        optimizer.step()
        squared += error.item()
        pixels += x.numel()
    return squared / pixels
''',
        "q5": '''
def pca_reconstruction_mse(X_train, X_test, k):
    A = np.asarray(X_train, dtype=np.float64).reshape(len(X_train), -1)
    B = np.asarray(X_test, dtype=np.float64).reshape(len(X_test), -1)
    mu = A.mean(axis=0)
    covariance = (A - mu).T @ (A - mu) / (len(A) - 1)
    _, vectors = np.linalg.eigh(covariance)
    P = vectors[:, ::-1][:, :k]           # eigh sorts ascending: the largest come last
    error = (B - mu) @ P @ P.T - (B - mu)
    return np.float64(np.mean(error ** 2))
''',
        "q6": '''
def encoder_features(model, X):
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        codes = torch.cat([model.encode(chunk) for chunk in torch.split(X, 128)])
    model.train(was_training)
    return codes
''',
    },
    # The reference's structure written as a student who keeps a running mean might: the
    # epoch loss as a running mean weighted by batch size, returned as a 0-d tensor; PCA via
    # torch.linalg.svd in float32 on centred data; add_noise building the noise with an
    # explicit keyword, and features with torch.no_grad in chunks of 200.
    "running-mean-float32": {
        "q3": '''
def add_noise(x, std, generator=None):
    noisy = x + std * torch.randn(size=x.shape, generator=generator, dtype=x.dtype)
    return torch.clamp(noisy, 0, 1)
''',
        "q4": '''
def train_epoch(model, loader, optimizer, noise_std=0.0):
    model.train()
    mean, seen = torch.tensor(0.0, dtype=torch.float64), 0
    for batch in loader:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        inputs = add_noise(x, noise_std) if noise_std > 0 else x
        loss = F.mse_loss(model(inputs), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += len(x)
        mean += (loss.detach().double() - mean) * len(x) / seen
    return mean
''',
        "q5": '''
def pca_reconstruction_mse(X_train, X_test, k):
    A = X_train.reshape(len(X_train), -1).float()
    B = X_test.reshape(len(X_test), -1).float()
    mu = A.mean(dim=0, keepdim=True)
    _, _, Vh = torch.linalg.svd(A - mu, full_matrices=False)
    codes = (B - mu) @ Vh[:k].T
    return float(F.mse_loss(codes @ Vh[:k] + mu, B))
''',
        "q6": '''
def encoder_features(model, X):
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, X.shape[0], 200):
            out.append(model.encode(X[start:start + 200]))
    return torch.cat(out, dim=0)
''',
    },
}
