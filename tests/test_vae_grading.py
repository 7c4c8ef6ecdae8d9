"""Grading of vae submissions: known mistakes are named in the feedback, the bundled examples
score full / partial / zero, dtype and autograd slips are reported, and the KL checks expect
what torch.distributions computes."""

import pytest
import torch
from torch.distributions import Normal, kl_divergence as torch_kl

from assignment_grading import MistakeAloneGradingTests, grade, notebook_with_code
from autograder import checklib
from autograder.probe import make_plan
from autograder.spec import load_assignment

SLUG = "vae"


class TestGrading(MistakeAloneGradingTests):
    """Shared grading tests (see assignment_grading), each mistake also graded alone."""

    slug = SLUG


@pytest.fixture(scope="module")
def vae():
    return load_assignment(SLUG)


LAX = {
    "q2": """
def kl_divergence(mu, logvar):
    return -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)
""",
    "q3": """
def reconstruction_loss(x, x_hat, kind="mse"):
    if kind == "mse":
        per_feature = (x_hat - x) ** 2
    else:
        per_feature = torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none")
    return per_feature.reshape(x.shape[0], -1).sum(dim=1)
""",
    "q4": """
def vae_loss(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    if kind == "mse":
        per_feature = (x_hat - x) ** 2
    else:
        per_feature = torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none")
    recon = per_feature.reshape(x.shape[0], -1).sum(dim=1)
    kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)
    return torch.mean(recon + beta * kl)
""",
}

SLIPS = {
    # float32 in, float64 out
    "q1": """
def reparameterize(mu, logvar, eps):
    return (mu + eps * torch.exp(0.5 * logvar)).double()
""",
    # right values through numpy: the graph is cut
    "q2": """
def kl_divergence(mu, logvar):
    import numpy as np
    if mu.shape != logvar.shape or mu.dim() != 2:
        raise ValueError("mu and logvar must be (batch, latent)")
    m, lv = mu.detach().numpy(), logvar.detach().numpy()
    return torch.from_numpy(-0.5 * (1 + lv - m ** 2 - np.exp(lv)).sum(axis=1))
""",
    # log(0) * 0 = NaN at saturated predictions
    "q3": """
def reconstruction_loss(x, x_hat, kind="mse"):
    if kind not in ("mse", "bce"):
        raise ValueError("kind must be 'mse' or 'bce'")
    if x.shape != x_hat.shape:
        raise ValueError("shapes differ")
    if kind == "mse":
        per_feature = (x_hat - x) ** 2
    else:
        if ((x_hat < 0) | (x_hat > 1)).any():
            raise ValueError("x_hat outside [0, 1]")
        per_feature = -(x * torch.log(x_hat) + (1 - x) * torch.log(1 - x_hat))
    return per_feature.reshape(x.shape[0], -1).sum(dim=1)
""",
    # a Python float: no dtype, no shape, no gradients
    "q4": """
def vae_loss(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    if kind not in ("mse", "bce"):
        raise ValueError("kind must be 'mse' or 'bce'")
    if x.shape != x_hat.shape or mu.shape != logvar.shape:
        raise ValueError("shapes differ")
    per_feature = ((x_hat - x) ** 2 if kind == "mse" else
                   torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none"))
    recon = per_feature.reshape(x.shape[0], -1).sum(dim=1)
    kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)
    return torch.mean(recon + beta * kl).item()
""",
}


OTHER_CORRECT = {
    "q1": """
def reparameterize(mu, logvar, eps):
    return mu + torch.sqrt(torch.exp(logvar)) * eps
""",
    "q2": """
def kl_divergence(mu, logvar):
    if mu.shape != logvar.shape or mu.dim() != 2:
        raise ValueError("mu and logvar must be (batch, latent)")
    sigma = torch.exp(0.5 * logvar)
    return 0.5 * (mu ** 2 + sigma ** 2 - 1 - logvar).sum(dim=-1)
""",
    "q3": """
def reconstruction_loss(x, x_hat, kind="mse"):
    if kind not in ("mse", "bce"):
        raise ValueError(f"unknown kind {kind!r}: use 'mse' or 'bce'")
    if x.shape != x_hat.shape:
        raise ValueError("x and x_hat must have the same shape")
    dims = tuple(range(1, x.dim()))
    if kind == "mse":
        return ((x - x_hat) ** 2).sum(dim=dims)
    if (x_hat < 0).any() or (x_hat > 1).any():
        raise ValueError("x_hat must be in [0, 1] for bce")
    eps = 1e-7
    return -(x * torch.log(x_hat + eps) + (1 - x) * torch.log(1 - x_hat + eps)).sum(dim=dims)
""",
    "q4": """
def vae_loss(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    return (reconstruction_loss(x, x_hat, kind) + beta * kl_divergence(mu, logvar)).mean()
""",
}


def test_other_correct_formulations_get_full_marks(vae, tmp_path, box):
    """sqrt(exp(logvar)) for sigma, the KL written as 0.5 * (mu^2 + sigma^2 - 1 - logvar),
    a BCE kept finite with log(x_hat + 1e-7) instead of torch's clamp, and a vae_loss built
    on the student's own functions all get full marks: the tolerances accept them."""
    path = notebook_with_code(vae, OTHER_CORRECT, tmp_path / "subs" / "other.ipynb")
    result = grade(vae, [path], tmp_path / "out")["other"]
    lost = [f for q in result.questions for f in q.feedback]
    assert result.total == vae.possible, lost


def test_missing_validation_and_classic_slips_are_reported(vae, tmp_path, box):
    """A correct submission without input validation loses exactly the ValueError checks,
    with no known mistake named there (the variants validate like the reference). Classic
    slips get a specific message: float32 in / float64 out names the dtype, a detour through
    numpy gives no gradient, log(0) * 0 gives NaN, .item() returns a float without a graph."""
    paths = [notebook_with_code(vae, LAX, tmp_path / "subs" / "lax.ipynb"),
             notebook_with_code(vae, SLIPS, tmp_path / "subs" / "slips.ipynb")]
    results = grade(vae, paths, tmp_path / "out")
    lax = results["lax"]
    failed = [c for c in lax.checks if c.score < c.points]
    assert failed and all("ValueError" in c.name for c in failed), [c.name for c in failed]
    assert {c.question for c in failed} == {"q2", "q3", "q4"}
    assert all(c.mistake is None for c in failed)
    assert "likely mistake" not in "\n".join(f for c in failed for f in c.feedback)

    slips = results["slips"]
    assert slips.status == "ok", slips.message
    fb = {q.id: "\n".join(q.feedback) for q in slips.questions}
    assert "dtype: returned 'torch.float64'" in fb["q1"]
    assert all(c.score == c.points for c in slips.checks
               if c.question == "q1" and "float64" in c.name)
    assert "dmu: should be an array" in fb["q2"] and "got None" in fb["q2"]  # hidden wording
    assert all(c.score == c.points for c in slips.checks
               if c.question == "q2" and "gradient" not in c.name)
    failed_q3 = [c.name for c in slips.checks if c.question == "q3" and c.score < c.points]
    assert failed_q3 == ["bce with x_hat exactly 0 or 1 stays finite, float32"]
    assert "loss: contains NaN" in fb["q3"]
    assert "dtype: returned 'float'" in fb["q4"]
    assert all(c.score == 0 for c in slips.checks
               if c.question == "q4" and "ValueError" not in c.name)
    assert all(c.mistake is None for c in slips.checks)


def test_kl_checks_expect_torch_distributions_values(vae):
    """On the KL checks' inputs for three grading seeds (extreme logvar included), the
    expected values (the reference through the probe) equal
    torch.distributions.kl_divergence(N(mu, sigma), N(0, 1)) summed over the latent
    dimensions, within each check's own tolerance: the hidden checks really compare with
    torch.distributions."""
    reference = vars(vae.reference)
    for seed in (None, 1, 2):
        for planned in make_plan(vae, seed).checks:
            if planned.check.probe != "kl_divergence":
                continue
            inputs = planned.inputs
            expected = vae.probes.kl_divergence(reference, **inputs)["kl"]
            dtype = getattr(torch, inputs["dtype"])
            mu = torch.tensor(inputs["mu"], dtype=dtype)
            sigma = torch.exp(0.5 * torch.tensor(inputs["logvar"], dtype=dtype))
            truth = torch_kl(Normal(mu, sigma), Normal(torch.zeros_like(mu),
                                                      torch.ones_like(mu))).sum(dim=1)
            assert torch.isfinite(truth).all()
            problems = checklib.compare(checklib.normalize(expected), truth.numpy(),
                                        planned.check.tol["kl"])
            assert not problems, (planned.check.name, problems)


def test_float_tolerances_separate_every_variant(vae):
    """On every non-ValueError check of the default plan, each variant of the question is
    farther from the reference than 10x the check's tolerance somewhere, so rounding can
    never turn a correct answer into a named mistake or the reverse."""
    from collections import ChainMap
    plan = make_plan(vae)
    reference = vars(vae.reference)
    for planned in plan.checks:
        if planned.check.probe.endswith("_reject"):
            continue
        probe = getattr(vae.probes, planned.check.probe)
        expected = checklib.normalize(probe(reference, **planned.inputs))
        loose = {k: checklib.Tol(10 * t.atol, 10 * t.rtol)
                 for k, t in planned.check.tol.items()}
        question = vae.question(planned.check.question)
        for mistake in vae.mistakes:
            if mistake.function not in question.defines:
                continue
            if mistake.id == "recon-bce-swapped" and planned.inputs.get("kind") != "bce":
                continue  # identical to the reference for mse by construction
            if mistake.id == "loss-beta-on-reconstruction" and planned.inputs.get("beta") in (
                    None, 1.0):
                continue  # identical for beta = 1
            if mistake.id == "loss-kl-subtracted" and planned.inputs.get("beta") == 0.0:
                continue  # identical for beta = 0
            out = checklib.normalize(probe(ChainMap({mistake.function: mistake.variant},
                                                    reference), **planned.inputs))
            assert checklib.compare(out, expected, loose), (planned.check.name, mistake.id)
