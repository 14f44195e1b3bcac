# mutant: centered=True ignored: ICE curves are not centred
# expect: centered
import numpy as np


def partial_dependence(predict, X, feature, grid, centered=False):
    """Brute-force partial dependence and ICE curves of ``feature`` over ``grid``."""
    X = np.asarray(X, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64).reshape(-1)
    N, n = X.shape
    rows = np.repeat(X[None, :, :], grid.shape[0], axis=0)  # (g, N, n)
    rows[:, :, feature] = grid[:, None]
    ice = _predict_rows(predict, rows.reshape(-1, n)).reshape(grid.shape[0], N).T.copy()
    return ice.mean(axis=0), ice
