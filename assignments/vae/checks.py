"""VAE checks: inputs and tolerances (trusted side). Points add up per question.

Expected values are the reference's, computed in the same dtype. The reference's KL is pinned
to torch.distributions.kl_divergence by tests/test_reference_vae.py; the checks do not compute
torch.distributions' KL inside the sandbox, because that would be an expected value computed
next to student code, which could replace torch.distributions.kl_divergence before the probe
runs.

Input validation (Check(validation=True): the ValueError checks) carries 1 of the 10 points;
the rest is for the mathematics.

q4 is graded on its own: a vae_loss that calls the student's kl_divergence (q2) and
reconstruction_loss (q3) sees stand-ins for them (probes.vae_loss, Names.standing_in) that
return the right per-example values for the check's mu, logvar (x, x_hat, kind), with their
gradients, given here as plain numbers (_given); a wrong kl_divergence costs points in q2 only.
A vae_loss that writes both terms out itself is graded the same way.

Per-student variants (CANONICAL, variant(rng)) redraw the shapes and values of the public
checks' small tensors, the notebook's demo batch (x_demo, x_hat_demo, mu_demo, logvar_demo)
and the beta the text asks for; the notebook's text and setup cell print them. One public check
computes vae_loss on the notebook's own demo batch, so a notebook carrying another student's
numbers loses it.
"""

import numpy as np

from neurograde.checklib import EXACT, Tol
from neurograde.spec import Check

# float64: reorderings of the same formula differ by ~1e-15 relative; the known mistakes by
# factors of 2 or more.
F64 = Tol(atol=1e-9, rtol=1e-8)
# float32: sums over up to ~800 features round differently in another reduction order
# (worst case ~800 * 6e-8 = 5e-5 relative); an epsilon-clamped BCE at x_hat = x in {0, 1}
# adds ~1e-7 per saturated entry.
F32 = Tol(atol=1e-4, rtol=1e-4)
# float64 BCE: a common way to keep it finite is log(x_hat + eps) with eps up to ~1e-7, which
# moves a term and its gradient by ~eps / x_hat relative (4e-5 at x_hat = sigmoid(-6)); the
# BCE mistakes are off by factors.
BCE64 = Tol(atol=1e-6, rtol=1e-4)


def _tol(dtype, *keys, bce=False):
    """One numeric tolerance for every output key; dtype names and shapes compare exactly."""
    numeric = F32 if dtype == "float32" else (BCE64 if bce else F64)
    return {"dtype": EXACT, "shape": EXACT, **{k: numeric for k in keys}}


# --- fixed public inputs ---------------------------------------------------------------

MU = np.array([[0.5, -1.0], [0.0, 2.0], [1.5, 0.25]])
LOGVAR = np.array([[0.0, 1.0], [-2.0, 0.5], [3.0, -1.0]])
EPS = np.array([[1.0, -0.5], [0.3, 2.0], [-1.2, 0.0]])
COTANGENT = np.array([[1.0, 2.0], [0.5, -1.0], [1.5, 0.25]])
KL_MU = np.array([[0.0, 0.0, 0.0], [0.5, -1.0, 2.0], [1.0, 1.0, 1.0]])
KL_LOGVAR = np.array([[0.0, 0.0, 0.0], [0.5, -0.5, 1.0], [-2.0, 2.0, 0.0]])
X = np.array([[1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
X_HAT = np.array([[0.9, 0.2, 0.6, 0.7], [0.1, 0.3, 0.8, 0.4], [0.55, 0.95, 0.05, 0.25]])


# --- variants ---------------------------------------------------------------------------

def _seed_demo():
    """The seed notebook's demo batch: what its setup cell draws after torch.manual_seed(0)."""
    import torch
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(4, 6, generator=gen) > 0.5).float()
    x_hat = torch.sigmoid(torch.randn(4, 6, generator=gen))
    mu, logvar = torch.randn(4, 2, generator=gen), torch.randn(4, 2, generator=gen)
    return {name: t.numpy().astype(np.float64) for name, t in
            (("x_demo", x), ("x_hat_demo", x_hat), ("mu_demo", mu), ("logvar_demo", logvar))}


# The course's exercise is the canonical variant: a release without a roster prints and checks
# exactly these numbers (its setup cell draws the demo batch with torch.manual_seed(0)).
CANONICAL = {"mu": MU, "logvar": LOGVAR, "eps": EPS, "cotangent": COTANGENT,
             "kl_mu": KL_MU, "kl_logvar": KL_LOGVAR, "x": X, "x_hat": X_HAT,
             "demo_batch": 4, "demo_features": 6, "demo_latent": 2, **_seed_demo(),
             "beta": 1.0, "seed": True}


def _r2(values):
    """Two decimals, as the notebook prints them (no -0.0)."""
    return np.array([[round(float(x), 2) + 0.0 for x in row] for row in np.atleast_2d(values)])


def _kl_rows(mu, logvar):
    return -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar), axis=1)


def variant(rng):
    """Another student's small tensors, with the properties the exercise's have: one batch size
    for every public check, a q1 latent size different from the KL one (so the mismatched-shape
    check mismatches), one all-zero KL row and clearly positive KL elsewhere, x binary and
    x_hat strictly inside (0, 1), and a beta other than 1 (so beta's place in the loss shows)."""
    def draw(low, high):
        return int(rng.integers(low, high + 1))

    batch, latent, features = draw(2, 5), draw(2, 4), draw(3, 6)
    kl_latent = int(rng.choice([k for k in range(2, 6) if k != latent]))
    mu, eps = _r2(rng.normal(0.0, 1.0, size=(batch, latent))), \
        _r2(rng.normal(0.0, 1.0, size=(batch, latent)))
    logvar = _r2(rng.uniform(-2.0, 2.0, size=(batch, latent)))
    cotangent = _r2(rng.normal(0.0, 1.0, size=(batch, latent)))
    while True:
        kl_mu = _r2(rng.normal(0.0, 1.0, size=(batch, kl_latent)))
        kl_logvar = _r2(rng.uniform(-2.0, 2.0, size=(batch, kl_latent)))
        zero = draw(0, batch - 1)
        kl_mu[zero], kl_logvar[zero] = 0.0, 0.0
        if np.sum(_kl_rows(kl_mu, kl_logvar) > 0.05) == batch - 1:
            break
    x = (rng.random((batch, features)) < 0.5).astype(float)
    x_hat = _r2(rng.uniform(0.05, 0.95, size=(batch, features)))
    demo_batch, demo_features, demo_latent = draw(3, 6), draw(4, 8), draw(2, 4)
    x_demo = (rng.random((demo_batch, demo_features)) < 0.5).astype(float)
    x_hat_demo = _r2(1 / (1 + np.exp(-rng.normal(0.0, 1.0, size=(demo_batch, demo_features)))))
    x_hat_demo = np.clip(x_hat_demo, 0.01, 0.99)
    return {"mu": mu, "logvar": logvar, "eps": eps, "cotangent": cotangent,
            "kl_mu": kl_mu, "kl_logvar": kl_logvar, "x": x, "x_hat": x_hat,
            "demo_batch": demo_batch, "demo_features": demo_features,
            "demo_latent": demo_latent, "x_demo": x_demo, "x_hat_demo": x_hat_demo,
            "mu_demo": _r2(rng.normal(0.0, 1.0, size=(demo_batch, demo_latent))),
            "logvar_demo": _r2(rng.uniform(-1.5, 1.0, size=(demo_batch, demo_latent))),
            "beta": float(rng.choice([0.25, 0.5, 2.0, 3.0, 4.0])), "seed": False}


# --- random inputs ---------------------------------------------------------------------

def _shape(rng, latent=(2, 17)):
    return int(rng.integers(2, 65)), int(rng.integers(*latent))


def _random_reparameterize(dtype, logvar_range, grads):
    def inputs(rng):
        shape = _shape(rng)
        out = dict(mu=rng.normal(0.0, 2.0, size=shape),
                   logvar=rng.uniform(-logvar_range, logvar_range, size=shape),
                   eps=rng.normal(size=shape), dtype=dtype)
        if grads:
            out["cotangent"] = rng.normal(size=shape)
        return out
    return inputs


def _random_kl(dtype, logvar_range=4.0, grads=False, extreme=None):
    def inputs(rng):
        shape = _shape(rng)
        logvar = rng.uniform(-logvar_range, logvar_range, size=shape)
        if extreme is not None:
            # A bad encoder's outputs: exactly +-extreme on a third of the entries.
            mask = rng.random(shape) < 1 / 3
            logvar[mask] = extreme * rng.choice([-1.0, 1.0], size=int(mask.sum()))
            logvar[0, :2] = [extreme, -extreme]
        out = dict(mu=rng.normal(0.0, 1.5, size=shape), logvar=logvar, dtype=dtype)
        if grads:
            out["cotangent"] = rng.normal(size=shape[0])
        return out
    return inputs


def _images(rng):
    return (int(rng.integers(2, 17)), 1, int(rng.integers(4, 29)), int(rng.integers(4, 29)))


def _random_mse(rng):
    shape = _images(rng)
    return dict(x=rng.uniform(0, 1, size=shape), x_hat=rng.normal(0.5, 0.5, size=shape),
                kind="mse", dtype="float64")


def _random_bce_grads(rng):
    shape = _shape(rng, latent=(8, 200))
    return dict(x=rng.uniform(0, 1, size=shape),
                x_hat=1 / (1 + np.exp(-rng.normal(0, 1.5, size=shape))),
                kind="bce", dtype="float64", cotangent=rng.normal(size=shape[0]))


def _saturated_bce(rng):
    # x_hat hits exactly 0 or 1 only where it equals the binary target (a loss of 0 there,
    # which an epsilon-clamped log also gives to within ~1e-7).
    shape = _shape(rng, latent=(8, 100))
    x = (rng.random(shape) < 0.5).astype(float)
    x_hat = 1 / (1 + np.exp(-rng.normal(0, 1.5, size=shape)))
    saturated = rng.random(shape) < 0.3
    x_hat[saturated] = x[saturated]
    x_hat[0, 0], x[0, 0], x_hat[0, 1], x[0, 1] = 0.0, 0.0, 1.0, 1.0
    return dict(x=x, x_hat=x_hat, kind="bce", dtype="float32")


def _random_bad_reconstruction(rng):
    shape = _shape(rng)
    x, x_hat = rng.uniform(0, 1, size=shape), rng.uniform(0, 1, size=shape)
    outside = x_hat.copy()
    outside[0, 0] = 1.0 + rng.uniform(0.01, 1.0)
    cases = [[x, x_hat, str(rng.choice(["cross_entropy", "l1", "MSE", "huber"]))],
             [x, x_hat[:, :1], "mse"],
             [x, np.concatenate([x_hat, x_hat], axis=1), "bce"],
             [x, outside, "bce"]]
    # One valid call at a random place: which calls raise must come from the inputs, not
    # from a fixed answer a forged report could give.
    cases.insert(int(rng.integers(len(cases) + 1)), [x, x_hat, str(rng.choice(["mse", "bce"]))])
    return dict(cases=cases, dtype="float64")


def _given(x, x_hat, mu, logvar, kind):
    """What the q4 probes' stand-ins return (see the module docstring): the right KL and
    reconstruction term of each example, in float64, with the gradients that carry them
    (dKL/dmu = mu, dKL/dlogvar = (exp(logvar) - 1) / 2; d recon/d x_hat per element)."""
    x, x_hat = np.asarray(x, dtype=float), np.asarray(x_hat, dtype=float)
    mu, logvar = np.asarray(mu, dtype=float), np.asarray(logvar, dtype=float)
    rows = x.shape[0]
    if kind == "mse":
        recon, drecon = ((x_hat - x) ** 2).reshape(rows, -1).sum(axis=1), 2 * (x_hat - x)
    else:  # as torch's BCE: logs clamped at -100, the gradient's denominator at 1e-12
        with np.errstate(divide="ignore"):
            logs = np.maximum(np.log(x_hat), -100.0), np.maximum(np.log1p(-x_hat), -100.0)
        recon = -(x * logs[0] + (1 - x) * logs[1]).reshape(rows, -1).sum(axis=1)
        drecon = (x_hat - x) / np.maximum(x_hat * (1 - x_hat), 1e-12)
    return dict(given_kl=[_kl_rows(mu, logvar), mu, 0.5 * np.expm1(logvar)],
                given_recon=[recon, drecon])


def _with_given(inputs):
    """A q4 check's inputs plus the stand-ins' numbers for them (kind None: the default mse)."""
    return dict(inputs, **_given(inputs["x"], inputs["x_hat"], inputs["mu"], inputs["logvar"],
                                 inputs.get("kind") or "mse"))


def _beta(rng):
    return float(rng.uniform(0.25, 0.75) if rng.random() < 0.5 else rng.uniform(1.5, 4.0))


def _random_batch(rng, shape, dtype, kind, beta):
    latent = int(rng.integers(2, 17))
    x = (rng.random(shape) < 0.4).astype(float) if kind == "bce" else rng.normal(size=shape)
    x_hat = (1 / (1 + np.exp(-rng.normal(0, 1.5, size=shape))) if kind == "bce"
             else rng.normal(size=shape))
    return _with_given(dict(x=x, x_hat=x_hat, mu=rng.normal(size=(shape[0], latent)),
                            logvar=rng.uniform(-3, 3, size=(shape[0], latent)), dtype=dtype,
                            beta=beta, kind=kind))


def _saturated_batch(rng):
    """bce where x_hat is exactly 0 or 1 where it equals the binary target (a valid input
    whose loss is finite), at both ends in the first example."""
    inputs = _random_batch(rng, _shape(rng, latent=(8, 100)), "float32", "bce", _beta(rng))
    x, x_hat = inputs["x"], inputs["x_hat"]
    saturated = rng.random(x.shape) < 0.3
    x_hat[saturated] = x[saturated]
    x_hat[0, 0], x[0, 0], x_hat[0, 1], x[0, 1] = 0.0, 0.0, 1.0, 1.0
    # No gradients: at x_hat = x in {0, 1} torch's BCE gives 0 where the derivative of the
    # loss is +-1, and a correct BCE written with log(x_hat + eps) gives the latter.
    return dict(_with_given(inputs), grads=False)


def _random_bad_loss(rng):
    b, d, latent = int(rng.integers(2, 9)), int(rng.integers(3, 20)), int(rng.integers(2, 8))
    x, x_hat = rng.uniform(0, 1, size=(b, d)), rng.uniform(0, 1, size=(b, d))
    mu, logvar = rng.normal(size=(b, latent)), rng.normal(size=(b, latent))
    outside = x_hat.copy()
    outside[int(rng.integers(b)), int(rng.integers(d))] = 1.0 + rng.uniform(0.01, 1.0)
    cases = [[x, x_hat, mu, logvar, "kl"],
             [x, x_hat[:, :1], mu, logvar, "mse"],
             [x, x_hat, mu, logvar[:, :1], "mse"],
             [x, outside, mu, logvar, "bce"]]
    cases.insert(int(rng.integers(len(cases) + 1)), [x, x_hat, mu, logvar, "bce"])  # valid
    return dict(cases=cases, dtype="float64")


def checks(v):
    MU, LOGVAR, EPS, COTANGENT = (np.asarray(v[k], dtype=float)
                                  for k in ("mu", "logvar", "eps", "cotangent"))
    KL_MU, KL_LOGVAR = np.asarray(v["kl_mu"], dtype=float), np.asarray(v["kl_logvar"], float)
    X, X_HAT = np.asarray(v["x"], dtype=float), np.asarray(v["x_hat"], dtype=float)
    demo = {k: np.asarray(v[f"{k}_demo"], dtype=float) for k in ("x", "x_hat", "mu", "logvar")}
    return [
        # q1 (2 points)
        Check("q1", "small batch, float32", "reparameterize",
              lambda rng: dict(mu=MU, logvar=LOGVAR, eps=EPS, dtype="float32"),
              points=0.5, tol=_tol("float32", "z")),
        Check("q1", "gradients reach mu and logvar, float64", "reparameterize",
              lambda rng: dict(mu=MU, logvar=LOGVAR, eps=EPS, dtype="float64",
                               cotangent=COTANGENT),
              points=0.5, tol=_tol("float64", "z", "dmu", "dlogvar")),
        Check("q1", "random shapes, float64", "reparameterize",
              _random_reparameterize("float64", 4.0, grads=False),
              points=0.5, hidden=True, tol=_tol("float64", "z")),
        Check("q1", "float32 with logvar up to +-50, gradients", "reparameterize",
              _random_reparameterize("float32", 50.0, grads=True),
              points=0.5, hidden=True, tol=_tol("float32", "z", "dmu", "dlogvar")),
        # q2 (3 points)
        Check("q2", "small batch with a zero-KL row, float32", "kl_divergence",
              lambda rng: dict(mu=KL_MU, logvar=KL_LOGVAR, dtype="float32"),
              points=0.5, tol=_tol("float32", "kl")),
        Check("q2", "mismatched or 1-D shapes raise ValueError", "kl_divergence_reject",
              lambda rng: dict(cases=[[MU, KL_LOGVAR], [MU[:, 0], LOGVAR[:, 0]]],
                               dtype="float32"),
              points=0.25, tol=EXACT, validation=True),
        Check("q2", "random batch, float64 (as torch.distributions.kl_divergence)",
              "kl_divergence", _random_kl("float64"), points=0.75, hidden=True,
              tol=_tol("float64", "kl")),
        Check("q2", "random batch, float32 keeps its dtype", "kl_divergence",
              _random_kl("float32"), points=0.5, hidden=True, tol=_tol("float32", "kl")),
        Check("q2", "gradients with respect to mu and logvar", "kl_divergence",
              _random_kl("float64", grads=True), points=0.5, hidden=True,
              tol=_tol("float64", "kl", "dmu", "dlogvar")),
        Check("q2", "logvar of +-50 in float32 stays finite", "kl_divergence",
              _random_kl("float32", extreme=50.0), points=0.25, hidden=True,
              tol=_tol("float32", "kl")),
        Check("q2", "logvar of +-80 in float64 stays finite", "kl_divergence",
              _random_kl("float64", extreme=80.0), points=0.25, hidden=True,
              tol=_tol("float64", "kl")),
        # q3 (3 points)
        Check("q3", "mse on a small batch, float32", "reconstruction_loss",
              lambda rng: dict(x=X, x_hat=X_HAT, kind="mse", dtype="float32"),
              points=0.5, tol=_tol("float32", "loss")),
        Check("q3", "bce on a small batch, float32", "reconstruction_loss",
              lambda rng: dict(x=X, x_hat=X_HAT, kind="bce", dtype="float32"),
              points=0.5, tol=_tol("float32", "loss")),
        Check("q3", "an unknown kind raises ValueError", "reconstruction_loss_reject",
              lambda rng: dict(cases=[[X, X_HAT, "cross_entropy"]], dtype="float32"),
              points=0.25, tol=EXACT, validation=True),
        Check("q3", "mse on random images (batch, 1, H, W), float64", "reconstruction_loss",
              _random_mse, points=0.5, hidden=True, tol=_tol("float64", "loss")),
        Check("q3", "bce on random probabilities with gradients, float64",
              "reconstruction_loss", _random_bce_grads, points=0.5, hidden=True,
              tol=_tol("float64", "loss", "dx_hat", bce=True)),
        Check("q3", "bce with x_hat exactly 0 or 1 stays finite, float32",
              "reconstruction_loss", _saturated_bce, points=0.5, hidden=True,
              tol=_tol("float32", "loss")),
        Check("q3", "unknown kinds, mismatched shapes and bce outside [0, 1] raise ValueError",
              "reconstruction_loss_reject", _random_bad_reconstruction, points=0.25,
              hidden=True, tol=EXACT, validation=True),
        # q4 (2 points)
        Check("q4", "small batch with the default beta and kind, float32, backward",
              "vae_loss", lambda rng: _with_given(dict(x=X, x_hat=X_HAT, mu=KL_MU,
                                                       logvar=KL_LOGVAR, dtype="float32")),
              points=0.25, tol=_tol("float32", "loss", "dx_hat", "dmu", "dlogvar")),
        Check("q4", "random batch, bce, random beta, float64, gradients", "vae_loss",
              lambda rng: _random_batch(rng, _shape(rng, latent=(5, 60)), "float64", "bce",
                                        _beta(rng)),
              points=0.5, hidden=True,
              tol=_tol("float64", "loss", "dx_hat", "dmu", "dlogvar", bce=True)),
        Check("q4", "random images, mse, random beta, float32", "vae_loss",
              lambda rng: _random_batch(rng, _images(rng), "float32", "mse", _beta(rng)),
              points=0.25, hidden=True, tol=_tol("float32", "loss", "dx_hat", "dmu", "dlogvar")),
        Check("q4", "beta = 0 leaves the reconstruction term only", "vae_loss",
              lambda rng: _random_batch(rng, _shape(rng, latent=(5, 60)), "float64", "mse",
                                        0.0),
              points=0.25, hidden=True, tol=_tol("float64", "loss", "dx_hat", "dmu", "dlogvar")),
        Check("q4", "unknown kinds, mismatched shapes and bce outside [0, 1] raise ValueError",
              "vae_loss_reject",
              _random_bad_loss, points=0.25, hidden=True, tol=EXACT, validation=True),
        # appended after the others, so their check ids (q4.h1, ...) do not move
        Check("q4", f"the notebook's own demo batch, bce, beta = {v['beta']:g}",
              "vae_loss_on_notebook_data",
              lambda rng: _with_given(dict(**demo, dtype="float32", beta=float(v["beta"]),
                                           kind="bce")),
              points=0.25, tol=_tol("float32", "loss")),
        Check("q4", "bce with x_hat exactly 0 or 1 stays finite, float32", "vae_loss",
              _saturated_batch, points=0.25, hidden=True, tol=_tol("float32", "loss")),
    ]
