# mutant: IG trapezoid ignores the halved end step sizes
# expect: step sizes
import numpy as np


def _riemann(method: str, n: int):
    if n < 2:
        raise ValueError("n_steps must be at least 2")
    k = np.arange(n, dtype=np.float64)
    steps = np.full(n, 1.0 / n)
    if method == "riemann_left":
        alphas = k / n
    elif method == "riemann_right":
        alphas = (k + 1) / n
    elif method == "riemann_middle":
        alphas = (k + 0.5) / n
    elif method == "riemann_trapezoid":
        alphas = k / (n - 1)
    else:
        raise ValueError(f"unknown method {method!r}")
    return steps, alphas
