"""How a forbidden API is recognised by name: the run-time trace (:mod:`shared.optrace`)
and the static check (``autograder/static_check.py``) read the registry's dotted API names
and aten operator names the same way.  Standard library only (the static check runs
without torch)."""
from __future__ import annotations

_WRAPPERS = {"forward", "__call__"}


def python_names(apis) -> set[str]:
    """The function names a dotted API list ends in (``torch.nn.functional.conv2d`` ->
    ``conv2d``); a class' ``forward`` is recognised by the functions it calls."""
    return {api.rsplit(".", 1)[-1] for api in apis if api.rsplit(".", 1)[-1] not in _WRAPPERS}


def op_names(ops) -> set[str]:
    """``aten::convolution`` / ``aten.convolution`` -> ``convolution``."""
    return {op.replace("::", ".").split(".")[1] if "." in op.replace("::", ".") else op for op in ops}
