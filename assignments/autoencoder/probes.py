"""Autoencoder probes: what the grader calls in a submission.

Each probe takes the submission's names and plain-data inputs and returns RAW outputs only:
what the student's code returned (codes, reconstructions, noisy images, features, losses),
gradients that autograd computed through the student's model, and weights as state_dicts.
Nothing is measured here (no MSE, accuracy, range test or "the loss falls"): these probes run
beside student code, which can replace them, so the trusted side computes every measurement
from what they return and compares it with the reference's (checks.py, judges.py).

Images arrive as uint8 arrays (N, 32, 32, 3), as the CIFAR-10 loader returns them, and become
float tensors (N, 3, 32, 32) in [0, 1] here. A model whose outputs are compared with the
reference's gets the same weights on both sides: after construction every parameter is
refilled from a generator seeded by the check, in the order of the parameter names (_fill),
so the comparison does not depend on how the layers were created. train_epoch and
encoder_features are graded on a small model defined below; while train_epoch runs, add_noise
stands in for the noisy batches the check gives (question 4 is graded on its own).

The checkpoint probes (q7) are judge-only: the grader runs them in its own process, on a
namespace holding its own copy of the question-1 architecture and the bytes of the submitted
autoencoder.pt (checks.py); in the notebook (grader.check) they read autoencoder.pt from the
working folder into the notebook's Autoencoder.

A return value of the wrong kind and a refused checkpoint raise checklib.WrongReturn with a
message (checklib.say), worded in the student's language from messages.toml.
"""

import contextlib
import io
import math
import os
import re
import threading

import numpy as np
import torch
import torch.nn as nn

from checklib import WrongReturn, say

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
        raise WrongReturn(say("autoencoder.not-tensor", what=what, type=type(value).__name__))
    return value.detach()


def _as_tensor_grad(value, what):
    if not isinstance(value, torch.Tensor):
        raise WrongReturn(say("autoencoder.not-tensor", what=what, type=type(value).__name__))
    if not value.requires_grad:
        raise WrongReturn(say("autoencoder.no-gradient", what=what))
    return value


def _fill(model, seed):
    """Every parameter overwritten from a generator seeded by the check, in name order."""
    generator = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for _, p in sorted(model.named_parameters(), key=lambda item: item[0]):
            bound = 1.0 / math.sqrt(p[0].numel()) if p.dim() >= 2 else 0.1
            p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound)
    return model


def _parameters(model):
    """Parameter names and shapes: the architecture, as the state_dict will hold it."""
    return {name: [int(s) for s in p.shape] for name, p in model.named_parameters()}


def _gradients(model):
    """Each parameter's gradient as autograd left it (None: no gradient reached it)."""
    return {name: None if p.grad is None else p.grad.detach().clone()
            for name, p in model.named_parameters()}


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

def _outputs(model, x, far_codes):
    """encode, decode and forward on the images; decode on large codes (a decoder that is not
    bounded to [0, 1] shows there)."""
    model.eval()
    with torch.no_grad():
        z = _as_tensor(model.encode(x), "encode")
        return {"codes": z, "decoded": _as_tensor(model.decode(z), "decode"),
                "forward": _as_tensor(model(x), "forward"),
                "decoded_far": _as_tensor(model.decode(torch.from_numpy(far_codes)), "decode")}


def _loss_gradients(model, x):
    """Gradients of the reconstruction loss through the whole model."""
    model.train()
    model.zero_grad()
    ((_as_tensor_grad(model(x), "forward") - x) ** 2).mean().backward()
    return _gradients(model)


def autoencoder_structure(ns, images, latent_dim, seed, far_codes):
    model = _fill(ns["Autoencoder"](latent_dim), seed)
    return {"parameters": _parameters(model), **_outputs(model, _images(images), far_codes)}


def autoencoder_gradients(ns, images, latent_dim, seed):
    """latent_dim None: the model is built with the default latent size, Autoencoder()."""
    model = ns["Autoencoder"]() if latent_dim is None else ns["Autoencoder"](latent_dim)
    return {"gradients": _loss_gradients(_fill(model, seed), _images(images))}


def _tied_model(ns, latent_dim, hidden, seed):
    if hidden is None:
        return _fill(ns["TiedAutoencoder"](latent_dim), seed)
    return _fill(ns["TiedAutoencoder"](latent_dim, hidden=hidden), seed)


def tied_outputs(ns, images, latent_dim, hidden, seed, far_codes):
    model = _tied_model(ns, latent_dim, hidden, seed)
    return {"parameters": _parameters(model), **_outputs(model, _images(images), far_codes)}


def tied_structure(ns, images, latent_dim, hidden, seed, far_codes):
    """tied_outputs, plus the gradients that reach each parameter from the decoder alone (its
    codes held fixed) and from the encoder alone."""
    model = _tied_model(ns, latent_dim, hidden, seed)
    x = _images(images)
    out = {"parameters": _parameters(model), **_outputs(model, x, far_codes)}
    model.train()
    z = _as_tensor_grad(model.encode(x), "encode")
    model.zero_grad()
    ((_as_tensor_grad(model.decode(z.detach()), "decode") - x) ** 2).mean().backward()
    out["decoder_gradients"] = _gradients(model)
    model.zero_grad()
    z.pow(2).mean().backward()
    out["encoder_gradients"] = _gradients(model)
    return out


def tied_gradients(ns, images, latent_dim, hidden, seed):
    model = _tied_model(ns, latent_dim, hidden, seed)
    return {"gradients": _loss_gradients(model, _images(images))}


# ------------------------------------------------------------------------------ q3: add_noise

def add_noise(ns, images, std, seed):
    x = _images(images)
    torch.manual_seed(seed + 1)  # a function that ignores its generator is then repeatable too
    noisy = ns["add_noise"](x, std, torch.Generator().manual_seed(seed))
    return {"noisy": _as_tensor(noisy, "add_noise"), "input_after": x}


def add_noise_repeatable(ns, images, std, seed):
    x = _images(images)
    torch.manual_seed(seed + 1)  # as in add_noise: noise from the global generator repeats too

    def noise(s):
        return _as_tensor(ns["add_noise"](x, std, torch.Generator().manual_seed(s)), "add_noise")
    return {"first": noise(seed), "again": noise(seed), "other_seed": noise(seed + 1)}


# ------------------------------------------------------------------------------ q4: train_epoch

def _noise_stand_in(clean, noisy, std, own):
    """add_noise during one epoch of train_epoch: for a batch of the epoch (equal to clean[j]),
    the check's std and the global generator, the given noisy images noisy[j] (drawing the
    same numbers from the global generator, so that it moves on as it would); any other call
    goes to the submission's own add_noise (own)."""
    def add_noise(x, std_given, generator=None):
        if generator is None and isinstance(x, torch.Tensor) and float(std_given) == std:
            for j, batch in enumerate(clean):
                if x.shape == batch.shape and torch.equal(x, batch):
                    torch.randn(x.shape, dtype=x.dtype)
                    return torch.from_numpy(np.array(noisy[j], dtype=np.float32)).to(x.dtype)
        return own(x, std_given, generator)
    return add_noise


def train_epoch(ns, images, batch_size, epochs, noise_std, lr, with_labels, noisy=None):
    """Trains the probe's small model for `epochs` calls of train_epoch on fixed batches (the
    last one smaller); noise_std None leaves it to its default. noisy: for each epoch, the
    noisy batches that add_noise (question 3) stands in with (Names.standing_in), so that
    question 4 is graded on its own."""
    torch.manual_seed(0)
    model = _TinyAutoencoder()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    x = _images(images)
    clean = [x[i:i + batch_size] for i in range(0, len(x), batch_size)]
    batches = clean
    if with_labels:  # what DataLoader(TensorDataset(X, y)) yields
        batches = [(b, torch.zeros(len(b), dtype=torch.long)) for b in clean]
    own = ns.own("add_noise") if noisy is not None else None
    losses = []
    for epoch in range(epochs):
        torch.manual_seed(100 + epoch)  # the noise comes from the global generator
        stand_in = {} if noisy is None else {
            "add_noise": _noise_stand_in(clean, noisy[epoch], float(noise_std), own)}
        more = {} if noise_std is None else {"noise_std": noise_std}  # None: the default
        with ns.standing_in(**stand_in):
            losses.append(float(ns["train_epoch"](model, batches, optimizer, **more)))
    return {"losses": np.array(losses), "weights": dict(model.state_dict())}


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

_THREADS_LOCK = threading.Lock()
_THREADS = {"users": 0, "before": 1}


@contextlib.contextmanager
def _one_thread():
    """torch single-threaded while a checkpoint is evaluated, so that the grader's numbers do
    not depend on the machine's core count. Counted: the grader evaluates submissions in
    parallel threads, and the setting is process-wide, so the last one out restores it."""
    with _THREADS_LOCK:
        if _THREADS["users"] == 0:
            _THREADS["before"] = torch.get_num_threads()
            torch.set_num_threads(1)
        _THREADS["users"] += 1
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _THREADS["users"] -= 1
            if _THREADS["users"] == 0:
                torch.set_num_threads(_THREADS["before"])


def _short(exc):
    text = " ".join(str(exc).split())
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "..."


def _pickled_global(exc):
    """The object torch's weights_only loader refused, e.g. '__main__.Autoencoder', or None."""
    match = re.search(r"GLOBAL ([\w.]+)", " ".join(str(exc).split()))
    return match.group(1)[:100] if match else None


def _read_state(ns):
    """The state_dict in the submitted file: bytes the grader read (__checkpoint__), the
    reference's own file, or autoencoder.pt in the working folder (in the notebook)."""
    data = ns.get("__checkpoint__")
    path = ns.get("__reference_checkpoint__") or CHECKPOINT
    save = f"torch.save(model.state_dict(), '{CHECKPOINT}')"
    if data is None and not os.path.isfile(path):
        raise WrongReturn(say("autoencoder.no-checkpoint", file=CHECKPOINT, save=save))
    try:
        state = torch.load(io.BytesIO(data) if data is not None else path, map_location="cpu",
                           weights_only=True)
    except Exception as exc:
        refused = _pickled_global(exc)
        if refused:
            raise WrongReturn(say("autoencoder.pickled-object", file=CHECKPOINT,
                                  refused=refused, save=save)) from None
        if "weights only load failed" in str(exc).lower():  # torch's text advises the unsafe way
            raise WrongReturn(say("autoencoder.pickled-data", file=CHECKPOINT, save=save)) \
                from None
        raise WrongReturn(say("autoencoder.not-a-checkpoint", file=CHECKPOINT,
                              type=type(exc).__name__, error=_short(exc), save=save)) from None
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        kinds = sorted({type(v).__name__ for v in state.values()}) if isinstance(state, dict) \
            else [type(state).__name__]
        raise WrongReturn(say("autoencoder.not-state-dict", file=CHECKPOINT,
                              kinds=", ".join(kinds), save=save))
    odd = sorted(k for k, v in state.items()
                 if v.layout != torch.strided or not v.dtype.is_floating_point)
    if odd:
        raise WrongReturn(say("autoencoder.not-dense", file=CHECKPOINT,
                              names=", ".join(odd)[:200], save=save))
    return state


def load_checkpoint(ns):
    """Autoencoder(64) holding the submitted weights, or an error saying what is wrong."""
    state = _read_state(ns)
    model = ns["Autoencoder"](LATENT_DIM)
    try:
        model.load_state_dict(state)
    except Exception as exc:
        raise WrongReturn(say("autoencoder.does-not-fit", file=CHECKPOINT, latent=LATENT_DIM,
                              error=_short(exc))) from None
    model.eval()
    return model


def _batched(fn, x, batch_size=250):
    with torch.no_grad():
        return torch.cat([_as_tensor(fn(x[i:i + batch_size]), say("autoencoder.the-model"))
                          for i in range(0, len(x), batch_size)]).to(torch.float32)


def _half(x):
    """Images as float16: half the size in the release's test files, and the MSE computed from
    them moves by about 1e-8 (0.0001 % of the model's)."""
    return x.to(torch.float16)


def _as_uint8_images(x):
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def checkpoint_reconstruction(ns, images, show, **for_judge):
    """The model's reconstructions, and the first few as uint8 images for the feedback page."""
    with _one_thread():
        recon = _batched(load_checkpoint(ns), _images(images))
    return {"reconstructions": _half(recon), "shown": _as_uint8_images(recon[:show])}


def checkpoint_denoising(ns, images, noise_std, seed, **for_judge):
    with _one_thread():
        model = load_checkpoint(ns)
        x = _images(images)
        # The probe's own noise (not the submission's add_noise): this grades the model alone.
        noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
        noisy = (x + noise_std * noise).clamp(0, 1)
        return {"noisy": _half(noisy), "denoised": _half(_batched(model, noisy))}


def checkpoint_features(ns, train_images, test_images, **for_judge):
    """The codes (model.encode, evaluation mode, no gradients) of both image sets."""
    with _one_thread():
        model = load_checkpoint(ns)
        return {"train_features": _batched(model.encode, _images(train_images)),
                "test_features": _batched(model.encode, _images(test_images))}
