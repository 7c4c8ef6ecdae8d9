"""Known wrong variants of the perceptron functions, named in feedback (trusted side only).

Each variant differs from the reference in its mathematics only (it validates its input as the
exercise asks): a missing ValueError is told by its own check, never named as a mistake."""

import numpy as np


def predict__strict(X, w, b):
    return np.where(np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b > 0, 1, -1)


def predict__np_sign(X, w, b):
    return np.sign(np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b)


def predict__zero_one(X, w, b):
    return np.where(np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b >= 0, 1, 0)


# Each variant is pasted into a notebook on its own: it validates inline, as the exercise asks,
# so that a mistake's evidence is its mathematics only.

def accuracy__count(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape[0] != y_pred.shape[0] or y_true.shape[0] == 0:
        raise ValueError("lengths differ or are 0")
    return float(np.sum(y_true == y_pred))


def accuracy__error_rate(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape[0] != y_pred.shape[0] or y_true.shape[0] == 0:
        raise ValueError("lengths differ or are 0")
    return float(np.mean(y_true != y_pred))


def better_model__first_max(X, y, models):
    scores = {name: float(np.mean(np.where(np.asarray(X, float) @ np.asarray(w, float) + b >= 0,
                                           1, -1) == y)) for name, (w, b) in models.items()}
    return max(scores, key=scores.get)


def train_perceptron__strict(X, y, epochs, lr=1.0):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    w, b, mistakes = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        count = 0
        for xi, yi in zip(X, y):
            if yi * (xi @ w + b) < 0:
                w, b, count = w + lr * yi * xi, b + lr * yi, count + 1
        mistakes.append(count)
    return w, b, mistakes


def train_perceptron__no_bias(X, y, epochs, lr=1.0):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    w, mistakes = np.zeros(X.shape[1]), []
    for _ in range(epochs):
        count = 0
        for xi, yi in zip(X, y):
            if yi * (xi @ w) <= 0:
                w, count = w + lr * yi * xi, count + 1
        mistakes.append(count)
    return w, 0.0, mistakes


def train_perceptron__cumulative(X, y, epochs, lr=1.0):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    w, b, mistakes, total = np.zeros(X.shape[1]), 0.0, [], 0
    for _ in range(epochs):
        for xi, yi in zip(X, y):
            if yi * (xi @ w + b) <= 0:
                w, b, total = w + lr * yi * xi, b + lr * yi, total + 1
        mistakes.append(total)
    return w, b, mistakes


MISTAKES = [
    {"id": "predict-strict-sign", "function": "predict", "variant": predict__strict,
     "message": {"en": "points exactly on the boundary (w.x + b = 0) must get +1: use >= 0, not > 0",
                 "es": "los puntos justo sobre la frontera (w.x + b = 0) deben recibir +1: usá >= 0, no > 0",
                 "pt": "pontos exatamente na fronteira (w.x + b = 0) devem receber +1: use >= 0, não > 0"}},
    {"id": "predict-np-sign", "function": "predict", "variant": predict__np_sign,
     "message": {"en": "np.sign gives 0 for a point exactly on the boundary (w.x + b = 0), "
                       "which is no label: this course takes sign(0) = +1, so use the "
                       "condition w.x + b >= 0 instead of np.sign",
                 "es": "np.sign da 0 para un punto justo sobre la frontera (w.x + b = 0), que "
                       "no es ninguna etiqueta: en este curso sign(0) = +1, así que en lugar de "
                       "np.sign usá la condición w.x + b >= 0",
                 "pt": "np.sign dá 0 para um ponto exatamente na fronteira (w.x + b = 0), que "
                       "não é nenhum rótulo: neste curso sign(0) = +1, então em vez de np.sign "
                       "use a condição w.x + b >= 0"}},
    {"id": "predict-zero-one", "function": "predict", "variant": predict__zero_one,
     "message": {"en": "labels are +1/-1 in this course, not 1/0",
                 "es": "en este curso las etiquetas son +1/-1, no 1/0",
                 "pt": "neste curso os rótulos são +1/-1, não 1/0"}},
    {"id": "accuracy-count", "function": "accuracy", "variant": accuracy__count,
     "message": {"en": "this is the number of correct predictions; accuracy divides it by m",
                 "es": "eso es la cantidad de aciertos; la exactitud la divide por m",
                 "pt": "isso é o número de acertos; a acurácia divide por m"}},
    {"id": "accuracy-error-rate", "function": "accuracy", "variant": accuracy__error_rate,
     "message": {"en": "this is the error rate (fraction wrong), not the accuracy",
                 "es": "eso es la tasa de error (fracción de errores), no la exactitud",
                 "pt": "isso é a taxa de erro (fração de erros), não a acurácia"}},
    {"id": "better-model-no-tie", "function": "better_model", "variant": better_model__first_max,
     "message": {"en": "when the best accuracies are equal the answer is \"tie\", not the first name",
                 "es": "si las mejores exactitudes son iguales la respuesta es \"tie\", no el primer nombre",
                 "pt": "quando as melhores acurácias empatam a resposta é \"tie\", não o primeiro nome"}},
    {"id": "train-strict-mistake", "function": "train_perceptron", "variant": train_perceptron__strict,
     "message": {"en": "a mistake is y_i (w.x_i + b) <= 0; with < 0 the zero start never updates",
                 "es": "un error es y_i (w.x_i + b) <= 0; con < 0 el inicio en cero nunca actualiza",
                 "pt": "um erro é y_i (w.x_i + b) <= 0; com < 0 o início em zero nunca atualiza"}},
    {"id": "train-no-bias", "function": "train_perceptron", "variant": train_perceptron__no_bias,
     "message": {"en": "the bias is never updated: add b += lr * y_i on each mistake",
                 "es": "el sesgo nunca se actualiza: sumá b += lr * y_i en cada error",
                 "pt": "o viés nunca é atualizado: some b += lr * y_i a cada erro"}},
    {"id": "train-cumulative-mistakes", "function": "train_perceptron",
     "variant": train_perceptron__cumulative,
     "message": {"en": "mistakes[e] counts the updates of epoch e only, not a running total",
                 "es": "mistakes[e] cuenta sólo las actualizaciones de la época e, no el acumulado",
                 "pt": "mistakes[e] conta só as atualizações da época e, não o acumulado"}},
]
