# mutant: LIME kernel exp(-d^2/w^2) without the square root
# expect: kernel
import numpy as np


def lime_fit(neighborhood, predictions, distances, kernel_width, alpha=1.0):
    """LIME's local surrogate: ridge regression weighted by sqrt(exp(-d^2 / width^2))."""
    Z = np.asarray(neighborhood, dtype=np.float64)
    y = np.asarray(predictions, dtype=np.float64).reshape(-1)
    d = np.asarray(distances, dtype=np.float64).reshape(-1)
    w = np.exp(-(d ** 2) / kernel_width ** 2)
    z_mean = (w[:, None] * Z).sum(0) / w.sum()
    y_mean = (w * y).sum() / w.sum()
    Zc, yc = Z - z_mean, y - y_mean
    gram = Zc.T @ (w[:, None] * Zc) + alpha * np.eye(Z.shape[1])
    coef = np.linalg.solve(gram, Zc.T @ (w * yc))
    intercept = float(y_mean - z_mean @ coef)
    resid = y - (Z @ coef + intercept)
    ss_res = (w * resid ** 2).sum()
    ss_tot = (w * (y - y_mean) ** 2).sum()
    score = float(1.0 - ss_res / ss_tot) if ss_tot > 0 else (1.0 if ss_res == 0 else 0.0)
    return intercept, coef, score
