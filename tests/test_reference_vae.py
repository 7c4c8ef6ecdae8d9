"""Reference, mistakes and student files of the vae assignment.

The reference is checked against torch.distributions (KL of Normals, log-probabilities),
torch's own loss functions on an independent path (BCE with logits), Monte Carlo estimates
and torch.autograd.gradcheck, in float32 and float64 and at extreme log-variances.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence as torch_kl

from assignment_consistency import AssignmentFiles, ConsistencyTests, assert_mistake_differs

FILES = AssignmentFiles.load("vae")
ref, mistakes = FILES.reference, FILES.mistakes


class TestConsistency(ConsistencyTests):
    """The files agree with each other (shared tests, see assignment_consistency)."""

    files = FILES


# --- the reference is right -----------------------------------------------------------

DTYPES = [torch.float32, torch.float64]


def _batch(dtype, batch=5, latent=3, features=(4, 2), seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, *features, generator=g, dtype=dtype)
    x_hat = torch.rand(batch, *features, generator=g, dtype=dtype)
    mu = torch.randn(batch, latent, generator=g, dtype=dtype)
    logvar = torch.randn(batch, latent, generator=g, dtype=dtype)
    return x, x_hat, mu, logvar


def _rtol(dtype):
    return 1e-5 if dtype == torch.float32 else 1e-12


@pytest.mark.parametrize("dtype", DTYPES)
def test_reparameterize_is_mu_plus_sigma_eps_with_gradients(dtype):
    """z = mu + sigma * eps with sigma = sqrt(exp(logvar)); dtype is kept, and the
    gradients are dz/dmu = 1 and dz/dlogvar = eps * sigma / 2."""
    _, _, mu, logvar = _batch(dtype)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(1), dtype=dtype)
    mu.requires_grad_(True)
    logvar.requires_grad_(True)
    z = ref.reparameterize(mu, logvar, eps)
    sigma = torch.sqrt(torch.exp(logvar.detach()))
    assert z.dtype == dtype
    torch.testing.assert_close(z.detach(), mu.detach() + sigma * eps, rtol=_rtol(dtype), atol=0)
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones_like(mu))
    torch.testing.assert_close(logvar.grad, eps * sigma / 2, rtol=_rtol(dtype), atol=1e-7)


def test_reparameterized_samples_have_the_right_distribution():
    """With eps ~ N(0, I), samples z have mean mu and standard deviation exp(logvar / 2)."""
    mu = torch.tensor([[1.5, -2.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.0, math.log(0.25)]], dtype=torch.float64)
    eps = torch.randn(200_000, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    z = ref.reparameterize(mu, logvar, eps)
    torch.testing.assert_close(z.mean(0), mu[0], atol=0.01, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([1.0, 0.5], dtype=torch.float64),
                               rtol=0.01, atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_matches_torch_distributions(dtype):
    """kl_divergence equals torch.distributions.kl_divergence(N(mu, sigma), N(0, 1))
    summed over the latent dimension, shape (batch,), and is 0 at mu = 0, logvar = 0."""
    _, _, mu, logvar = _batch(dtype, batch=6, latent=4)
    got = ref.kl_divergence(mu, logvar)
    q = Normal(mu.double(), torch.exp(0.5 * logvar.double()))
    expected = torch_kl(q, Normal(torch.zeros_like(q.loc), torch.ones_like(q.loc))).sum(1)
    assert got.shape == (6,) and got.dtype == dtype
    torch.testing.assert_close(got.double(), expected, rtol=1e-5 if dtype == torch.float32
                               else 1e-12, atol=1e-6 if dtype == torch.float32 else 1e-14)
    assert ref.kl_divergence(torch.zeros(2, 3, dtype=dtype),
                             torch.zeros(2, 3, dtype=dtype)).abs().max() == 0
    assert (got > 0).all()


def test_kl_matches_monte_carlo_estimate():
    """The closed form agrees with E_q[log q(z) - log p(z)] estimated from 400,000
    reparameterized samples (within 1 %)."""
    mu = torch.tensor([[0.7, -1.2, 0.1]], dtype=torch.float64)
    logvar = torch.tensor([[0.5, -1.0, 0.0]], dtype=torch.float64)
    eps = torch.randn(400_000, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    z = ref.reparameterize(mu, logvar, eps)
    q = Normal(mu, torch.exp(0.5 * logvar))
    estimate = (q.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).sum(1).mean()
    assert ref.kl_divergence(mu, logvar).item() == pytest.approx(estimate.item(), rel=0.01)


@pytest.mark.parametrize("dtype,extreme", [(torch.float32, 50.0), (torch.float64, 80.0)])
def test_kl_and_loss_stay_finite_at_extreme_logvar(dtype, extreme):
    """At logvar = +-50 (float32) and +-80 (float64) the KL, the reparameterized sample and
    the VAE loss and its gradients are finite, and the KL matches the float64 formula."""
    mu = torch.zeros(2, 3, dtype=dtype, requires_grad=True)
    logvar = torch.tensor([[extreme] * 3, [-extreme] * 3], dtype=dtype, requires_grad=True)
    kl = ref.kl_divergence(mu, logvar)
    assert torch.isfinite(kl).all()
    lv = logvar.detach().double()
    expected = -0.5 * (1 + lv - torch.exp(lv)).sum(1)
    torch.testing.assert_close(kl.detach().double(), expected, rtol=1e-6, atol=1e-4)
    assert torch.isfinite(ref.reparameterize(mu, logvar, torch.ones_like(mu))).all()
    x = torch.rand(2, 4, dtype=dtype)
    loss = ref.vae_loss(x, x.clone().requires_grad_(True), mu, logvar, kind="bce")
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logvar.grad).all()


@pytest.mark.parametrize("mu,logvar", [(torch.zeros(2, 3), torch.zeros(2, 4)),
                                       (torch.zeros(3), torch.zeros(3))])
def test_kl_rejects_bad_shapes(mu, logvar):
    """Mismatched or 1-D mu/logvar raise ValueError naming both shapes."""
    with pytest.raises(ValueError, match=r"\(batch, latent\)"):
        ref.kl_divergence(mu, logvar)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_reconstruction_sums_over_all_features(dtype):
    """kind="mse" equals F.mse_loss(reduction="none") summed over every non-batch dim,
    for a 4-D (batch, 1, 28, 28) input too, with the input dtype."""
    g = torch.Generator().manual_seed(4)
    x = torch.rand(3, 1, 28, 28, generator=g, dtype=dtype)
    x_hat = torch.rand(3, 1, 28, 28, generator=g, dtype=dtype)
    got = ref.reconstruction_loss(x, x_hat)
    expected = F.mse_loss(x_hat, x, reduction="none").sum(dim=(1, 2, 3))
    assert got.shape == (3,) and got.dtype == dtype
    torch.testing.assert_close(got, expected, rtol=_rtol(dtype), atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_reconstruction_matches_logit_form(dtype):
    """kind="bce" on x_hat = sigmoid(logits) equals BCE-with-logits (a different code path)
    summed over the features."""
    g = torch.Generator().manual_seed(5)
    logits = torch.randn(4, 3, 5, generator=g, dtype=dtype)
    x = (torch.rand(4, 3, 5, generator=g, dtype=dtype) > 0.5).to(dtype)
    got = ref.reconstruction_loss(x, torch.sigmoid(logits), kind="bce")
    expected = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=(1, 2))
    torch.testing.assert_close(got, expected, rtol=1e-5 if dtype == torch.float32 else 1e-10,
                               atol=1e-5 if dtype == torch.float32 else 1e-12)


def test_bce_is_finite_for_saturated_predictions():
    """x_hat exactly 0 or 1: a right prediction costs 0, a wrong one the clamp value 100
    (log clamped at -100); the gradient w.r.t. x_hat is finite."""
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    x_hat = torch.tensor([[1.0, 0.0, 0.0, 1.0]], requires_grad=True)
    loss = ref.reconstruction_loss(x, x_hat, kind="bce")
    assert loss.item() == pytest.approx(200.0)
    loss.sum().backward()
    assert torch.isfinite(x_hat.grad).all()


@pytest.mark.parametrize("kwargs,match", [
    (dict(kind="l2"), r"unknown kind 'l2'.*'mse'.*'bce'"),
    (dict(x_hat=torch.rand(2, 5)), "same shape"),
    (dict(x_hat=torch.full((2, 4), 1.5), kind="bce"), r"outside \[0, 1\]"),
])
def test_reconstruction_rejects_bad_input(kwargs, match):
    """Unknown kind (listing the valid ones), mismatched shapes and BCE with x_hat outside
    [0, 1] raise ValueError."""
    args = dict(x=torch.rand(2, 4), x_hat=torch.rand(2, 4), kind="mse")
    with pytest.raises(ValueError, match=match):
        ref.reconstruction_loss(**{**args, **kwargs})


@pytest.mark.parametrize("kind", ["mse", "bce"])
@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0])
def test_vae_loss_is_batch_mean_of_recon_plus_beta_kl(kind, beta):
    """vae_loss is a 0-dim tensor equal to mean(recon + beta * KL) with recon from
    torch's losses and KL from torch.distributions."""
    x, x_hat, mu, logvar = _batch(torch.float64)
    got = ref.vae_loss(x, x_hat, mu, logvar, beta=beta, kind=kind)
    loss_fn = F.mse_loss if kind == "mse" else F.binary_cross_entropy
    recon = loss_fn(x_hat, x, reduction="none").sum(dim=(1, 2))
    q = Normal(mu, torch.exp(0.5 * logvar))
    kl = torch_kl(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(1)
    assert got.dim() == 0
    torch.testing.assert_close(got, (recon + beta * kl).mean(), rtol=1e-12, atol=1e-12)


def test_vae_loss_gradients_pass_gradcheck():
    """Autograd gradients of vae_loss (and so of both terms) w.r.t. x_hat, mu and logvar
    match finite differences (torch.autograd.gradcheck, float64)."""
    x, x_hat, mu, logvar = _batch(torch.float64, batch=2, latent=2, features=(3,))
    x_hat = (0.1 + 0.8 * x_hat).requires_grad_(True)     # away from the BCE clamp
    mu.requires_grad_(True)
    logvar.requires_grad_(True)
    for kind in ("mse", "bce"):
        assert torch.autograd.gradcheck(
            lambda xh, m, lv: ref.vae_loss(x, xh, m, lv, beta=2.0, kind=kind),
            (x_hat, mu, logvar))


def test_vae_loss_rejects_unknown_kind():
    """vae_loss raises ValueError for an unknown kind, listing the valid ones."""
    x, x_hat, mu, logvar = _batch(torch.float32)
    with pytest.raises(ValueError, match="'mse' and 'bce'"):
        ref.vae_loss(x, x_hat, mu, logvar, kind="cross_entropy")


# --- every mistake is detectable ------------------------------------------------------

def _typical_args(function):
    x, x_hat, mu, logvar = _batch(torch.float64, seed=7)
    if function == "reparameterize":
        return (mu, logvar, torch.randn(mu.shape, generator=torch.Generator().manual_seed(8),
                                        dtype=torch.float64))
    if function == "kl_divergence":
        return (mu, logvar)
    if function == "reconstruction_loss":
        return (x, x_hat, "bce")
    if function == "vae_loss":
        return (x, x_hat, mu, logvar, 2.0, "bce")
    raise AssertionError(f"no typical input for {function}")


def _differs(a, b):
    return a.shape != b.shape or not torch.allclose(a, b, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("mistake", mistakes.MISTAKES, ids=lambda m: m["id"])
def test_mistake_differs_from_reference(mistake):
    """On typical inputs (float64, BCE, beta = 2) the wrong variant's output differs from
    the reference's beyond rtol 1e-6, so the judge can tell them apart."""
    assert_mistake_differs(ref, mistake, _typical_args, _differs)


def test_mse_mistakes_are_detectable_too():
    """The mean-over-features variant is detectable with kind="mse" too (the swapped-BCE
    variant only concerns kind="bce")."""
    x, x_hat, _, _ = _batch(torch.float64, seed=9)
    expected = ref.reconstruction_loss(x, x_hat, "mse")
    got = mistakes.reconstruction_loss__mean_over_features(x, x_hat, "mse")
    assert _differs(got, expected)
