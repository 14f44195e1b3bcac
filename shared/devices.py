"""Devices a test can be parametrized over.  The CUDA case is always listed so that
it shows up in the results, skipped with an explicit reason when there is no GPU.

``DEVICES`` is built on first use: the zygote imports every ``shared`` module before it
forks a worker, and pytest (80 ms of its start-up) is of no use to a worker."""
import torch

HAS_CUDA = torch.cuda.is_available()
NO_CUDA_REASON = "no CUDA device"


def __getattr__(name: str):
    if name == "DEVICES":
        import pytest
        devices = [
            pytest.param("cpu", id="cpu"),
            pytest.param("cuda", id="cuda", marks=[pytest.mark.cuda,
                                                   pytest.mark.skipif(not HAS_CUDA, reason=NO_CUDA_REASON)]),
        ]
        globals()["DEVICES"] = devices
        return devices
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
