"""Reference solution: the loss of a variational autoencoder (torch).

Shapes: mu, logvar (batch, latent); x, x_hat (batch, d1, ...). Per-example terms are summed
over their non-batch dimensions and the loss averages them over the batch. Everything
stays in torch with the input dtype, so autograd flows through and float32 / float64 both
work.
"""
import torch


# --- q1 -------------------------------------------------------------------------------

def reparameterize(mu, logvar, eps):
    """z = mu + eps * sigma with sigma = exp(0.5 * logvar); eps ~ N(0, I) is given."""
    return mu + eps * torch.exp(0.5 * logvar)


# --- q2 -------------------------------------------------------------------------------

def kl_divergence(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per example: (batch,).

    Closed form -0.5 * sum(1 + logvar - mu^2 - exp(logvar)) over the latent dims.
    Raises ValueError if mu and logvar differ in shape or are not at least 2-D.
    """
    if mu.shape != logvar.shape or mu.dim() < 2:
        raise ValueError(f"kl_divergence: mu and logvar must both be (batch, latent), got "
                         f"{tuple(mu.shape)} and {tuple(logvar.shape)}")
    # exp(logvar) is finite up to logvar ~ 88 in float32 and ~ 709 in float64, so the
    # closed form needs no special casing for the extreme values a bad encoder emits.
    terms = 1 + logvar - mu ** 2 - torch.exp(logvar)
    return -0.5 * terms.reshape(mu.shape[0], -1).sum(dim=1)


# --- q3 -------------------------------------------------------------------------------

def reconstruction_loss(x, x_hat, kind="mse"):
    """Per-example reconstruction loss (batch,), summed over all non-batch features.

    kind="mse": squared error (x_hat - x)^2. kind="bce": binary cross-entropy with x_hat
    the Bernoulli probabilities, via torch's BCE (log clamped at -100, so x_hat of exactly
    0 or 1 stays finite). Raises ValueError for an unknown kind, mismatched shapes or,
    for "bce", x_hat outside [0, 1].
    """
    if kind not in ("mse", "bce"):
        raise ValueError(f"reconstruction_loss: unknown kind {kind!r}; valid kinds are "
                         "'mse' and 'bce'")
    if x.shape != x_hat.shape or x.dim() < 1:
        raise ValueError(f"reconstruction_loss: x and x_hat must have the same shape "
                         f"(batch, ...), got {tuple(x.shape)} and {tuple(x_hat.shape)}")
    if kind == "mse":
        per_feature = (x_hat - x) ** 2
    else:
        if bool(((x_hat < 0) | (x_hat > 1)).any()):
            raise ValueError("reconstruction_loss: kind='bce' needs probabilities, but x_hat "
                             "has values outside [0, 1] (apply a sigmoid first)")
        per_feature = torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none")
    return per_feature.reshape(x.shape[0], -1).sum(dim=1)


# --- q4 -------------------------------------------------------------------------------

def vae_loss(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    """Scalar batch mean of reconstruction_loss + beta * kl_divergence (the negative ELBO).

    Both terms are written out here so this question does not depend on the others.
    Raises ValueError like reconstruction_loss and kl_divergence.
    """
    if kind not in ("mse", "bce"):
        raise ValueError(f"vae_loss: unknown kind {kind!r}; valid kinds are 'mse' and 'bce'")
    if x.shape != x_hat.shape or mu.shape != logvar.shape or mu.dim() < 2:
        raise ValueError(f"vae_loss: need x and x_hat of equal shape and mu, logvar both "
                         f"(batch, latent); got {tuple(x.shape)}, {tuple(x_hat.shape)}, "
                         f"{tuple(mu.shape)}, {tuple(logvar.shape)}")
    if kind == "mse":
        per_feature = (x_hat - x) ** 2
    else:
        if bool(((x_hat < 0) | (x_hat > 1)).any()):
            raise ValueError("vae_loss: kind='bce' needs x_hat in [0, 1]")
        per_feature = torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none")
    recon = per_feature.reshape(x.shape[0], -1).sum(dim=1)
    kl = -0.5 * (1 + logvar - mu ** 2 - torch.exp(logvar)).reshape(mu.shape[0], -1).sum(dim=1)
    return torch.mean(recon + beta * kl)
