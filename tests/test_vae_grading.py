"""Grading of vae submissions: known mistakes are named in the feedback, the bundled examples
score full / partial / zero, dtype and autograd slips are reported, a wrong earlier function
costs points in its own question only, and the KL checks expect what torch.distributions
computes. Correct code written differently from the reference: tests/alternatives/vae.py,
graded by tests/test_diagnoses.py."""

import pytest
import torch
from torch.distributions import Normal, kl_divergence as torch_kl

from assignment_grading import MistakeAloneGradingTests, feedback, grade, named, \
    notebook_with_code, question
from neurograde import checklib
from neurograde.probe import make_plan
from neurograde.spec import load_assignment

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


# q2 and q3 wrong (the KL's sign, the reconstruction averaged over the features), q4 right and
# built on them: the case, once told "The KL is subtracted" in q4.
WRONG_EARLIER = {
    "q2": """
def kl_divergence(mu, logvar):
    if mu.shape != logvar.shape or mu.dim() != 2:
        raise ValueError("mu and logvar must be (batch, latent)")
    return 0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)
""",
    "q3": """
def reconstruction_loss(x, x_hat, kind="mse"):
    if kind not in ("mse", "bce"):
        raise ValueError("kind must be 'mse' or 'bce'")
    if x.shape != x_hat.shape:
        raise ValueError("shapes differ")
    if kind == "mse":
        return torch.nn.functional.mse_loss(x_hat, x, reduction="none").flatten(1).mean(1)
    if (x_hat < 0).any() or (x_hat > 1).any():
        raise ValueError("x_hat outside [0, 1]")
    return torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none").flatten(1).mean(1)
""",
    "q4": """
def vae_loss(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    return torch.mean(reconstruction_loss(x, x_hat, kind) + beta * kl_divergence(mu, logvar))
""",
}

# q4 right but calling kl_divergence with its arguments swapped: the stand-in has no values
# for that call, so q4 is graded with the notebook's own (right) functions, and loses.
SWAPPED_CALL = {
    "q4": """
def vae_loss(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    return torch.mean(reconstruction_loss(x, x_hat, kind) + beta * kl_divergence(logvar, mu))
""",
}


def test_a_wrong_earlier_function_costs_points_in_its_own_question_only(vae, tmp_path, box):
    """A vae_loss that is right but calls a wrong kl_divergence (q2) and a wrong
    reconstruction_loss (q3) keeps all of q4's points, and q4 names no mistake (the KL's sign
    from q2 is not "the KL is subtracted"): q2 and q3 name their own mistakes. A vae_loss that
    calls kl_divergence on other inputs (swapped) is graded on its own functions and loses."""
    paths = [notebook_with_code(vae, WRONG_EARLIER, tmp_path / "subs" / "earlier.ipynb"),
             notebook_with_code(vae, SWAPPED_CALL, tmp_path / "subs" / "swapped.ipynb")]
    results = grade(vae, paths, tmp_path / "out")
    earlier = results["earlier"]
    scores = {q.id: (q.score, q.possible) for q in earlier.questions}
    assert scores["q4"][0] == scores["q4"][1], question(earlier, "q4").feedback
    assert scores["q2"][0] < scores["q2"][1] and scores["q3"][0] < scores["q3"][1]
    assert named(earlier) == {"kl-sign", "recon-mean-over-features"}, feedback(earlier)
    swapped = results["swapped"]
    assert {q.id for q in swapped.questions if q.score < q.possible} == {"q4"}


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
        expected = checklib.normalize(probe(checklib.Names(reference), **planned.inputs))
        loose = {k: checklib.Tol(10 * t.atol, 10 * t.rtol)
                 for k, t in planned.check.tol.items()}
        question = vae.question(planned.check.question)
        for mistake in vae.mistakes:
            if mistake.function not in question.defines:
                continue
            if mistake.id == "recon-bce-swapped" and planned.inputs.get("kind") != "bce":
                continue  # identical to the reference for mse by construction
            if mistake.id in ("loss-beta-on-reconstruction", "loss-beta-ignored") \
                    and planned.inputs.get("beta") in (None, 1.0):
                continue  # identical for beta = 1
            if mistake.id == "loss-kl-subtracted" and planned.inputs.get("beta") == 0.0:
                continue  # identical for beta = 0
            variant = ChainMap({mistake.function: mistake.variant}, reference)
            out = checklib.normalize(probe(checklib.Names(variant), **planned.inputs))
            assert checklib.compare(out, expected, loose), (planned.check.name, mistake.id)


def test_stand_ins_give_the_reference_values_and_gradients(vae):
    """The numbers the q4 stand-ins return (given by checks.py for each q4 check, canonical
    and two students' variants, two seeds) are the reference kl_divergence and
    reconstruction_loss of the check's inputs, with their gradients, in float64."""
    ref = vae.reference
    seen = 0
    for variant in (None, 1, 2):
        for seed in (None, 3):
            for planned in make_plan(vae, seed, variant=variant).checks:
                inputs = planned.inputs
                if "given_kl" not in inputs:
                    continue
                seen += 1
                x, x_hat, mu, logvar = (torch.tensor(inputs[k], dtype=torch.float64,
                                                     requires_grad=k != "x")
                                        for k in ("x", "x_hat", "mu", "logvar"))
                kl = ref.kl_divergence(mu, logvar)
                dmu, dlogvar = torch.autograd.grad(kl.sum(), [mu, logvar])
                recon = ref.reconstruction_loss(x, x_hat, inputs.get("kind") or "mse")
                (dx_hat,) = torch.autograd.grad(recon.sum(), [x_hat])
                given = [*inputs["given_kl"], *inputs["given_recon"]]
                for got, want in zip(given, (kl, dmu, dlogvar, recon, dx_hat)):
                    assert torch.allclose(torch.as_tensor(got), want.detach(), rtol=1e-9,
                                          atol=1e-9), planned.check.name
    assert seen >= 5 * 6
