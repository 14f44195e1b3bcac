# mutant: Shapley weight |S|!(n-|S|)!/n! instead of |S|!(n-|S|-1)!/n!
# expect: weight
import math
import numpy as np


def shapley_values(predict, x, background):
    """Exact interventional Shapley values of ``x`` ((n,) or (k, n)) against ``background`` (m, n)."""
    x = np.asarray(x, dtype=np.float64)
    background = np.asarray(background, dtype=np.float64)
    if background.ndim == 1:
        background = background[None, :]
    single = x.ndim == 1
    xs = x[None, :] if single else x
    n = xs.shape[1]
    masks = _all_masks(n)                                  # (2^n, n), bit i <-> feature i
    sizes = masks.sum(axis=1)
    # weight(s) = s! (n - s - 1)! / n!  for a coalition of size s not containing i
    weight = np.array([math.factorial(s) * math.factorial(n - s) / math.factorial(n) for s in range(n)])
    # phi_i = sum_S v(S) * (weight(|S|-1) if i in S else -weight(|S|))
    with_i = weight[np.clip(sizes - 1, 0, n - 1)][:, None]
    without_i = weight[np.clip(sizes, 0, n - 1)][:, None]
    coef = np.where(masks, with_i, -without_i)             # (2^n, n)
    out = np.stack([_coalition_values(predict, row, background, masks) @ coef for row in xs])
    return out[0] if single else out
