# attack: partial_dependence first calls predict once with a 12.5 MB bool array (the grader
# would convert it to float64 and run the model on it: hundreds of MB in the grader's process)
# deserves: all but the points of partial_dependence
import numpy as np


def partial_dependence(predict, X, feature, grid, centered=False):
    predict(np.ones((100_000, 125), dtype=bool))
    X = np.asarray(X, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64).reshape(-1)
    rows = np.repeat(X[None, :, :], grid.shape[0], axis=0)
    rows[:, :, feature] = grid[:, None]
    ice = np.asarray(predict(rows.reshape(-1, X.shape[1])), dtype=np.float64).reshape(grid.shape[0], -1).T.copy()
    if centered:
        ice = ice - ice[:, :1]
    return ice.mean(axis=0), ice
