"""Devices a test can be parametrized over.  The CUDA case is always listed so that
it shows up in the results, skipped with an explicit reason when there is no GPU."""
import pytest
import torch

HAS_CUDA = torch.cuda.is_available()
NO_CUDA_REASON = "no CUDA device"

DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param("cuda", id="cuda", marks=[pytest.mark.cuda,
                                           pytest.mark.skipif(not HAS_CUDA, reason=NO_CUDA_REASON)]),
]
