"""Known wrong variants of the backprop API, used by the judge to name misconceptions.

Each variant has the signature of the function it replaces and is self-contained, so
the judge can run it on the same probe inputs as the student's code. Each validates its input
as the exercise asks, so that a mistake's evidence is its mathematics only (a missing
ValueError or TypeError is told by its own check, never named as a mistake).
"""
import numpy as np


def sigmoid_derivative__of_output(z):
    # The textbook a(1 - a) written with z in place of a = sigmoid(z).
    z = np.asarray(z, dtype=float)
    return z * (1.0 - z)


def tanh_derivative__of_output(z):
    # 1 - a^2 with z in place of a = tanh(z).
    z = np.asarray(z, dtype=float)
    return 1.0 - z ** 2


def compute_cost__no_mean(A2, Y):
    if np.shape(A2) != np.shape(Y):
        raise ValueError("A2 and Y have different shapes")
    A = np.clip(np.asarray(A2, dtype=float), 1e-12, 1.0 - 1e-12)
    return float(-np.sum(Y * np.log(A) + (1.0 - Y) * np.log(1.0 - A)))


def compute_cost__log10(A2, Y):
    if np.shape(A2) != np.shape(Y):
        raise ValueError("A2 and Y have different shapes")
    A = np.clip(np.asarray(A2, dtype=float), 1e-12, 1.0 - 1e-12)
    return float(-np.sum(Y * np.log10(A) + (1.0 - Y) * np.log10(1.0 - A)) / Y.shape[-1])


def compute_cost__sign(A2, Y):
    if np.shape(A2) != np.shape(Y):
        raise ValueError("A2 and Y have different shapes")
    A = np.clip(np.asarray(A2, dtype=float), 1e-12, 1.0 - 1e-12)
    return float(np.sum(Y * np.log(A) + (1.0 - Y) * np.log(1.0 - A)) / Y.shape[-1])


def backward__extra_sigmoid_derivative(X, Y, params, cache):
    # Multiplies A2 - Y by sigmoid'(Z2) again although it already cancelled.
    m = X.shape[1]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = (A2 - Y) * A2 * (1.0 - A2)
    dZ1 = (params["W2"] @ dZ2) * (1.0 - A1 ** 2)
    return {"dW1": X @ dZ1.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
            "dW2": A1 @ dZ2.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m}


def backward__no_tanh_derivative(X, Y, params, cache):
    m = X.shape[1]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y
    dZ1 = params["W2"] @ dZ2
    return {"dW1": X @ dZ1.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
            "dW2": A1 @ dZ2.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m}


def backward__dW1_transposed(X, Y, params, cache):
    # The Z = W X convention of other courses: dW1 comes out (n_h, n_x).
    m = X.shape[1]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y
    dZ1 = (params["W2"] @ dZ2) * (1.0 - A1 ** 2)
    return {"dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
            "dW2": A1 @ dZ2.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m}


def backward__no_mean(X, Y, params, cache):
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y
    dZ1 = (params["W2"] @ dZ2) * (1.0 - A1 ** 2)
    return {"dW1": X @ dZ1.T, "db1": dZ1.sum(axis=1, keepdims=True),
            "dW2": A1 @ dZ2.T, "db2": dZ2.sum(axis=1, keepdims=True)}


def numerical_gradient__denominator_eps(f, x, eps=1e-5):
    # Central difference divided by eps instead of the 2*eps the points are apart.
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("x must be a floating-point array")
    grad = np.zeros(x.shape, dtype=float)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        try:
            x[idx] = old + eps
            f_plus = f()
            x[idx] = old - eps
            f_minus = f()
        finally:
            x[idx] = old
        grad[idx] = (f_plus - f_minus) / eps
    return grad


def update_parameters__ascent(params, grads, lr):
    return {k: params[k] + lr * grads["d" + k] for k in ("W1", "b1", "W2", "b2")}


MISTAKES = [
    {"id": "sigmoid-derivative-of-output", "function": "sigmoid_derivative",
     "variant": sigmoid_derivative__of_output,
     "message": {
         "en": "sigmoid_derivative returns z(1 - z): the formula a(1 - a) needs a = sigmoid(z), "
               "not z itself.",
         "es": "sigmoid_derivative devuelve z(1 - z): la fórmula a(1 - a) requiere "
               "a = sigmoid(z), no z.",
         "pt": "sigmoid_derivative devolve z(1 - z): a fórmula a(1 - a) exige a = sigmoid(z), "
               "e não o próprio z."}},
    {"id": "tanh-derivative-of-output", "function": "tanh_derivative",
     "variant": tanh_derivative__of_output,
     "message": {
         "en": "tanh_derivative returns 1 - z^2: the formula 1 - a^2 needs a = tanh(z), "
               "not z itself.",
         "es": "tanh_derivative devuelve 1 - z^2: la fórmula 1 - a^2 requiere a = tanh(z), "
               "no z.",
         "pt": "tanh_derivative devolve 1 - z^2: a fórmula 1 - a^2 exige a = tanh(z), "
               "e não o próprio z."}},
    {"id": "cost-no-mean", "function": "compute_cost", "variant": compute_cost__no_mean,
     "message": {
         "en": "The 1/m factor is missing: the cost is summed over the examples instead of "
               "averaged.",
         "es": "Falta el factor 1/m: el costo se suma sobre los ejemplos en lugar de "
               "promediarse.",
         "pt": "Falta o fator 1/m: o custo é somado sobre os exemplos em vez de ser "
               "calculado como média."}},
    {"id": "cost-log10", "function": "compute_cost", "variant": compute_cost__log10,
     "message": {
         "en": "The cost uses log10; cross-entropy here uses the natural log (np.log), so your "
               "value is off by a factor 1/ln 10.",
         "es": "El costo usa log10; aquí la entropía cruzada usa el logaritmo natural (np.log), "
               "así que tu valor queda multiplicado por 1/ln 10.",
         "pt": "O custo usa log10; aqui a entropia cruzada usa o logaritmo natural (np.log), "
               "então o seu valor fica multiplicado por 1/ln 10."}},
    {"id": "cost-sign", "function": "compute_cost", "variant": compute_cost__sign,
     "message": {
         "en": "The leading minus sign is missing: the cost comes out negative, but "
               "cross-entropy is always >= 0.",
         "es": "Falta el signo menos inicial: el costo da negativo, pero la entropía cruzada "
               "siempre es >= 0.",
         "pt": "Falta o sinal de menos no início: o custo sai negativo, mas a entropia "
               "cruzada é sempre >= 0."}},
    {"id": "backward-extra-sigmoid-derivative", "function": "backward",
     "variant": backward__extra_sigmoid_derivative,
     "message": {
         "en": "dZ2 is multiplied by sigmoid'(Z2) = A2(1 - A2) again: with cross-entropy that "
               "factor already cancels and dZ2 = A2 - Y.",
         "es": "dZ2 se multiplica otra vez por sigmoid'(Z2) = A2(1 - A2): con entropía cruzada "
               "ese factor ya se cancela y dZ2 = A2 - Y.",
         "pt": "dZ2 é multiplicado de novo por sigmoid'(Z2) = A2(1 - A2): com entropia cruzada "
               "esse fator já se cancela e dZ2 = A2 - Y."}},
    {"id": "backward-no-tanh-derivative", "function": "backward",
     "variant": backward__no_tanh_derivative,
     "message": {
         "en": "dZ1 lacks the factor tanh'(Z1) = 1 - A1^2: the gradient is passed through the "
               "hidden layer as if it were linear.",
         "es": "A dZ1 le falta el factor tanh'(Z1) = 1 - A1^2: el gradiente atraviesa la capa "
               "oculta como si fuera lineal.",
         "pt": "Falta em dZ1 o fator tanh'(Z1) = 1 - A1^2: o gradiente atravessa a camada "
               "oculta como se ela fosse linear."}},
    {"id": "backward-dW1-transposed", "function": "backward",
     "variant": backward__dW1_transposed,
     "message": {
         "en": "dW1 is transposed (n_h, n_x): here Z1 = W1^T X, so W1 and dW1 are (n_x, n_h) "
               "and dW1 = X dZ1^T / m.",
         "es": "dW1 está transpuesta (n_h, n_x): aquí Z1 = W1^T X, así que W1 y dW1 son "
               "(n_x, n_h) y dW1 = X dZ1^T / m.",
         "pt": "dW1 está transposta (n_h, n_x): aqui Z1 = W1^T X, então W1 e dW1 são "
               "(n_x, n_h) e dW1 = X dZ1^T / m."}},
    {"id": "backward-no-mean", "function": "backward", "variant": backward__no_mean,
     "message": {
         "en": "The gradients lack the 1/m factor: they are m times the gradient of the "
               "averaged cost.",
         "es": "A los gradientes les falta el factor 1/m: son m veces el gradiente del costo "
               "promediado.",
         "pt": "Falta o fator 1/m nos gradientes: eles são m vezes o gradiente do custo "
               "médio."}},
    {"id": "numgrad-denominator-eps", "function": "numerical_gradient",
     "variant": numerical_gradient__denominator_eps,
     "message": {
         "en": "The central difference is divided by eps instead of 2*eps (x + eps and x - eps "
               "are 2*eps apart), so every entry is twice too large.",
         "es": "La diferencia central se divide por eps en lugar de 2*eps (x + eps y x - eps "
               "distan 2*eps), así que cada entrada es el doble de lo correcto.",
         "pt": "A diferença central é dividida por eps em vez de 2*eps (x + eps e x - eps "
               "distam 2*eps), então cada entrada fica com o dobro do valor."}},
    {"id": "update-ascent", "function": "update_parameters", "variant": update_parameters__ascent,
     "message": {
         "en": "The update adds lr * gradient: gradient descent subtracts it "
               "(W <- W - lr * dW).",
         "es": "La actualización suma lr * gradiente: el descenso por gradiente lo resta "
               "(W <- W - lr * dW).",
         "pt": "A atualização soma lr * gradiente: a descida do gradiente o subtrai "
               "(W <- W - lr * dW)."}},
]
