"""The staged comparator: type, then dtype/shape/device, then NaN/inf, then values.

The first check that fails raises :class:`shared.feedback.Feedback` with a message
that tells the student what is wrong (under "your ... / expected ...") and a hint.
The inputs of the test are never part of the message.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from shared.feedback import Feedback
from shared.i18n import _
from shared.tolerances import Tol, tolerance


def _kind(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        return "torch.Tensor"
    if isinstance(x, np.ndarray):
        return "numpy.ndarray"
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, (int, np.integer)):
        return "int"
    if isinstance(x, (float, np.floating)):
        return "float"
    if isinstance(x, tuple):
        return "tuple"
    if isinstance(x, list):
        return "list"
    return type(x).__name__


def _shape(x) -> tuple:
    return tuple(x.shape)


def _fmt_index(idx) -> str:
    return "(" + ", ".join(str(int(i)) for i in idx) + ")"


def assert_close(actual: Any, expected: Any, *, name: str, hint: str | None = None,
                 tol: Tol | None = None, loosen: float = 1.0, check_dtype: bool = True,
                 check_device: bool = True, values: bool = True) -> None:
    """Compare a tensor / array / number / tuple result against the expected one.

    ``name`` says what is compared ("conv2d output", "grad of weight"); ``hint`` names
    the concept a mismatch most likely comes from.  ``loosen`` multiplies the dtype's
    tolerance; use it only with a comment explaining why.
    """
    exp_kind, act_kind = _kind(expected), _kind(actual)
    if exp_kind in ("tuple", "list") and act_kind in ("tuple", "list"):
        if len(actual) != len(expected):
            raise Feedback(_("your {name} has {actual} elements; expected {expected}.").format(
                name=name, actual=len(actual), expected=len(expected)), hint)
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, name=f"{name}[{i}]", hint=hint, tol=tol, loosen=loosen,
                         check_dtype=check_dtype, check_device=check_device, values=values)
        return
    numeric = {"int", "float"}
    if not (exp_kind == act_kind or (exp_kind in numeric and act_kind in numeric and exp_kind == "float")):
        if exp_kind[0] in "aeiou":
            text = _("your {name} is a {actual}; expected an {expected}.")
        else:
            text = _("your {name} is a {actual}; expected a {expected}.")
        raise Feedback(text.format(name=name, actual=act_kind, expected=exp_kind), hint)
    if not values and exp_kind not in ("numpy.ndarray", "torch.Tensor"):
        return
    if exp_kind in ("int", "bool"):
        if actual != expected:
            raise Feedback(_("your {name} is {actual}; expected {expected}.").format(
                name=name, actual=repr(actual), expected=repr(expected)), hint)
        return
    if exp_kind == "float":
        t = tol or tolerance(torch.float64)
        a, e = float(actual), float(expected)
        if math.isnan(a) and not math.isnan(e):
            raise Feedback(_("your {name} is NaN; expected a finite number.").format(name=name), hint)
        if not math.isclose(a, e, rel_tol=t.rtol * loosen, abs_tol=t.atol * loosen) and not (a == e):
            raise Feedback(_("your {name} is {actual:.6g}; expected {expected:.6g} (abs error {error:.3g}).").format(
                name=name, actual=a, expected=e, error=abs(a - e)), hint)
        return
    if exp_kind == "numpy.ndarray":
        actual_t, expected_t = torch.from_numpy(np.ascontiguousarray(actual)), torch.from_numpy(np.ascontiguousarray(expected))
    elif exp_kind == "torch.Tensor":
        actual_t, expected_t = actual, expected
    else:
        if actual != expected:
            raise Feedback(_("your {name} is {actual}; expected {expected}.").format(
                name=name, actual=repr(actual), expected=repr(expected)), hint)
        return
    _compare_tensors(actual_t, expected_t, name=name, hint=hint, tol=tol, loosen=loosen,
                     check_dtype=check_dtype, check_device=check_device, values=values)


def assert_structure(actual: Any, expected: Any, *, name: str, hint: str | None = None) -> None:
    """The upper rungs of the ladder only: type, length, dtype, shape and device, not the
    values (a check that must not charge a wrong value twice, e.g. a forbidden-API test)."""
    assert_close(actual, expected, name=name, hint=hint, values=False)


def _compare_tensors(actual: torch.Tensor, expected: torch.Tensor, *, name, hint, tol, loosen,
                     check_dtype, check_device, values: bool = True) -> None:
    if check_dtype and actual.dtype != expected.dtype:
        raise Feedback(_("your {name} has dtype {actual}; expected {expected} (outputs keep the input dtype).").format(
            name=name, actual=actual.dtype, expected=expected.dtype), hint)
    if _shape(actual) != _shape(expected):
        raise Feedback(_("your {name} has shape {actual}; expected {expected}.").format(
            name=name, actual=_shape(actual), expected=_shape(expected)), hint)
    if check_device and actual.device.type != expected.device.type:
        raise Feedback(_("your {name} is on {actual}; expected {expected} (outputs stay on the input's "
                         "device).").format(name=name, actual=actual.device.type, expected=expected.device.type),
                       hint)
    if not values:
        return
    a = actual.detach().to("cpu")
    e = expected.detach().to("cpu")
    if not a.dtype.is_floating_point and not a.dtype.is_complex:
        if a.dtype == torch.bool or e.dtype == torch.bool:
            diff = a != e
        else:
            diff = a.to(torch.int64) != e.to(torch.int64)
        if diff.any():
            _raise_mismatch(a, e, diff, name, hint, None)
        return
    t = tol or tolerance(expected.dtype)
    rtol, atol = t.rtol * loosen, t.atol * loosen
    a64, e64 = a.to(torch.float64), e.to(torch.float64)
    a_nan, e_nan = torch.isnan(a64), torch.isnan(e64)
    if (a_nan & ~e_nan).any():
        n = int((a_nan & ~e_nan).sum())
        first = _fmt_index(torch.nonzero(a_nan & ~e_nan)[0].tolist()) if a64.dim() else "()"
        raise Feedback(_("your {name} has {n} NaN value(s) where the expected values are finite "
                         "(first at index {first}).").format(name=name, n=n, first=first),
                       hint or _("look for 0/0, log(0) or exp overflow"))
    a_inf, e_inf = torch.isinf(a64), torch.isinf(e64)
    if (a_inf & ~e_inf).any():
        n = int((a_inf & ~e_inf).sum())
        raise Feedback(_("your {name} has {n} infinite value(s) where the expected values are finite.").format(
            name=name, n=n), hint or _("look for overflow in exp or division by a value near zero"))
    both_nan = a_nan & e_nan
    same_inf = a_inf & e_inf & (a64 == e64)
    err = (a64 - e64).abs()
    err = torch.where(both_nan | same_inf, torch.zeros_like(err), err)
    bad = (err > atol + rtol * e64.abs()) | (e_nan & ~a_nan)
    if bad.any():
        _raise_mismatch(a64, e64, bad, name, hint, (err, rtol, atol))


def _raise_mismatch(a, e, bad, name, hint, errinfo) -> None:
    n_bad, n_all = int(bad.sum()), bad.numel()
    where = torch.nonzero(bad)[:5].tolist() if a.dim() else [[]]
    first = where[0]
    a_first = a[tuple(first)].item() if a.dim() else a.item()
    e_first = e[tuple(first)].item() if e.dim() else e.item()
    lines = [_("your {name} differs from the expected values at {n_bad} of {n_all} elements.").format(
        name=name, n_bad=n_bad, n_all=n_all)]
    if errinfo is not None:
        err, rtol, atol = errinfo
        finite = torch.isfinite(err)
        max_abs = float(err[finite].max()) if finite.any() else float("nan")
        rel = err / e.abs().clamp_min(1e-12)
        max_rel = float(rel[finite].max()) if finite.any() else float("nan")
        lines.append(_("max abs error {max_abs:.3g}, max rel error {max_rel:.3g} "
                       "(allowed: {atol:.0e} + {rtol:.0e} * |expected|).").format(
            max_abs=max_abs, max_rel=max_rel, atol=atol, rtol=rtol))
    shown = ", ".join(_fmt_index(w) for w in where) if a.dim() else "()"
    lines.append(_("first mismatching indices: {indices}").format(indices=shown))
    lines.append(_("at {index}: yours {actual:.6g}, expected {expected:.6g}.").format(
        index=_fmt_index(first) if a.dim() else "()", actual=a_first, expected=e_first))
    raise Feedback("\n".join(lines), hint)


def assert_true(condition: bool, message: str, hint: str | None = None) -> None:
    """A property check worded for the student."""
    if not condition:
        raise Feedback(message, hint)
