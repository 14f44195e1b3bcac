# attack: kernel_shap returns, but a thread it started goes on sending call-back frames to the
# grader, hoping they are served during the next test (calling its predict before it starts)
# adds: _spam
# deserves: the points of every test whose calls were not disturbed
import threading
import time

import numpy as np


def _spam(callback, n):
    time.sleep(0.05)
    for _ in range(n):
        try:
            callback(np.zeros((1, 4)))
        except Exception:
            pass


def kernel_shap(predict, x, background, n_samples, generator):
    threading.Thread(target=_spam, args=(predict, 60), daemon=True).start()
    return np.zeros(np.asarray(x).shape[-1])
