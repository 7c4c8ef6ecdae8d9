"""VAE probes: what the grader calls in a submission (runs inside the sandbox).

Each probe takes the submission's names and plain-data inputs and returns raw outputs; it holds
no expected value. The same probe applied to the reference gives the expected outputs.

Inputs arrive as numpy arrays and become torch tensors of the requested dtype here. Autograd
checks run backward on the student's own result, sum(cotangent * result), and return the
gradients of the leaves (None where no gradient reaches a leaf); the wire format turns tensors
into arrays. The dtype of every result is returned as a string, so float32 in -> float32 out is
checked exactly.
"""

import numpy as np
import torch

from checklib import raised


def _tensor(value, dtype, grad=False):
    return torch.tensor(np.asarray(value), dtype=getattr(torch, dtype)).requires_grad_(grad)


def _dtype(value):
    return str(value.dtype) if isinstance(value, torch.Tensor) else type(value).__name__


def _grads(out, cotangent, leaves):
    """d sum(cotangent * out) / d leaf for each leaf; None where no gradient flows."""
    if not (isinstance(out, torch.Tensor) and out.requires_grad and out.shape == cotangent.shape):
        return [None] * len(leaves)
    (out * cotangent).sum().backward()
    return [leaf.grad for leaf in leaves]


# --- q1 --------------------------------------------------------------------------------

def reparameterize(ns, mu, logvar, eps, dtype, cotangent=None):
    grad = cotangent is not None
    mu_t, logvar_t = _tensor(mu, dtype, grad), _tensor(logvar, dtype, grad)
    z = ns["reparameterize"](mu_t, logvar_t, _tensor(eps, dtype))
    out = {"z": z, "dtype": _dtype(z)}
    if grad:
        out["dmu"], out["dlogvar"] = _grads(z, _tensor(cotangent, dtype), [mu_t, logvar_t])
    return out


# --- q2 --------------------------------------------------------------------------------

def kl_divergence(ns, mu, logvar, dtype, cotangent=None):
    grad = cotangent is not None
    mu_t, logvar_t = _tensor(mu, dtype, grad), _tensor(logvar, dtype, grad)
    kl = ns["kl_divergence"](mu_t, logvar_t)
    out = {"kl": kl, "dtype": _dtype(kl)}
    if grad:
        out["dmu"], out["dlogvar"] = _grads(kl, _tensor(cotangent, dtype), [mu_t, logvar_t])
    return out


def kl_divergence_reject(ns, cases, dtype):
    fn = ns["kl_divergence"]
    return {"raises": [raised(fn, _tensor(mu, dtype), _tensor(logvar, dtype))
                       for mu, logvar in cases]}


# --- q3 --------------------------------------------------------------------------------

def reconstruction_loss(ns, x, x_hat, kind, dtype, cotangent=None):
    grad = cotangent is not None
    x_hat_t = _tensor(x_hat, dtype, grad)
    loss = ns["reconstruction_loss"](_tensor(x, dtype), x_hat_t, kind)
    out = {"loss": loss, "dtype": _dtype(loss)}
    if grad:
        (out["dx_hat"],) = _grads(loss, _tensor(cotangent, dtype), [x_hat_t])
    return out


def reconstruction_loss_reject(ns, cases, dtype):
    fn = ns["reconstruction_loss"]
    return {"raises": [raised(fn, _tensor(x, dtype), _tensor(x_hat, dtype), kind)
                       for x, x_hat, kind in cases]}


# --- q4 --------------------------------------------------------------------------------

def vae_loss(ns, x, x_hat, mu, logvar, dtype, beta=None, kind=None):
    """Calls vae_loss(x, x_hat, mu, logvar, beta, kind); beta and kind None (both) leave the
    defaults to the submission, to check them."""
    leaves = [_tensor(v, dtype, True) for v in (x_hat, mu, logvar)]
    args = [_tensor(x, dtype), *leaves]
    if beta is not None or kind is not None:
        args += [beta, kind]
    loss = ns["vae_loss"](*args)
    out = {"loss": loss, "dtype": _dtype(loss),
           "shape": list(loss.shape) if isinstance(loss, torch.Tensor) else None}
    cotangent = torch.ones((), dtype=getattr(torch, dtype))
    out["dx_hat"], out["dmu"], out["dlogvar"] = _grads(loss, cotangent, leaves)
    return out


def vae_loss_reject(ns, cases, dtype):
    fn = ns["vae_loss"]
    return {"raises": [raised(fn, _tensor(x, dtype), _tensor(x_hat, dtype), _tensor(mu, dtype),
                              _tensor(logvar, dtype), 1.0, kind)
                       for x, x_hat, mu, logvar, kind in cases]}


def vae_loss_on_notebook_data(ns, x, x_hat, mu, logvar, dtype, beta, kind):
    """vae_loss on the notebook's own demo batch (x_demo, x_hat_demo, mu_demo, logvar_demo:
    the student's variant); the inputs are that variant's numbers, used where the notebook does
    not define them (as in the reference). A notebook carrying another student's numbers
    answers for those."""
    given = {"x_demo": x, "x_hat_demo": x_hat, "mu_demo": mu, "logvar_demo": logvar}
    batch = []
    for name, value in given.items():
        own = ns.get(name)
        if isinstance(own, torch.Tensor):
            own = own.detach().cpu().numpy()
        batch.append(_tensor(value if own is None else own, dtype))
    loss = ns["vae_loss"](*batch, beta, kind)
    return {"loss": loss, "dtype": _dtype(loss),
            "shape": list(loss.shape) if isinstance(loss, torch.Tensor) else None}
