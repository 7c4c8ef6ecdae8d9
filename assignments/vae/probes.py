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
#
# q4 is graded on its own: while vae_loss runs, kl_divergence and reconstruction_loss stand in
# for the submission's q2 and q3 functions. Called on this check's own inputs, a stand-in
# returns the given per-example values (computed by the grader, passed in as plain numbers)
# with the given gradients attached: value + sum(grad * (input - input.detach())), whose value
# is the given one and whose gradient is the given one. Called on other inputs (arguments
# swapped, values changed), it stops that run, and vae_loss runs again on the submission's own
# functions.

class _OtherInputs(BaseException):
    """A stand-in was called on inputs it has no values for (BaseException: a submission's
    `except Exception` does not swallow it)."""


def _same(arg, tensor):
    """Is arg the check's tensor, possibly reshaped (batch kept) or cast to another dtype?"""
    return (isinstance(arg, torch.Tensor) and arg.dim() >= 1
            and arg.shape[0] == tensor.shape[0] and arg.numel() == tensor.numel()
            and torch.equal(arg.detach().to(tensor.dtype).reshape(tensor.shape),
                            tensor.detach()))


def _carrying(value, pairs, rows):
    """value (rows,) plus, for each (arg, grad), sum over each row of grad * (arg - arg.detach()):
    the value given, with the gradient given."""
    out = value
    for arg, grad in pairs:
        grad = grad.to(arg.dtype).reshape(arg.shape)
        out = out + (grad * (arg - arg.detach())).reshape(rows, -1).sum(dim=1)
    return out


def _stand_ins(check_x, check_x_hat, check_mu, check_logvar, check_kind, given_kl,
               given_recon):
    """kl_divergence and reconstruction_loss (the stubs' signatures, so calls by keyword work
    too) returning the given values on the check's inputs."""
    rows = check_mu.shape[0]
    kl, dkl_dmu, dkl_dlogvar = (torch.tensor(np.asarray(v), dtype=torch.float64)
                                for v in given_kl)
    recon, drecon = (torch.tensor(np.asarray(v), dtype=torch.float64) for v in given_recon)

    def kl_divergence(mu, logvar):
        if not (_same(mu, check_mu) and _same(logvar, check_logvar)):
            raise _OtherInputs
        return _carrying(kl.to(mu.dtype), [(mu, dkl_dmu), (logvar, dkl_dlogvar)], rows)

    def reconstruction_loss(x, x_hat, kind="mse"):
        if not (isinstance(kind, str) and kind == check_kind and _same(x, check_x)
                and _same(x_hat, check_x_hat)):
            raise _OtherInputs
        return _carrying(recon.to(x_hat.dtype), [(x_hat, drecon)], rows)

    return {"kl_divergence": kl_divergence, "reconstruction_loss": reconstruction_loss}


def _on_its_own(ns, args, kind, given_kl, given_recon):
    """vae_loss(*args) with the stand-ins for q2 and q3 (see above); kind as the loss uses it."""
    fn = ns["vae_loss"]
    if given_kl is None or given_recon is None:
        return fn(*args)
    try:
        with ns.standing_in(**_stand_ins(*args[:4], kind, given_kl, given_recon)):
            return fn(*args)
    except _OtherInputs:
        return fn(*args)


def vae_loss(ns, x, x_hat, mu, logvar, dtype, beta=None, kind=None, given_kl=None,
             given_recon=None, grads=True):
    """Calls vae_loss(x, x_hat, mu, logvar, beta, kind); beta and kind None (both) leave the
    defaults to the submission, to check them. given_kl, given_recon: the stand-ins' values.
    grads: also return the gradients of the loss with respect to x_hat, mu and logvar."""
    leaves = [_tensor(v, dtype, True) for v in (x_hat, mu, logvar)]
    args = [_tensor(x, dtype), *leaves]
    if beta is not None or kind is not None:
        args += [beta, kind]
    loss = _on_its_own(ns, args, kind or "mse", given_kl, given_recon)
    out = {"loss": loss, "dtype": _dtype(loss),
           "shape": list(loss.shape) if isinstance(loss, torch.Tensor) else None}
    if grads:
        cotangent = torch.ones((), dtype=getattr(torch, dtype))
        out["dx_hat"], out["dmu"], out["dlogvar"] = _grads(loss, cotangent, leaves)
    return out


def vae_loss_reject(ns, cases, dtype):
    fn = ns["vae_loss"]
    return {"raises": [raised(fn, _tensor(x, dtype), _tensor(x_hat, dtype), _tensor(mu, dtype),
                              _tensor(logvar, dtype), 1.0, kind)
                       for x, x_hat, mu, logvar, kind in cases]}


def vae_loss_on_notebook_data(ns, x, x_hat, mu, logvar, dtype, beta, kind, given_kl=None,
                              given_recon=None):
    """vae_loss on the notebook's own demo batch (x_demo, x_hat_demo, mu_demo, logvar_demo:
    the student's variant); the inputs are that variant's numbers, used where the notebook does
    not define them (as in the reference). A notebook carrying another student's numbers
    answers for those (on them, the stand-ins of q2 and q3 have no values: its own run)."""
    given = {"x_demo": x, "x_hat_demo": x_hat, "mu_demo": mu, "logvar_demo": logvar}
    batch = []
    for name, value in given.items():
        own = ns.get(name)
        if isinstance(own, torch.Tensor):
            own = own.detach().cpu().numpy()
        batch.append(_tensor(value if own is None else own, dtype))
    loss = _on_its_own(ns, [*batch, beta, kind], kind, given_kl, given_recon)
    return {"loss": loss, "dtype": _dtype(loss),
            "shape": list(loss.shape) if isinstance(loss, torch.Tensor) else None}
