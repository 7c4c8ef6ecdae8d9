"""Autoencoder probes: what the grader calls in a submission (runs inside the sandbox).

Each probe takes the submission's names and plain-data inputs and returns raw outputs; it holds
no expected value. Images arrive as uint8 arrays (N, 32, 32, 3), as the CIFAR-10 loader returns
them, and are turned into float tensors (N, 3, 32, 32) in [0, 1] here. train_epoch and
encoder_features are graded on a small model defined below, so that a mistake in the student's
own Autoencoder does not cost points twice.
"""

import os

import numpy as np
import torch
import torch.nn as nn

CHECKPOINT = "autoencoder.pt"
LATENT_DIM = 64
_MAX_MESSAGE = 300


def _images(images):
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    return x.to(torch.float32).contiguous() / 255.0


def _as_tensor(value, what):
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{what} should return a tensor, returned a {type(value).__name__}")
    return value.detach()


def _in_unit_range(t):
    return bool(torch.isfinite(t).all() and t.min() >= 0.0 and t.max() <= 1.0)


def _shape(t):
    return [int(s) for s in t.shape]


class _TinyAutoencoder(nn.Module):
    """A fixed one-hidden-layer autoencoder: the model train_epoch and encoder_features get."""

    def __init__(self, latent_dim=16, dropout=0.0):
        super().__init__()
        self.enc = nn.Linear(3 * 32 * 32, latent_dim)
        self.drop = nn.Dropout(dropout)
        self.dec = nn.Linear(latent_dim, 3 * 32 * 32)

    def encode(self, x):
        return self.drop(torch.relu(self.enc(x.flatten(1))))

    def decode(self, z):
        return torch.sigmoid(self.dec(z)).view(-1, 3, 32, 32)

    def forward(self, x):
        return self.decode(self.encode(x))


# ------------------------------------------------------------------------------ q1, q2: models

def _structure(model, x, latent_dim):
    model.eval()
    with torch.no_grad():
        z = _as_tensor(model.encode(x), "encode")
        out = _as_tensor(model.decode(z), "decode")
        full = _as_tensor(model(x), "forward")
        # Large codes push an unbounded decoder far outside [0, 1]; a bounded one stays in.
        torch.manual_seed(1)
        far = _as_tensor(model.decode(50.0 * torch.randn(len(x), latent_dim)), "decode")
    same = full.shape == out.shape and bool(torch.allclose(full, out, atol=1e-5))
    return {"code_shape": _shape(z), "output_shape": _shape(out), "forward_shape": _shape(full),
            "forward_is_decode_of_encode": same,
            "output_in_unit_range": _in_unit_range(out) and _in_unit_range(far)}


def autoencoder_structure(ns, images, latent_dim):
    torch.manual_seed(0)
    model = ns["Autoencoder"](latent_dim)
    return _structure(model, _images(images), latent_dim)


def _as_tensor_grad(value, what):
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{what} should return a tensor, returned a {type(value).__name__}")
    if not value.requires_grad:
        raise ValueError(f"{what} returned a tensor that is not connected to the model's "
                         f"parameters (no gradient can flow): avoid .detach(), .numpy() and "
                         f"torch.no_grad() inside the model")
    return value


def _losses_on_fixed_batch(model, x, steps, lr):
    adam = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        loss = ((_as_tensor_grad(model(x), "forward") - x) ** 2).mean()
        adam.zero_grad()
        loss.backward()
        adam.step()
        losses.append(float(loss.detach()))
    return losses


def autoencoder_trains(ns, images, latent_dim, steps, lr):
    torch.manual_seed(0)
    model = ns["Autoencoder"](latent_dim)
    return {"losses": np.array(_losses_on_fixed_batch(model, _images(images), steps, lr))}


def _tied_model(ns, latent_dim, hidden):
    torch.manual_seed(0)
    if hidden is None:
        return ns["TiedAutoencoder"](latent_dim)
    return ns["TiedAutoencoder"](latent_dim, hidden=hidden)


def _weights_with_gradient(model, loss):
    """Whether every weight matrix (parameter with 2+ dimensions) receives a gradient."""
    model.zero_grad()
    loss.backward()
    weights = [p for p in model.parameters() if p.dim() >= 2]
    return bool(weights) and all(p.grad is not None and bool(p.grad.abs().sum() > 0)
                                 for p in weights)


def tied_structure(ns, images, latent_dim, hidden):
    model = _tied_model(ns, latent_dim, hidden)
    x = _images(images)
    out = _structure(model, x, latent_dim)
    model.train()
    torch.manual_seed(2)
    z = torch.randn(len(x), latent_dim)
    decoder_reaches = _weights_with_gradient(
        model, ((_as_tensor_grad(model.decode(z), "decode") - x) ** 2).mean())
    encoder_reaches = _weights_with_gradient(
        model, _as_tensor_grad(model.encode(x), "encode").pow(2).mean())
    out.update({
        # Element count of the weight matrices only: biases are a free choice.
        "weight_elements": int(sum(p.numel() for p in model.parameters() if p.dim() >= 2)),
        "decoder_gradient_reaches_every_weight": decoder_reaches,
        "encoder_gradient_reaches_every_weight": encoder_reaches,
    })
    return out


def tied_trains(ns, images, latent_dim, hidden, steps, lr):
    model = _tied_model(ns, latent_dim, hidden)
    return {"losses": np.array(_losses_on_fixed_batch(model, _images(images), steps, lr))}


# ------------------------------------------------------------------------------ q3: add_noise

def add_noise(ns, images, std, seed):
    x = _images(images)
    before = x.clone()
    torch.manual_seed(seed + 1)  # a function that ignores its generator is then repeatable too
    noisy = ns["add_noise"](x, std, torch.Generator().manual_seed(seed))
    return {"noisy": _as_tensor(noisy, "add_noise"),
            "input_unchanged": bool(torch.equal(x, before))}


def add_noise_repeatable(ns, images, std, seed):
    x = _images(images)
    first = _as_tensor(ns["add_noise"](x, std, torch.Generator().manual_seed(seed)), "add_noise")
    second = _as_tensor(ns["add_noise"](x, std, torch.Generator().manual_seed(seed)), "add_noise")
    other = _as_tensor(ns["add_noise"](x, std, torch.Generator().manual_seed(seed + 1)),
                       "add_noise")
    return {"same_generator_seed_same_noise": bool(torch.equal(first, second)),
            "other_seed_other_noise": not bool(torch.equal(first, other))}


# ------------------------------------------------------------------------------ q4: train_epoch

def train_epoch(ns, images, batch_size, epochs, noise_std, lr, with_labels):
    torch.manual_seed(0)
    model = _TinyAutoencoder()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    x = _images(images)
    batches = [x[i:i + batch_size] for i in range(0, len(x), batch_size)]
    if with_labels:  # what DataLoader(TensorDataset(X, y)) yields
        batches = [(b, torch.zeros(len(b), dtype=torch.long)) for b in batches]
    losses = []
    for epoch in range(epochs):
        torch.manual_seed(100 + epoch)  # the noise comes from the global generator
        losses.append(float(ns["train_epoch"](model, batches, optimizer, noise_std=noise_std)))
    with torch.no_grad():
        after = model(x[:2])
    return {"losses": np.array(losses), "reconstructions_after": after}


# ------------------------------------------------------------------------------ q5: PCA

def pca_reconstruction_mse(ns, train_images, test_images, k):
    X_train, X_test = _images(train_images), _images(test_images)  # crops: (N, 3, c, c)
    return {"mse": float(ns["pca_reconstruction_mse"](X_train, X_test, k))}


# ------------------------------------------------------------------------------ q6: features

def encoder_features(ns, images, latent_dim, dropout):
    torch.manual_seed(0)
    model = _TinyAutoencoder(latent_dim, dropout)
    model.train()  # as a model is left after training: switching to eval mode is the job
    x = _images(images)
    torch.manual_seed(3)
    features = _as_tensor(ns["encoder_features"](model, x), "encoder_features")
    return {"features": features}


# ------------------------------------------------------------------------------ q7: checkpoint

def _short(exc):
    text = " ".join(str(exc).split())
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "..."


def _pickled_global(exc):
    """The object torch's weights_only loader refused, e.g. '__main__.Autoencoder', or None."""
    text = " ".join(str(exc).split())
    marker = "Unsupported global: GLOBAL "
    if marker not in text:
        return None
    return text[text.index(marker) + len(marker):].split(" ")[0]


def load_checkpoint(ns):
    """The submitted Autoencoder(64), or an error that says what is wrong with the file."""
    # The reference namespace names its own weights; a submission's file is autoencoder.pt
    # in its folder (the grader's working folder).
    path = ns.get("__reference_checkpoint__") or CHECKPOINT
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{CHECKPOINT} not found next to the notebook: save your trained model with "
            f"torch.save(model.state_dict(), '{CHECKPOINT}') and submit that file with the "
            f"notebook")
    save = f"torch.save(model.state_dict(), '{CHECKPOINT}')"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        refused = _pickled_global(exc)
        if refused:
            raise ValueError(
                f"{CHECKPOINT} was refused: it holds a pickled object ({refused}), and the "
                f"grader loads only plain state_dicts, with torch.load(..., weights_only=True); "
                f"save the weights alone with {save}, not the model or other objects") from None
        raise ValueError(f"{CHECKPOINT} is not a checkpoint written by torch.save "
                         f"({type(exc).__name__}: {_short(exc)}); save it with {save}") from None
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        kinds = sorted({type(v).__name__ for v in state.values()}) if isinstance(state, dict) \
            else [type(state).__name__]
        raise ValueError(
            f"{CHECKPOINT} was refused: it must be a state_dict (parameter names -> tensors), "
            f"it holds {', '.join(kinds)}; save the weights alone with {save}")
    model = ns["Autoencoder"](LATENT_DIM)
    try:
        model.load_state_dict(state)
    except Exception as exc:
        raise ValueError(f"{CHECKPOINT} does not fit your Autoencoder(latent_dim={LATENT_DIM}) "
                         f"({_short(exc)}); save the state_dict of that model") from None
    model.eval()
    return model


def _reconstruct(model, x, batch_size=250):
    with torch.no_grad():
        parts = [_as_tensor(model(x[i:i + batch_size]), "forward")
                 for i in range(0, len(x), batch_size)]
    return torch.cat(parts).to(torch.float32)


def _mse(a, b):
    return float(((a.to(torch.float64) - b.to(torch.float64)) ** 2).mean())


def _as_uint8_images(x):
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def checkpoint_reconstruction(ns, images, show, **for_judge):
    """Test-set MSE of the submitted model, and a few reconstructions for the feedback."""
    model = load_checkpoint(ns)
    x = _images(images)
    recon = _reconstruct(model, x)
    if recon.shape != x.shape:
        raise ValueError(f"forward returned shape {_shape(recon)} for inputs {_shape(x)}")
    return {"mse": _mse(recon, x), "in_unit_range": _in_unit_range(recon),
            "shown": _as_uint8_images(recon[:show])}


def checkpoint_denoising(ns, images, noise_std, seed, **for_judge):
    model = load_checkpoint(ns)
    x = _images(images)
    # The probe's own noise (not the submission's add_noise): this grades the model alone.
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    noisy = (x + noise_std * noise).clamp(0, 1)
    return {"noisy_mse": _mse(noisy, x), "denoised_mse": _mse(_reconstruct(model, noisy), x)}


def checkpoint_features(ns, train_images, test_images, **for_judge):
    model = load_checkpoint(ns)
    fit = _as_tensor(ns["encoder_features"](model, _images(train_images)), "encoder_features")
    test = _as_tensor(ns["encoder_features"](model, _images(test_images)), "encoder_features")
    return {"train_features": fit.to(torch.float32), "test_features": test.to(torch.float32)}
