"""Known wrong variants of the autoencoder API, named in feedback (trusted side only).

Each variant is self-contained given the notebook's setup imports (no helper of this module):
the example submissions and the tests paste variants into notebooks. The train_epoch variants
call add_noise, which is the notebook's own there and the copy below here.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Autoencoder__no_sigmoid(nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(64, 128, kernel_size=4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(128 * 4 * 4, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 128 * 4 * 4), nn.ReLU(),
            nn.Unflatten(1, (128, 4, 4)),
            nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 3, kernel_size=4, stride=2, padding=1),
        )

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


class TiedAutoencoder__untied(nn.Module):
    def __init__(self, latent_dim, hidden=512):
        super().__init__()
        self.enc1 = nn.Linear(3072, hidden)
        self.enc2 = nn.Linear(hidden, latent_dim)
        self.dec2 = nn.Linear(latent_dim, hidden)
        self.dec1 = nn.Linear(hidden, 3072)

    def encode(self, x):
        return self.enc2(F.relu(self.enc1(x.flatten(1))))

    def decode(self, z):
        return torch.sigmoid(self.dec1(F.relu(self.dec2(z)))).view(-1, 3, 32, 32)

    def forward(self, x):
        return self.decode(self.encode(x))


class TiedAutoencoder__detached(nn.Module):
    def __init__(self, latent_dim, hidden=512):
        super().__init__()
        self.enc1 = nn.Linear(3072, hidden)
        self.enc2 = nn.Linear(hidden, latent_dim)
        self.c2 = nn.Parameter(torch.zeros(hidden))
        self.c1 = nn.Parameter(torch.zeros(3072))

    def encode(self, x):
        return self.enc2(F.relu(self.enc1(x.flatten(1))))

    def decode(self, z):
        h = F.relu(F.linear(z, self.enc2.weight.detach().t(), self.c2))
        x_hat = torch.sigmoid(F.linear(h, self.enc1.weight.detach().t(), self.c1))
        return x_hat.view(-1, 3, 32, 32)

    def forward(self, x):
        return self.decode(self.encode(x))


def add_noise__no_clamp(x, std, generator=None):
    return x + std * torch.randn(x.shape, generator=generator, dtype=x.dtype)


def add_noise__global_generator(x, std, generator=None):
    return torch.clamp(x + std * torch.randn(x.shape, dtype=x.dtype), 0.0, 1.0)


def add_noise__variance(x, std, generator=None):
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return torch.clamp(x + std ** 2 * noise, 0.0, 1.0)


def add_noise(x, std, generator=None):
    # What the train_epoch variants below call (they run with this module's globals).
    return torch.clamp(x + std * torch.randn(x.shape, generator=generator, dtype=x.dtype), 0, 1)


def train_epoch__noisy_target(model, loader, optimizer, noise_std=0.0):
    model.train()
    total, count = 0.0, 0
    for batch in loader:
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        inputs = add_noise(x, noise_std) if noise_std > 0 else x
        loss = F.mse_loss(model(inputs), inputs)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total, count = total + loss.item() * len(x), count + len(x)
    return total / count


def train_epoch__no_zero_grad(model, loader, optimizer, noise_std=0.0):
    model.train()
    total, count = 0.0, 0
    for batch in loader:
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        inputs = add_noise(x, noise_std) if noise_std > 0 else x
        loss = F.mse_loss(model(inputs), x)
        loss.backward()
        optimizer.step()
        total, count = total + loss.item() * len(x), count + len(x)
    return total / count


def train_epoch__last_batch(model, loader, optimizer, noise_std=0.0):
    model.train()
    loss = None
    for batch in loader:
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        inputs = add_noise(x, noise_std) if noise_std > 0 else x
        loss = F.mse_loss(model(inputs), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def train_epoch__sum(model, loader, optimizer, noise_std=0.0):
    model.train()
    total = 0.0
    for batch in loader:
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        inputs = add_noise(x, noise_std) if noise_std > 0 else x
        loss = F.mse_loss(model(inputs), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total


def train_epoch__unweighted_mean(model, loader, optimizer, noise_std=0.0):
    model.train()
    losses = []
    for batch in loader:
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        inputs = add_noise(x, noise_std) if noise_std > 0 else x
        loss = F.mse_loss(model(inputs), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def pca_reconstruction_mse__not_centred(X_train, X_test, k):
    A = torch.as_tensor(X_train, dtype=torch.float64).flatten(1)
    B = torch.as_tensor(X_test, dtype=torch.float64).flatten(1)
    _, _, Vh = torch.linalg.svd(A, full_matrices=False)
    P = Vh[:k].T
    return float(((B @ P @ P.T - B) ** 2).mean())


def pca_reconstruction_mse__smallest(X_train, X_test, k):
    A = torch.as_tensor(X_train, dtype=torch.float64).flatten(1)
    B = torch.as_tensor(X_test, dtype=torch.float64).flatten(1)
    mean = A.mean(dim=0)
    C = (A - mean).T @ (A - mean) / (len(A) - 1)
    _, V = torch.linalg.eigh(C)  # eigenvalues in ascending order: the first k are the smallest
    P = V[:, :k]
    centred = B - mean
    return float(((centred @ P @ P.T - centred) ** 2).mean())


def pca_reconstruction_mse__fit_on_test(X_train, X_test, k):
    B = torch.as_tensor(X_test, dtype=torch.float64).flatten(1)
    mean = B.mean(dim=0)
    _, _, Vh = torch.linalg.svd(B - mean, full_matrices=False)
    P = Vh[:k].T
    centred = B - mean
    return float(((centred @ P @ P.T - centred) ** 2).mean())


def pca_reconstruction_mse__per_image_sum(X_train, X_test, k):
    A = torch.as_tensor(X_train, dtype=torch.float64).flatten(1)
    B = torch.as_tensor(X_test, dtype=torch.float64).flatten(1)
    mean = A.mean(dim=0)
    _, _, Vh = torch.linalg.svd(A - mean, full_matrices=False)
    P = Vh[:k].T
    centred = B - mean
    return float(((centred @ P @ P.T - centred) ** 2).sum(dim=1).mean())


def encoder_features__train_mode(model, X):
    with torch.no_grad():
        return model.encode(torch.as_tensor(X, dtype=torch.float32))


def encoder_features__reconstructions(model, X):
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float32))


def _m(en, es, pt):
    return {"en": en, "es": es, "pt": pt}


MISTAKES = [
    {"id": "decoder-without-sigmoid", "function": "Autoencoder",
     "variant": Autoencoder__no_sigmoid,
     "message": _m("the decoder's output is not bounded to [0, 1]: end it with a sigmoid, as "
                   "pixel values are in [0, 1]",
                   "la salida del decoder no está acotada a [0, 1]: terminalo con una sigmoide, "
                   "porque los píxeles están en [0, 1]",
                   "a saída do decoder não está limitada a [0, 1]: termine-o com uma sigmoide, "
                   "pois os pixels estão em [0, 1]")},
    {"id": "tied-untied-decoder", "function": "TiedAutoencoder",
     "variant": TiedAutoencoder__untied,
     "message": _m("the decoder has weight matrices of its own: reuse the encoder's, "
                   "transposed (W.t()), so the model holds only two",
                   "el decoder tiene matrices de pesos propias: reusá las del encoder, "
                   "transpuestas (W.t()), así el modelo tiene sólo dos",
                   "o decoder tem matrizes de pesos próprias: reutilize as do encoder, "
                   "transpostas (W.t()), para que o modelo tenha só duas")},
    {"id": "tied-detached-weights", "function": "TiedAutoencoder",
     "variant": TiedAutoencoder__detached,
     "message": _m("the decoder uses a detached copy of the encoder's weights, so the "
                   "reconstruction's gradient never reaches them: use W.t(), without "
                   ".detach() or .data",
                   "el decoder usa una copia desconectada (detach) de los pesos del encoder, "
                   "así el gradiente de la reconstrucción nunca les llega: usá W.t(), sin "
                   ".detach() ni .data",
                   "o decoder usa uma cópia desconectada (detach) dos pesos do encoder, então "
                   "o gradiente da reconstrução nunca chega a eles: use W.t(), sem .detach() "
                   "nem .data")},
    {"id": "noise-without-clamp", "function": "add_noise", "variant": add_noise__no_clamp,
     "message": _m("noisy pixels must be clamped back to [0, 1] (torch.clamp)",
                   "los píxeles con ruido deben recortarse a [0, 1] (torch.clamp)",
                   "os pixels com ruído devem ser recortados para [0, 1] (torch.clamp)")},
    {"id": "noise-ignores-generator", "function": "add_noise",
     "variant": add_noise__global_generator,
     "message": _m("the noise must be drawn from the given generator "
                   "(torch.randn(x.shape, generator=generator)), not torch's global one",
                   "el ruido debe salir del generador recibido "
                   "(torch.randn(x.shape, generator=generator)), no del global de torch",
                   "o ruído deve vir do gerador recebido "
                   "(torch.randn(x.shape, generator=generator)), não do global do torch")},
    {"id": "noise-variance-as-scale", "function": "add_noise", "variant": add_noise__variance,
     "message": _m("std is the standard deviation: multiply N(0, 1) noise by std, not std**2",
                   "std es el desvío estándar: multiplicá el ruido N(0, 1) por std, no por std**2",
                   "std é o desvio padrão: multiplique o ruído N(0, 1) por std, não por std**2")},
    {"id": "train-noisy-target", "function": "train_epoch",
     "variant": train_epoch__noisy_target,
     "message": _m("the loss compares the reconstruction with the noisy input; a denoising "
                   "autoencoder compares it with the clean image x",
                   "la pérdida compara la reconstrucción con la entrada ruidosa; un autoencoder "
                   "de eliminación de ruido la compara con la imagen limpia x",
                   "a perda compara a reconstrução com a entrada ruidosa; um autoencoder de "
                   "remoção de ruído a compara com a imagem limpa x")},
    {"id": "train-no-zero-grad", "function": "train_epoch",
     "variant": train_epoch__no_zero_grad,
     "message": _m("gradients accumulate across batches: call optimizer.zero_grad() before "
                   "loss.backward()",
                   "los gradientes se acumulan entre lotes: llamá a optimizer.zero_grad() antes "
                   "de loss.backward()",
                   "os gradientes se acumulam entre lotes: chame optimizer.zero_grad() antes de "
                   "loss.backward()")},
    {"id": "train-last-batch-loss", "function": "train_epoch",
     "variant": train_epoch__last_batch,
     "message": _m("this is the last batch's loss; return the mean over the whole epoch",
                   "esa es la pérdida del último lote; devolvé el promedio de toda la época",
                   "essa é a perda do último lote; devolva a média de toda a época")},
    {"id": "train-sum-of-losses", "function": "train_epoch", "variant": train_epoch__sum,
     "message": _m("this is the sum of the batch losses; divide to get the mean",
                   "esa es la suma de las pérdidas de los lotes; dividí para obtener el promedio",
                   "essa é a soma das perdas dos lotes; divida para obter a média")},
    {"id": "train-unweighted-mean", "function": "train_epoch",
     "variant": train_epoch__unweighted_mean,
     "message": _m("this is the plain mean of the batch losses, so a smaller last batch counts "
                   "as much as a full one; weight each batch's loss by its size "
                   "(loss.item() * len(x)) and divide by the number of images",
                   "esto es el promedio simple de las pérdidas de los lotes, así un último "
                   "lote más chico cuenta tanto como uno completo; ponderá la pérdida de cada "
                   "lote por su tamaño (loss.item() * len(x)) y dividí por la cantidad de "
                   "imágenes",
                   "isto é a média simples das perdas dos lotes, então um último lote menor "
                   "conta tanto quanto um completo; pondere a perda de cada lote pelo seu "
                   "tamanho (loss.item() * len(x)) e divida pelo número de imagens")},
    {"id": "pca-not-centred", "function": "pca_reconstruction_mse",
     "variant": pca_reconstruction_mse__not_centred,
     "message": _m("PCA needs centred data: subtract the training mean before finding the "
                   "components, and add it back when reconstructing",
                   "PCA necesita datos centrados: restá la media de entrenamiento antes de "
                   "buscar las componentes y sumala al reconstruir",
                   "PCA precisa de dados centrados: subtraia a média de treino antes de achar "
                   "as componentes e some-a de volta ao reconstruir")},
    {"id": "pca-smallest-components", "function": "pca_reconstruction_mse",
     "variant": pca_reconstruction_mse__smallest,
     "message": _m("these are the k directions of SMALLEST variance: eigh returns eigenvalues "
                   "in ascending order, so take the last k columns",
                   "esas son las k direcciones de MENOR varianza: eigh devuelve los autovalores "
                   "en orden ascendente, tomá las últimas k columnas",
                   "essas são as k direções de MENOR variância: eigh devolve os autovalores em "
                   "ordem crescente, pegue as últimas k colunas")},
    {"id": "pca-fit-on-test", "function": "pca_reconstruction_mse",
     "variant": pca_reconstruction_mse__fit_on_test,
     "message": _m("the components are fitted on X_test; fit them on X_train only, or the "
                   "baseline sees the answers",
                   "las componentes se ajustan sobre X_test; ajustalas sólo con X_train, si no "
                   "el baseline ve las respuestas",
                   "as componentes são ajustadas em X_test; ajuste-as só com X_train, senão o "
                   "baseline vê as respostas")},
    {"id": "pca-per-image-sum", "function": "pca_reconstruction_mse",
     "variant": pca_reconstruction_mse__per_image_sum,
     "message": _m("this sums the squared errors of each image; the MSE averages over every "
                   "pixel too",
                   "esto suma los errores al cuadrado de cada imagen; el MSE promedia también "
                   "sobre los píxeles",
                   "isto soma os erros ao quadrado de cada imagem; o MSE também tira a média "
                   "sobre os pixels")},
    {"id": "features-train-mode", "function": "encoder_features",
     "variant": encoder_features__train_mode,
     "message": _m("the model is still in training mode (dropout is active): call model.eval() "
                   "first",
                   "el modelo sigue en modo entrenamiento (dropout activo): llamá primero a "
                   "model.eval()",
                   "o modelo continua em modo de treino (dropout ativo): chame model.eval() "
                   "antes")},
    {"id": "features-are-reconstructions", "function": "encoder_features",
     "variant": encoder_features__reconstructions,
     "message": _m("these are reconstructions (model(X)); the features are the codes "
                   "model.encode(X)",
                   "esas son reconstrucciones (model(X)); las representaciones son los códigos "
                   "model.encode(X)",
                   "essas são reconstruções (model(X)); as representações são os códigos "
                   "model.encode(X)")},
]
