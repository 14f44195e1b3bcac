# mutant: coalition value f(x_S, mean background) instead of the mean of f over the background rows
# expect: background
import numpy as np


def _coalition_values(predict, x: np.ndarray, background: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """v(S) = mean_j f(x_S, b_j,~S) for every coalition mask (C, n), in batched calls."""
    background = background.mean(axis=0, keepdims=True)   # MUTANT: averages the background before the model
    m, n = background.shape
    per_call = max(1, _MAX_ROWS // m)
    values = np.empty(masks.shape[0])
    for start in range(0, masks.shape[0], per_call):
        chunk = masks[start:start + per_call]
        rows = np.where(chunk[:, None, :], x[None, None, :], background[None, :, :])
        values[start:start + per_call] = _predict_rows(predict, rows.reshape(-1, n)).reshape(len(chunk), m).mean(axis=1)
    return values
