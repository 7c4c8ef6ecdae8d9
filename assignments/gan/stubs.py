# %% setup
import numpy as np

# A fine grid and two densities on it: the "real" distribution {{ v.real_name }} and a generator
# that produces {{ v.gen_name }}. Both have all but ~1e-9 of their mass inside [-6, 6].
xs = np.linspace(-6.0, 6.0, 3001)


def normal_pdf(x, mean, std):
    """Density of N(mean, std^2) at x."""
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


p_real = {% for w, m, s in v.real %}{% if not loop.first %} + {% endif %}{% if v.real|length > 1 %}{{ w | py }} * {% endif %}normal_pdf(xs, {{ m | py }}, {{ s | py }}){% endfor %}
p_gen = {% for w, m, s in v.gen %}{% if not loop.first %} + {% endif %}{% if v.gen|length > 1 %}{{ w | py }} * {% endif %}normal_pdf(xs, {{ m | py }}, {{ s | py }}){% endfor %}

# %% q1
def optimal_discriminator(pr_x, pg_x):
    """Optimal discriminator for a fixed generator, evaluated on a grid.

    pr_x, pg_x: (n,) arrays, the densities p_r and p_g (>= 0) at the grid points.
    Returns an (n,) array with D*(x) in [0, 1]; where p_r(x) = p_g(x) = 0 it is 0.5.
    Raises ValueError if the shapes differ or a density is negative.
    """
    raise NotImplementedError

# %% q2
def gan_value(d_x, pr_x, pg_x, xs):
    """GAN value V(D, G) = integral of [p_r(x) log D(x) + p_g(x) log(1 - D(x))] dx.

    d_x: (n,) discriminator outputs in [0, 1]; pr_x, pg_x: (n,) densities (>= 0);
    xs: (n,) grid points, n >= 2. Natural logarithm; trapezoid rule on xs; a term
    0 * log(0) counts as 0.
    Returns a float (may be -inf). Raises ValueError for shapes that differ or are not
    1-D with n >= 2, negative densities, or d_x outside [0, 1].
    """
    raise NotImplementedError

# %% q3
def jensen_shannon(pr_x, pg_x, xs):
    """Jensen-Shannon divergence between p_r and p_g, in nats.

    pr_x, pg_x: (n,) densities (>= 0) on the grid xs: (n,), n >= 2.
    Trapezoid rule on xs; a term 0 * log(0) counts as 0.
    Returns a float. Raises ValueError in the same cases as gan_value.
    """
    raise NotImplementedError
