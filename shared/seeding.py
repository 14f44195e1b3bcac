"""Seed every random source a graded call can draw from: Python's, NumPy's and torch's.

Called before every call of student or reference code (hundreds per submission), so it
must be cheap.  ``torch.manual_seed`` also queues a lazy seeding of CUDA, XPU and MTIA when
they are not initialised, and each queued call records a formatted stack (about 65 us per
seed on a CPU-only build, a fifth of a worker's whole round trip).  Without a GPU only the
CPU generator can be drawn from, and seeding it alone leaves exactly the same state.
"""
from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if torch.cuda.is_available():
        torch.manual_seed(seed)
    else:
        torch.default_generator.manual_seed(int(seed))
