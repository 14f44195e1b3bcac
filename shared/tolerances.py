"""Tolerances, stated once.  Every test compares through these; a test that needs a
looser bound passes ``loosen=`` with a comment saying why.

The float32 bounds allow for a different summation order than torch's kernels
(im2col + matmul against cuDNN/oneDNN direct convolution): over reductions of a few
thousand terms that moves results by ~1e-6 relative, so 1e-4 leaves head-room without
letting a real bug (errors of 1e-2 and up) through.  float64 keeps ~1e-12 agreement.
"""
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Tol:
    rtol: float
    atol: float

    def scaled(self, factor: float) -> "Tol":
        return Tol(self.rtol * factor, self.atol * factor)


TOLERANCES: dict[torch.dtype, Tol] = {
    torch.float16: Tol(rtol=1e-2, atol=1e-3),
    torch.bfloat16: Tol(rtol=2e-2, atol=1e-2),
    torch.float32: Tol(rtol=1e-4, atol=1e-5),
    torch.float64: Tol(rtol=1e-7, atol=1e-10),
}

# numpy results (a6_xai) are float64 throughout.
NUMPY_FLOAT64 = TOLERANCES[torch.float64]

# Exact properties that must hold to machine precision (Shapley efficiency, symmetry...).
PROPERTY_ATOL = 1e-9


def tolerance(dtype) -> Tol:
    """Tolerance for a torch dtype (integer and bool dtypes compare exactly)."""
    if isinstance(dtype, torch.dtype) and not dtype.is_floating_point:
        return Tol(0.0, 0.0)
    return TOLERANCES.get(dtype, TOLERANCES[torch.float64])
