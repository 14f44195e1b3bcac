# mutant: kernel_shap ignores the generator argument and samples with a generator of its own (np.random.default_rng(0))
# expect: generator
import math

import numpy as np


def kernel_shap(predict, x, background, n_samples, generator):
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    background = np.asarray(background, dtype=np.float64)
    if background.ndim == 1:
        background = background[None, :]
    n = x.shape[0]
    n_samples = int(n_samples)
    if n == 1:
        ends = _coalition_values(predict, x, background, np.array([[False], [True]]))
        return np.array([ends[1] - ends[0]])
    sizes_all = np.arange(1, n)
    kernel = (n - 1) / (sizes_all * (n - sizes_all))
    if n_samples >= (1 << n) - 2:
        masks = _all_masks(n)[1:-1]
        s = masks.sum(axis=1)
        weights = kernel[s - 1] / np.array([math.comb(n, int(k)) for k in s])
    else:
        rng = np.random.default_rng(0)
        s = rng.choice(sizes_all, size=n_samples, p=kernel / kernel.sum())
        ranks = rng.random((n_samples, n)).argsort(axis=1).argsort(axis=1)
        masks = ranks < s[:, None]
        weights = np.ones(n_samples)
    ends = np.zeros((2, n), dtype=bool)
    ends[1] = True
    values = _coalition_values(predict, x, background, np.concatenate([ends, masks]))
    v_empty, v_full, v = values[0], values[1], values[2:]
    total = v_full - v_empty
    z = masks.astype(np.float64)
    design = z[:, :-1] - z[:, -1:]
    target = v - v_empty - z[:, -1] * total
    sw = np.sqrt(weights)
    phi_rest, *_ = np.linalg.lstsq(design * sw[:, None], target * sw, rcond=None)
    return np.append(phi_rest, total - phi_rest.sum())
