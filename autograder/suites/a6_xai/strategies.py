"""Black-box models (``predict`` callables) and draws for the a6_xai suite.

A ``predict`` stays in the test process when grading (the student's code calls it
back), so it may be a closure and may count its calls.  Every model is built from a
seeded numpy generator; hypothesis draws only seeds and sizes.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from shared.strategies import np_rng, seeds  # noqa: F401  (re-exported for the tests)
from shared.tolerances import PROPERTY_ATOL, Tol

# Exact properties (efficiency, symmetry, dummy, linearity): absolute 1e-9.
PROPERTY = Tol(rtol=0.0, atol=PROPERTY_ATOL)


def _rows(X, n: int) -> np.ndarray:
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.shape[1] != n:
        shape = getattr(X, "shape", None)
        raise ValueError(f"predict expects a 2-D numpy array (rows, {n}); it was given "
                         f"{type(X).__name__} of shape {shape}")
    return np.asarray(X, dtype=np.float64)


class Game:
    """A black box ``predict`` plus what the tests know about it in closed form."""

    def __init__(self, n: int, fn, max_calls: int | None = None):
        self.n = n
        self.calls = 0
        self.rows = 0
        self._fn = fn

        def predict(X):
            X = _rows(X, n)
            self.calls += 1
            self.rows += X.shape[0]
            if max_calls is not None and self.calls > max_calls:
                # stop a per-coalition loop early instead of waiting for 2^n calls
                raise RuntimeError(f"predict was called more than {max_calls} times; evaluate the "
                                   "coalitions in batched predict calls")
            return np.asarray(fn(X), dtype=np.float64)
        self.predict = predict      # a plain function: it is what crosses into the student's code

    def f(self, X) -> np.ndarray:
        """The model itself, uncounted (for expected values)."""
        return np.asarray(self._fn(np.atleast_2d(np.asarray(X, dtype=np.float64))), dtype=np.float64)


def linear_game(n: int, seed: int, max_calls: int | None = None):
    rng = np_rng(seed)
    w, b = rng.normal(size=n), float(rng.normal())
    return Game(n, lambda X: X @ w + b, max_calls), w, b


def additive_game(n: int, seed: int):
    """f(z) = sum_i g_i(z_i), g_i(t) = a_i t^2 + c_i sin(t): Shapley values phi_i = g_i(x_i) - mean_j g_i(b_ji)."""
    rng = np_rng(seed)
    a, c = rng.normal(size=n), rng.normal(size=n)

    def g(X):
        return a * X ** 2 + c * np.sin(X)            # (rows, n): the per-feature terms
    return Game(n, lambda X: g(X).sum(axis=1)), g


def mlp_game(n: int, seed: int, hidden: int = 6, dummy: int | None = None, max_calls: int | None = None):
    """A small tanh network plus a pairwise interaction: no closed form for its Shapley values.
    With ``dummy`` set, that feature never affects the prediction."""
    rng = np_rng(seed)
    w1, b1, w2 = rng.normal(size=(n, hidden)), rng.normal(size=hidden), rng.normal(size=hidden)
    pair = rng.normal()
    if dummy is not None:
        w1[dummy] = 0.0

    def fn(X):
        inter = X[:, 0] * X[:, n - 1] if n > 1 and dummy not in (0, n - 1) else 0.0
        return np.tanh(X @ w1 + b1) @ w2 + pair * inter
    return Game(n, fn, max_calls)


def symmetric_game(n: int, seed: int, i: int, j: int):
    """f symmetric under swapping features i and j (and not additive)."""
    rng = np_rng(seed)
    w = rng.normal(size=n)
    w[j] = w[i]
    c = rng.normal()
    others = [k for k in range(n) if k not in (i, j)]

    def fn(X):
        third = X[:, others[0]] if others else 1.0
        return np.tanh(X @ w) + c * X[:, i] * X[:, j] * third
    return Game(n, fn)


@st.composite
def game_sizes(draw, min_n: int = 2, max_n: int = 8, max_m: int = 6):
    """(seed, n, m): a seed, a number of features and a number of background rows."""
    return draw(seeds), draw(st.integers(min_n, max_n)), draw(st.integers(1, max_m))


def data(shape, seed: int, scale: float = 1.0) -> np.ndarray:
    return np_rng(seed).normal(size=shape) * scale


@pytest.fixture(scope="module", autouse=False)
def one_thread():
    """Run a module's torch work on one thread, as grading workers do (threads = 1 in
    assignment.toml); on a shared 2-core machine this also keeps in-process runs fast."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
