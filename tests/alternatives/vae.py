"""Correct vae solutions written unlike the reference (tests/test_diagnoses.py grades them).

SOLUTIONS: each gets full marks and names no mistake. WITHOUT_VALIDATION: the mathematics
right and no input validation; loses at most the validation points and names no mistake.
"""

SOLUTIONS = {
    # sigma as sqrt(exp(logvar)), the KL of torch.distributions, torch's functional losses with
    # reduction="none", and a vae_loss built on the notebook's own functions (called by keyword)
    "torch-library": {
        "q1": '''
def reparameterize(mu, logvar, eps):
    return torch.sqrt(torch.exp(logvar)) * eps + mu
''',
        "q2": '''
from torch.distributions import Normal, kl_divergence as _kl


def kl_divergence(mu, logvar):
    if mu.dim() != 2 or mu.shape != logvar.shape:
        raise ValueError("mu and logvar must both be (batch, latent)")
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return _kl(q, p).sum(dim=1)
''',
        "q3": '''
import torch.nn.functional as F


def reconstruction_loss(x, x_hat, kind="mse"):
    if kind not in {"mse", "bce"}:
        raise ValueError(f"kind must be 'mse' or 'bce', not {kind!r}")
    if x.shape != x_hat.shape:
        raise ValueError("x and x_hat must have the same shape")
    if kind == "mse":
        terms = F.mse_loss(x_hat, x, reduction="none")
    else:
        if x_hat.min() < 0 or x_hat.max() > 1:
            raise ValueError("bce needs x_hat in [0, 1]")
        terms = F.binary_cross_entropy(x_hat, x, reduction="none")
    return terms.flatten(start_dim=1).sum(dim=1)
''',
        "q4": '''
def vae_loss(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    recon = reconstruction_loss(x=x, x_hat=x_hat, kind=kind)
    kl = kl_divergence(mu=mu, logvar=logvar)
    return (recon + beta * kl).mean()
''',
    },
    # loops over the batch, the KL as 0.5 * (mu^2 + sigma^2 - 1 - log sigma^2), a BCE kept
    # finite with log(x_hat + 1e-7) instead of torch's clamp, and a vae_loss written out that
    # flattens x itself and sums over the batch before dividing by its size
    "loops": {
        "q1": '''
def reparameterize(mu, logvar, eps):
    rows = [m + e * torch.exp(lv / 2) for m, lv, e in zip(mu, logvar, eps)]
    return torch.stack(rows)
''',
        "q2": '''
def kl_divergence(mu, logvar):
    if len(mu.shape) != 2 or tuple(mu.shape) != tuple(logvar.shape):
        raise ValueError("mu and logvar must have the same (batch, latent) shape")
    rows = []
    for m, lv in zip(mu, logvar):
        rows.append(0.5 * torch.sum(m * m + torch.exp(lv) - 1 - lv))
    return torch.stack(rows)
''',
        "q3": '''
def reconstruction_loss(x, x_hat, kind="mse"):
    if kind != "mse" and kind != "bce":
        raise ValueError("unknown kind; use 'mse' or 'bce'")
    if x.shape != x_hat.shape:
        raise ValueError("x and x_hat differ in shape")
    if kind == "bce" and ((x_hat < 0).any() or (x_hat > 1).any()):
        raise ValueError("x_hat must lie in [0, 1] for bce")
    eps = 1e-7  # moves a term by ~eps / x_hat: within the bce checks' tolerance
    out = []
    for xi, xh in zip(x.reshape(x.shape[0], -1), x_hat.reshape(x.shape[0], -1)):
        if kind == "mse":
            out.append(((xh - xi) ** 2).sum())
        else:
            out.append(-(xi * torch.log(xh + eps) + (1 - xi) * torch.log(1 - xh + eps)).sum())
    return torch.stack(out)
''',
        "q4": '''
def vae_loss(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    if kind not in ("mse", "bce"):
        raise ValueError("kind must be 'mse' or 'bce'")
    if x.shape != x_hat.shape or mu.shape != logvar.shape or mu.dim() != 2:
        raise ValueError("shapes do not match")
    b = x.shape[0]
    xf, xh = x.view(b, -1), x_hat.view(b, -1)
    if kind == "mse":
        recon = ((xh - xf) ** 2).sum()
    else:
        if (xh < 0).any() or (xh > 1).any():
            raise ValueError("x_hat must lie in [0, 1] for bce")
        logs = torch.log(xh).clamp(min=-100), torch.log1p(-xh).clamp(min=-100)
        recon = -(xf * logs[0] + (1 - xf) * logs[1]).sum()
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum()
    return (recon + beta * kl) / b
''',
    },
}

WITHOUT_VALIDATION = {
    "lax": {
        "q2": '''
def kl_divergence(mu, logvar):
    return -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)
''',
        "q3": '''
def reconstruction_loss(x, x_hat, kind="mse"):
    if kind == "mse":
        per_feature = (x_hat - x) ** 2
    else:
        per_feature = torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none")
    return per_feature.reshape(x.shape[0], -1).sum(dim=1)
''',
        # calls the notebook's own (unvalidated) functions
        "q4": '''
def vae_loss(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    return torch.mean(reconstruction_loss(x, x_hat, kind) + beta * kl_divergence(mu, logvar))
''',
    },
}
