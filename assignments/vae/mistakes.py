"""Known wrong variants of the vae API, used by the judge to name misconceptions.

Each variant is a self-contained torch replacement of one API function with the same
signature; vae_loss variants inline the correct terms and get only the combination wrong.
Variants keep the reference's input validation (ValueError), so a submission that forgets
the validation is never mistaken for a variant on the ValueError checks.
"""
import torch


def reparameterize__variance_not_std(mu, logvar, eps):
    # Scales the noise by sigma^2 = exp(logvar) instead of sigma = exp(0.5 * logvar).
    return mu + eps * torch.exp(logvar)


def reparameterize__logvar_as_std(mu, logvar, eps):
    return mu + eps * logvar


def kl_divergence__sign(mu, logvar):
    if mu.shape != logvar.shape or mu.dim() < 2:
        raise ValueError("mu and logvar must both be (batch, latent)")
    return 0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)


def kl_divergence__no_half(mu, logvar):
    if mu.shape != logvar.shape or mu.dim() < 2:
        raise ValueError("mu and logvar must both be (batch, latent)")
    return -torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)


def kl_divergence__mean_over_latent(mu, logvar):
    if mu.shape != logvar.shape or mu.dim() < 2:
        raise ValueError("mu and logvar must both be (batch, latent)")
    return -0.5 * torch.mean(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)


def reconstruction_loss__mean_over_features(x, x_hat, kind="mse"):
    # What F.mse_loss / F.binary_cross_entropy return with their default reduction,
    # applied per example: a mean over the features instead of a sum.
    if kind not in ("mse", "bce"):
        raise ValueError(f"unknown kind {kind!r}; valid kinds are 'mse' and 'bce'")
    if x.shape != x_hat.shape or x.dim() < 1:
        raise ValueError("x and x_hat must have the same shape")
    if kind == "bce" and bool(((x_hat < 0) | (x_hat > 1)).any()):
        raise ValueError("kind='bce' needs x_hat in [0, 1]")
    if kind == "mse":
        per_feature = (x_hat - x) ** 2
    else:
        per_feature = torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none")
    return per_feature.reshape(x.shape[0], -1).mean(dim=1)


def reconstruction_loss__bce_swapped(x, x_hat, kind="mse"):
    # Passes (target, prediction) to binary_cross_entropy, whose order is (input, target).
    if kind not in ("mse", "bce"):
        raise ValueError(f"unknown kind {kind!r}; valid kinds are 'mse' and 'bce'")
    if x.shape != x_hat.shape or x.dim() < 1:
        raise ValueError("x and x_hat must have the same shape")
    if kind == "bce" and bool(((x_hat < 0) | (x_hat > 1)).any()):
        raise ValueError("kind='bce' needs x_hat in [0, 1]")
    if kind == "mse":
        per_feature = (x_hat - x) ** 2
    else:
        per_feature = torch.nn.functional.binary_cross_entropy(x, x_hat, reduction="none")
    return per_feature.reshape(x.shape[0], -1).sum(dim=1)


def vae_loss__sum_over_batch(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    if kind not in ("mse", "bce"):
        raise ValueError(f"unknown kind {kind!r}; valid kinds are 'mse' and 'bce'")
    if x.shape != x_hat.shape or mu.shape != logvar.shape or mu.dim() < 2:
        raise ValueError("x, x_hat and mu, logvar must have matching shapes")
    if kind == "bce" and bool(((x_hat < 0) | (x_hat > 1)).any()):
        raise ValueError("kind='bce' needs x_hat in [0, 1]")
    per_feature = ((x_hat - x) ** 2 if kind == "mse" else
                   torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none"))
    recon = per_feature.reshape(x.shape[0], -1).sum(dim=1)
    kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)
    return torch.sum(recon + beta * kl)


def vae_loss__beta_on_reconstruction(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    if kind not in ("mse", "bce"):
        raise ValueError(f"unknown kind {kind!r}; valid kinds are 'mse' and 'bce'")
    if x.shape != x_hat.shape or mu.shape != logvar.shape or mu.dim() < 2:
        raise ValueError("x, x_hat and mu, logvar must have matching shapes")
    if kind == "bce" and bool(((x_hat < 0) | (x_hat > 1)).any()):
        raise ValueError("kind='bce' needs x_hat in [0, 1]")
    per_feature = ((x_hat - x) ** 2 if kind == "mse" else
                   torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none"))
    recon = per_feature.reshape(x.shape[0], -1).sum(dim=1)
    kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)
    return torch.mean(beta * recon + kl)


def vae_loss__kl_subtracted(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    # Sign slip from maximizing the ELBO = E[log p(x|z)] - KL while minimizing a loss.
    if kind not in ("mse", "bce"):
        raise ValueError(f"unknown kind {kind!r}; valid kinds are 'mse' and 'bce'")
    if x.shape != x_hat.shape or mu.shape != logvar.shape or mu.dim() < 2:
        raise ValueError("x, x_hat and mu, logvar must have matching shapes")
    if kind == "bce" and bool(((x_hat < 0) | (x_hat > 1)).any()):
        raise ValueError("kind='bce' needs x_hat in [0, 1]")
    per_feature = ((x_hat - x) ** 2 if kind == "mse" else
                   torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none"))
    recon = per_feature.reshape(x.shape[0], -1).sum(dim=1)
    kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)
    return torch.mean(recon - beta * kl)


def vae_loss__recon_mean_reduction(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    # F.mse_loss(x_hat, x) / F.binary_cross_entropy(x_hat, x) with their default
    # reduction="mean": the reconstruction term averaged over every element, the KL right.
    if kind not in ("mse", "bce"):
        raise ValueError(f"unknown kind {kind!r}; valid kinds are 'mse' and 'bce'")
    if x.shape != x_hat.shape or mu.shape != logvar.shape or mu.dim() < 2:
        raise ValueError("x, x_hat and mu, logvar must have matching shapes")
    if kind == "bce" and bool(((x_hat < 0) | (x_hat > 1)).any()):
        raise ValueError("kind='bce' needs x_hat in [0, 1]")
    recon = (torch.nn.functional.mse_loss(x_hat, x) if kind == "mse" else
             torch.nn.functional.binary_cross_entropy(x_hat, x))
    kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)
    return recon + beta * torch.mean(kl)


def vae_loss__beta_ignored(x, x_hat, mu, logvar, beta=1.0, kind="mse"):
    # The plain VAE loss: beta is accepted but never used.
    if kind not in ("mse", "bce"):
        raise ValueError(f"unknown kind {kind!r}; valid kinds are 'mse' and 'bce'")
    if x.shape != x_hat.shape or mu.shape != logvar.shape or mu.dim() < 2:
        raise ValueError("x, x_hat and mu, logvar must have matching shapes")
    if kind == "bce" and bool(((x_hat < 0) | (x_hat > 1)).any()):
        raise ValueError("kind='bce' needs x_hat in [0, 1]")
    per_feature = ((x_hat - x) ** 2 if kind == "mse" else
                   torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none"))
    recon = per_feature.reshape(x.shape[0], -1).sum(dim=1)
    kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1)
    return torch.mean(recon + kl)


MISTAKES = [
    {"id": "reparam-variance-not-std", "function": "reparameterize",
     "variant": reparameterize__variance_not_std,
     "message": {
         "en": "The noise is scaled by exp(logvar), the variance; it must be scaled by the "
               "standard deviation sigma = exp(0.5 * logvar). The 0.5 is missing.",
         "es": "El ruido se escala por exp(logvar), que es la varianza; hay que escalarlo por "
               "la desviación estándar sigma = exp(0.5 * logvar). Falta el 0.5.",
         "pt": "O ruído é escalado por exp(logvar), que é a variância; ele deve ser escalado "
               "pelo desvio padrão sigma = exp(0.5 * logvar). Falta o 0.5."}},
    {"id": "reparam-logvar-as-std", "function": "reparameterize",
     "variant": reparameterize__logvar_as_std,
     "message": {
         "en": "logvar is used directly as the standard deviation; it is the log of the "
               "variance, so sigma = exp(0.5 * logvar).",
         "es": "logvar se usa directamente como desviación estándar; es el logaritmo de la "
               "varianza, así que sigma = exp(0.5 * logvar).",
         "pt": "logvar é usado diretamente como desvio padrão; ele é o logaritmo da "
               "variância, então sigma = exp(0.5 * logvar)."}},
    {"id": "kl-sign", "function": "kl_divergence", "variant": kl_divergence__sign,
     "message": {
         "en": "The leading minus sign is missing: your KL is negative, but a KL divergence "
               "is always >= 0; it is -0.5 * sum(1 + logvar - mu^2 - exp(logvar)).",
         "es": "Falta el signo menos inicial: tu KL da negativa, pero una divergencia KL "
               "siempre es >= 0; es -0.5 * sum(1 + logvar - mu^2 - exp(logvar)).",
         "pt": "Falta o sinal de menos no início: a sua KL sai negativa, mas uma divergência "
               "KL é sempre >= 0; ela é -0.5 * sum(1 + logvar - mu^2 - exp(logvar))."}},
    {"id": "kl-no-half", "function": "kl_divergence", "variant": kl_divergence__no_half,
     "message": {
         "en": "The factor 1/2 is missing: the KL is twice the correct value.",
         "es": "Falta el factor 1/2: la KL da el doble del valor correcto.",
         "pt": "Falta o fator 1/2: a KL dá o dobro do valor correto."}},
    {"id": "kl-mean-over-latent", "function": "kl_divergence",
     "variant": kl_divergence__mean_over_latent,
     "message": {
         "en": "The KL is averaged over the latent dimensions; the KL of a diagonal Gaussian "
               "is the sum of the per-dimension KLs.",
         "es": "La KL se promedia sobre las dimensiones latentes; la KL de una gaussiana "
               "diagonal es la suma de las KL de cada dimensión.",
         "pt": "A KL é calculada como média sobre as dimensões latentes; a KL de uma "
               "gaussiana diagonal é a soma das KL de cada dimensão."}},
    {"id": "recon-mean-over-features", "function": "reconstruction_loss",
     "variant": reconstruction_loss__mean_over_features,
     "message": {
         "en": "The loss is averaged over the features (the default reduction='mean' of "
               "torch's losses); sum it over all non-batch features, otherwise the KL term "
               "dominates.",
         "es": "La pérdida se promedia sobre los atributos (la reducción por defecto "
               "reduction='mean' de las pérdidas de torch); hay que sumarla sobre todos los "
               "atributos que no son del lote, si no el término KL domina.",
         "pt": "A perda é calculada como média sobre os atributos (o padrão "
               "reduction='mean' das perdas do torch); some sobre todos os atributos fora "
               "da dimensão do lote, senão o termo KL domina."}},
    {"id": "recon-bce-swapped", "function": "reconstruction_loss",
     "variant": reconstruction_loss__bce_swapped,
     "message": {
         "en": "The arguments of binary_cross_entropy are swapped: the order is (input, "
               "target) = (x_hat, x); the predicted probabilities go inside the log.",
         "es": "Los argumentos de binary_cross_entropy están invertidos: el orden es "
               "(input, target) = (x_hat, x); las probabilidades predichas van dentro del "
               "logaritmo.",
         "pt": "Os argumentos de binary_cross_entropy estão trocados: a ordem é (input, "
               "target) = (x_hat, x); as probabilidades previstas vão dentro do log."}},
    {"id": "loss-sum-over-batch", "function": "vae_loss", "variant": vae_loss__sum_over_batch,
     "message": {
         "en": "The loss is summed over the batch; it must be the batch mean, so that it does "
               "not grow with the batch size.",
         "es": "La pérdida se suma sobre el lote; tiene que ser el promedio del lote, para "
               "que no crezca con el tamaño del lote.",
         "pt": "A perda é somada sobre o lote; ela deve ser a média do lote, para não crescer "
               "com o tamanho do lote."}},
    {"id": "loss-beta-on-reconstruction", "function": "vae_loss",
     "variant": vae_loss__beta_on_reconstruction,
     "message": {
         "en": "beta multiplies the reconstruction term; in the beta-VAE it weights the KL "
               "term: recon + beta * KL.",
         "es": "beta multiplica al término de reconstrucción; en el beta-VAE pondera el "
               "término KL: recon + beta * KL.",
         "pt": "beta multiplica o termo de reconstrução; no beta-VAE ele pondera o termo KL: "
               "recon + beta * KL."}},
    {"id": "loss-kl-subtracted", "function": "vae_loss", "variant": vae_loss__kl_subtracted,
     "message": {
         "en": "The KL is subtracted: the ELBO is recon log-likelihood - KL, so the loss "
               "(the negative ELBO) is recon + beta * KL.",
         "es": "La KL se resta: el ELBO es log-verosimilitud de reconstrucción - KL, así que "
               "la pérdida (el ELBO con signo negativo) es recon + beta * KL.",
         "pt": "A KL é subtraída: o ELBO é log-verossimilhança de reconstrução - KL, então a "
               "perda (o ELBO com sinal trocado) é recon + beta * KL."}},
    {"id": "loss-recon-mean-reduction", "function": "vae_loss",
     "variant": vae_loss__recon_mean_reduction,
     "message": {
         "en": "The reconstruction term is averaged over every element (the default "
               "reduction='mean' of F.mse_loss and F.binary_cross_entropy); sum it over the "
               "features of each example and average only over the batch, otherwise the KL "
               "term dominates the loss.",
         "es": "El término de reconstrucción se promedia sobre todos los elementos (la "
               "reducción por defecto reduction='mean' de F.mse_loss y "
               "F.binary_cross_entropy); hay que sumarlo sobre los atributos de cada ejemplo "
               "y promediar solo sobre el lote, si no el término KL domina la pérdida.",
         "pt": "O termo de reconstrução é calculado como média sobre todos os elementos (o "
               "padrão reduction='mean' de F.mse_loss e F.binary_cross_entropy); some sobre "
               "os atributos de cada exemplo e tire a média só sobre o lote, senão o termo KL "
               "domina a perda."}},
    {"id": "loss-beta-ignored", "function": "vae_loss", "variant": vae_loss__beta_ignored,
     "message": {
         "en": "beta is not used: the loss is recon + KL whatever beta is; the beta-VAE "
               "weights the KL term, recon + beta * KL (beta = 0 leaves the reconstruction "
               "term only).",
         "es": "beta no se usa: la pérdida es recon + KL valga lo que valga beta; el beta-VAE "
               "pondera el término KL, recon + beta * KL (con beta = 0 queda solo el término "
               "de reconstrucción).",
         "pt": "beta não é usado: a perda é recon + KL qualquer que seja beta; o beta-VAE "
               "pondera o termo KL, recon + beta * KL (com beta = 0 sobra só o termo de "
               "reconstrução)."}},
]
