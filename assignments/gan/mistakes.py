"""Known wrong variants of the gan API, used by the judge to name misconceptions.

Each is a self-contained replacement of one API function (a variant is pasted alone into a
notebook); the integrals keep the reference's trapezoid rule and every variant validates its
inputs as the reference does, so that only the named mistake differs: a validation check is
never a mistake's evidence, and a submission that makes the mistake is named whether or not
it validates its inputs.
"""
import numpy as np


def optimal_discriminator__inverted(pr_x, pg_x):
    pr, pg = np.asarray(pr_x, dtype=float), np.asarray(pg_x, dtype=float)
    if pr.shape != pg.shape or np.any(pr < 0) or np.any(pg < 0):
        raise ValueError("pr_x and pg_x must be densities (>= 0) of one shape")
    total = pr + pg
    return np.where(total > 0, pg / np.where(total > 0, total, 1.0), 0.5)


def optimal_discriminator__no_zero_guard(pr_x, pg_x):
    # 0 / 0 where both densities vanish gives nan instead of 1/2.
    pr, pg = np.asarray(pr_x, dtype=float), np.asarray(pg_x, dtype=float)
    if pr.shape != pg.shape or np.any(pr < 0) or np.any(pg < 0):
        raise ValueError("pr_x and pg_x must be densities (>= 0) of one shape")
    with np.errstate(divide="ignore", invalid="ignore"):
        return pr / (pr + pg)


def gan_value__log10(d_x, pr_x, pg_x, xs):
    # The course material's derivation wrote log10.
    d, pr, pg, xs = (np.asarray(a, dtype=float) for a in (d_x, pr_x, pg_x, xs))
    if xs.ndim != 1 or xs.size < 2 or not d.shape == pr.shape == pg.shape == xs.shape:
        raise ValueError("need 1-D arrays of one length >= 2")
    if np.any(pr < 0) or np.any(pg < 0) or np.any(d < 0) or np.any(d > 1):
        raise ValueError("densities must be >= 0 and d_x in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (np.where(pr > 0, pr * np.log10(d), 0.0) +
             np.where(pg > 0, pg * np.log10(1 - d), 0.0))
    return float(np.sum((f[1:] + f[:-1]) * np.diff(xs)) / 2)


def gan_value__swapped_terms(d_x, pr_x, pg_x, xs):
    d, pr, pg, xs = (np.asarray(a, dtype=float) for a in (d_x, pr_x, pg_x, xs))
    if xs.ndim != 1 or xs.size < 2 or not d.shape == pr.shape == pg.shape == xs.shape:
        raise ValueError("need 1-D arrays of one length >= 2")
    if np.any(pr < 0) or np.any(pg < 0) or np.any(d < 0) or np.any(d > 1):
        raise ValueError("densities must be >= 0 and d_x in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(pr > 0, pr * np.log(1 - d), 0.0) + np.where(pg > 0, pg * np.log(d), 0.0)
    return float(np.sum((f[1:] + f[:-1]) * np.diff(xs)) / 2)


def gan_value__zero_log_zero_nan(d_x, pr_x, pg_x, xs):
    # Multiplies out 0 * log(0) = 0 * (-inf) = nan where a density and D (or 1 - D) vanish.
    d, pr, pg, xs = (np.asarray(a, dtype=float) for a in (d_x, pr_x, pg_x, xs))
    if xs.ndim != 1 or xs.size < 2 or not d.shape == pr.shape == pg.shape == xs.shape:
        raise ValueError("need 1-D arrays of one length >= 2")
    if np.any(pr < 0) or np.any(pg < 0) or np.any(d < 0) or np.any(d > 1):
        raise ValueError("densities must be >= 0 and d_x in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        f = pr * np.log(d) + pg * np.log(1 - d)
    return float(np.sum((f[1:] + f[:-1]) * np.diff(xs)) / 2)


def jensen_shannon__bits(pr_x, pg_x, xs):
    pr, pg, xs = (np.asarray(a, dtype=float) for a in (pr_x, pg_x, xs))
    if xs.ndim != 1 or xs.size < 2 or not pr.shape == pg.shape == xs.shape:
        raise ValueError("need 1-D arrays of one length >= 2")
    if np.any(pr < 0) or np.any(pg < 0):
        raise ValueError("densities must be >= 0")
    m = (pr + pg) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        f = 0.5 * (np.where(pr > 0, pr * np.log2(pr / m), 0.0) +
                   np.where(pg > 0, pg * np.log2(pg / m), 0.0))
    return float(np.sum((f[1:] + f[:-1]) * np.diff(xs)) / 2)


def jensen_shannon__log10(pr_x, pg_x, xs):
    # The mixture is right; the logarithms are base 10 (the unit of the derivation's log10).
    pr, pg, xs = (np.asarray(a, dtype=float) for a in (pr_x, pg_x, xs))
    if xs.ndim != 1 or xs.size < 2 or not pr.shape == pg.shape == xs.shape:
        raise ValueError("need 1-D arrays of one length >= 2")
    if np.any(pr < 0) or np.any(pg < 0):
        raise ValueError("densities must be >= 0")
    m = (pr + pg) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        f = 0.5 * (np.where(pr > 0, pr * np.log10(pr / m), 0.0) +
                   np.where(pg > 0, pg * np.log10(pg / m), 0.0))
    return float(np.sum((f[1:] + f[:-1]) * np.diff(xs)) / 2)


def jensen_shannon__no_half(pr_x, pg_x, xs):
    pr, pg, xs = (np.asarray(a, dtype=float) for a in (pr_x, pg_x, xs))
    if xs.ndim != 1 or xs.size < 2 or not pr.shape == pg.shape == xs.shape:
        raise ValueError("need 1-D arrays of one length >= 2")
    if np.any(pr < 0) or np.any(pg < 0):
        raise ValueError("densities must be >= 0")
    m = (pr + pg) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (np.where(pr > 0, pr * np.log(pr / m), 0.0) +
             np.where(pg > 0, pg * np.log(pg / m), 0.0))
    return float(np.sum((f[1:] + f[:-1]) * np.diff(xs)) / 2)


def jensen_shannon__no_mixture(pr_x, pg_x, xs):
    # Symmetrized KL(p_r || p_g) + KL(p_g || p_r), halved: compares p_r and p_g directly
    # instead of each with the mixture m.
    pr, pg, xs = (np.asarray(a, dtype=float) for a in (pr_x, pg_x, xs))
    if xs.ndim != 1 or xs.size < 2 or not pr.shape == pg.shape == xs.shape:
        raise ValueError("need 1-D arrays of one length >= 2")
    if np.any(pr < 0) or np.any(pg < 0):
        raise ValueError("densities must be >= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        f = 0.5 * (np.where(pr > 0, pr * np.log(pr / pg), 0.0) +
                   np.where(pg > 0, pg * np.log(pg / pr), 0.0))
    return float(np.sum((f[1:] + f[:-1]) * np.diff(xs)) / 2)


MISTAKES = [
    {"id": "dstar-inverted", "function": "optimal_discriminator",
     "variant": optimal_discriminator__inverted,
     "message": {
         "en": "D* is inverted: D(x) is the probability that x is real, so "
               "D* = p_r / (p_r + p_g), not p_g / (p_r + p_g).",
         "es": "D* está invertido: D(x) es la probabilidad de que x sea real, así que "
               "D* = p_r / (p_r + p_g), no p_g / (p_r + p_g).",
         "pt": "D* está invertido: D(x) é a probabilidade de x ser real, então "
               "D* = p_r / (p_r + p_g), e não p_g / (p_r + p_g)."}},
    {"id": "dstar-no-zero-guard", "function": "optimal_discriminator",
     "variant": optimal_discriminator__no_zero_guard,
     "message": {
         "en": "Where p_r = p_g = 0 the result is 0/0 = nan; the specification asks for 1/2 "
               "there.",
         "es": "Donde p_r = p_g = 0 el resultado es 0/0 = nan; la consigna pide 1/2 en esos "
               "puntos.",
         "pt": "Onde p_r = p_g = 0 o resultado é 0/0 = nan; o enunciado pede 1/2 nesses "
               "pontos."}},
    {"id": "value-log10", "function": "gan_value", "variant": gan_value__log10,
     "message": {
         "en": "The value uses log10, as in the original derivation: that scales it by "
               "1/ln 10 (the optimum does not move, but the value does). Use the natural log.",
         "es": "El valor usa log10, como la deducción original: eso lo escala por 1/ln 10 (el "
               "óptimo no se mueve, pero el valor sí). Usá el logaritmo natural.",
         "pt": "O valor usa log10, como a dedução original: isso o escala por 1/ln 10 (o "
               "ótimo não muda, mas o valor sim). Use o logaritmo natural."}},
    {"id": "value-swapped-terms", "function": "gan_value", "variant": gan_value__swapped_terms,
     "message": {
         "en": "The terms are swapped: real data contributes p_r log D and generated data "
               "p_g log(1 - D).",
         "es": "Los términos están intercambiados: los datos reales aportan p_r log D y los "
               "generados p_g log(1 - D).",
         "pt": "Os termos estão trocados: os dados reais contribuem com p_r log D e os "
               "gerados com p_g log(1 - D)."}},
    {"id": "value-zero-log-zero", "function": "gan_value",
     "variant": gan_value__zero_log_zero_nan,
     "message": {
         "en": "0 * log(0) gives nan: where a density is 0 its term must count as 0 (the "
               "limit of p log p), also when D or 1 - D is 0 there.",
         "es": "0 * log(0) da nan: donde una densidad vale 0 su término tiene que contar como "
               "0 (el límite de p log p), aunque D o 1 - D también valgan 0 ahí.",
         "pt": "0 * log(0) dá nan: onde uma densidade vale 0 o seu termo deve contar como 0 "
               "(o limite de p log p), mesmo quando D ou 1 - D também valem 0 ali."}},
    {"id": "jsd-bits", "function": "jensen_shannon", "variant": jensen_shannon__bits,
     "message": {
         "en": "The JSD is in bits (log2); the question asks for nats (natural log), the unit "
               "in which value(D*) = -2 log 2 + 2 JSD.",
         "es": "La JSD está en bits (log2); la pregunta la pide en nats (logaritmo natural), "
               "la unidad en la que valor(D*) = -2 log 2 + 2 JSD.",
         "pt": "A JSD está em bits (log2); a questão pede nats (logaritmo natural), a unidade "
               "em que valor(D*) = -2 log 2 + 2 JSD."}},
    {"id": "jsd-log10", "function": "jensen_shannon", "variant": jensen_shannon__log10,
     "message": {
         "en": "The JSD uses log10, as the derivation of the value does: that divides it by "
               "ln 10 (its largest value becomes log10 2 instead of log 2); the question asks "
               "for nats (natural log), the unit in which value(D*) = -2 log 2 + 2 JSD.",
         "es": "La JSD usa log10, como la deducción del valor: eso la divide por ln 10 (su "
               "valor máximo pasa a ser log10 2 en lugar de log 2); la pregunta la pide en nats "
               "(logaritmo natural), la unidad en la que valor(D*) = -2 log 2 + 2 JSD.",
         "pt": "A JSD usa log10, como a dedução do valor: isso a divide por ln 10 (o seu "
               "valor máximo passa a ser log10 2 em vez de log 2); a questão pede nats "
               "(logaritmo natural), a unidade em que valor(D*) = -2 log 2 + 2 JSD."}},
    {"id": "jsd-no-half", "function": "jensen_shannon", "variant": jensen_shannon__no_half,
     "message": {
         "en": "The factor 1/2 is missing: JSD is the average of KL(p_r || m) and "
               "KL(p_g || m), not their sum.",
         "es": "Falta el factor 1/2: la JSD es el promedio de KL(p_r || m) y KL(p_g || m), no "
               "su suma.",
         "pt": "Falta o fator 1/2: a JSD é a média de KL(p_r || m) e KL(p_g || m), e não a "
               "soma delas."}},
    {"id": "jsd-no-mixture", "function": "jensen_shannon",
     "variant": jensen_shannon__no_mixture,
     "message": {
         "en": "This compares p_r and p_g directly (a symmetrized KL); the JSD compares each "
               "with the mixture m = (p_r + p_g)/2, which keeps it finite and at most log 2.",
         "es": "Esto compara p_r y p_g directamente (una KL simetrizada); la JSD compara cada "
               "una con la mezcla m = (p_r + p_g)/2, lo que la mantiene finita y acotada por "
               "log 2.",
         "pt": "Isto compara p_r e p_g diretamente (uma KL simetrizada); a JSD compara cada "
               "uma com a mistura m = (p_r + p_g)/2, o que a mantém finita e limitada por "
               "log 2."}},
]
