# %% setup
import torch

# A small batch to try your functions on: {{ v.demo_batch }} examples of {{ v.demo_features }} binary features, {{ v.demo_latent }} latent dims.
{% if v.seed -%}
torch.manual_seed(0)
x_demo = (torch.rand(4, 6) > 0.5).float()
x_hat_demo = torch.sigmoid(torch.randn(4, 6))
mu_demo = torch.randn(4, 2)
logvar_demo = torch.randn(4, 2)
{%- else -%}
{% for name in ("x_demo", "x_hat_demo", "mu_demo", "logvar_demo") %}{% if not loop.first %}
{% endif %}{{ name }} = torch.tensor([
{%- for row in v[name] %}
    {{ row | py }},
{%- endfor %}
])
{%- endfor %}
{%- endif %}

# %% q1
def reparameterize(mu, logvar, eps):
    """Reparameterization trick: a sample z ~ N(mu, diag(sigma^2)) written as a
    differentiable function of mu and logvar.

    mu, logvar: (batch, latent) tensors, logvar = log(sigma^2).
    eps: (batch, latent) standard-normal noise, given (do not draw it here).
    Returns z: (batch, latent), same dtype as mu; gradients must flow to mu and logvar.
    """
    raise NotImplementedError

# %% q2
def kl_divergence(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) for each example, in closed form.

    mu, logvar: (batch, latent) tensors.
    Returns a (batch,) tensor: the KL summed over the latent dimensions. Must stay finite
    for logvar as extreme as +-50 in float32. Raises ValueError if mu and logvar have
    different shapes or are not (batch, latent).
    """
    raise NotImplementedError

# %% q3
def reconstruction_loss(x, x_hat, kind="mse"):
    """Reconstruction term for each example, summed over all non-batch features.

    x: (batch, d1, ...) data, at least 2-D; x_hat: the decoder output, same shape.
    kind="mse": squared error (x_hat - x)^2.
    kind="bce": binary cross-entropy, with x_hat the probabilities in [0, 1] and x the
    targets in [0, 1]; must stay finite when x_hat is exactly 0 or 1.
    Returns a (batch,) tensor. Raises ValueError for an unknown kind (the message lists
    the valid ones), for shapes that differ, or for kind="bce" with x_hat outside [0, 1].
    """
    raise NotImplementedError

# %% q4
def vae_loss(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    """VAE loss (negative ELBO, beta-weighted): the batch mean of
    reconstruction_loss(x, x_hat, kind) + beta * kl_divergence(mu, logvar).

    x, x_hat: (batch, d1, ...); mu, logvar: (batch, latent); beta: float >= 0.
    Returns a scalar (0-dim) tensor that keeps the gradients. Raises ValueError in the
    same cases as reconstruction_loss and kl_divergence.
    """
    raise NotImplementedError
