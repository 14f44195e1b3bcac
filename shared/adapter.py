"""The seam between tests and student code.

Tests never import student code.  They call it through a ``student`` fixture whose
attributes are the student's functions (``student.conv2d(x, w)``), and reach the
reference through ``reference``.  Two adapters implement the same interface:

* :class:`InProcessStudent` (here) imports the module into the test process.  It is
  what a student's local ``check`` uses and what plain ``pytest`` uses by default.
* ``autograder.worker.WorkerStudent`` runs every call in an isolated worker process;
  it is what ``grade.py grade`` uses.

Interface used by suites (both adapters):
  ``student.<name>(*args, **kw)``      call a function, or construct a class
  ``student.has(name)``                is it defined?
  ``student.forbid(fn, *apis)``        context manager: the dotted ``apis`` raise while inside
  ``student.describe(module)``         [(qualified name, class name, {param: shape})] of an nn.Module
  ``student.stage(name, args, kw)``    a :class:`Staged` call for timing (see shared.timing)
"""
from __future__ import annotations

import contextlib
import importlib.util
import signal
import sys
import threading
import traceback
import uuid
from pathlib import Path
from typing import Any, Callable

import torch

from shared.feedback import (ForbiddenAPI, MissingFunction, NotImplementedYet, StudentCodeError,
                             StudentRaised, StudentTimeout)


def load_module(path: Path, name: str | None = None):
    """Import a module from a file under a unique name (so a student's ``a1_cnn`` and
    the reference ``a1_cnn`` never collide in ``sys.modules``)."""
    path = Path(path)
    name = name or f"_loaded_{path.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.parent)
    sys.path.insert(0, folder)           # helper modules next to the submission
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
    return module


def resolve(dotted: str):
    """(owner, attribute) for a dotted path such as ``torch.nn.functional.conv2d``."""
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:-1]:
            owner = getattr(owner, attr)
        return owner, parts[-1]
    raise ValueError(f"cannot resolve {dotted}")


@contextlib.contextmanager
def forbidden(apis: tuple[str, ...], fn_name: str, module=None, on_call: Callable | None = None):
    """Make each dotted API raise :class:`ForbiddenAPI` for the duration.

    Aliases the student bound at import time (``from torch.nn.functional import conv2d``)
    are patched in the student module's globals too.
    """
    patches = []
    for api in apis:
        owner, attr = resolve(api)
        original = getattr(owner, attr)
        patches.append((owner, attr, original, api))
        if module is not None:
            patches += [(module, g, v, api) for g, v in list(vars(module).items()) if v is original]
    try:
        for owner, attr, _original, api in patches:
            setattr(owner, attr, _blocker(fn_name, api, on_call))
        yield
    finally:
        for owner, attr, original, _api in reversed(patches):
            setattr(owner, attr, original)


def _blocker(fn_name: str, api: str, on_call):
    def blocked(*_a, **_k):
        if on_call:
            on_call(api)
        raise ForbiddenAPI(fn_name, api)
    blocked.__name__ = f"forbidden_{api.rsplit('.', 1)[-1]}"
    return blocked


def student_frame(tb, filename: str | None) -> str:
    """'line N in <file>: <code>' for the deepest frame inside the student's file."""
    if not filename:
        return ""
    found = ""
    for frame in traceback.extract_tb(tb):
        if Path(frame.filename).name == Path(filename).name:
            found = f"(line {frame.lineno} of your {Path(filename).name}: {(frame.line or '').strip()})"
    return found


def walk(obj, kind, out: list) -> list:
    """Every instance of ``kind`` inside nested lists, tuples and dicts, in order.  The
    grader and the worker both walk call arguments with it, so positions match."""
    if isinstance(obj, kind):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            walk(o, kind, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            walk(o, kind, out)
    return out


def describe_module(module: torch.nn.Module) -> list[tuple[str, str, dict]]:
    return [(name, type(m).__name__, {p: tuple(v.shape) for p, v in m.named_parameters(recurse=False)})
            for name, m in module.named_modules()]


@contextlib.contextmanager
def _alarm(seconds: float | None, name: str):
    """Best-effort timeout for in-process calls (main thread, Unix only)."""
    usable = seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(*_):
        raise StudentTimeout(name, seconds)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    # Re-arm every 50 ms: an alarm that fires inside a gc callback is swallowed by Python.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def translate(name: str, exc: BaseException, filename: str | None) -> StudentCodeError:
    if isinstance(exc, StudentCodeError):
        return exc
    if isinstance(exc, NotImplementedError):
        return NotImplementedYet(name, str(exc))
    return StudentRaised(name, type(exc).__name__, str(exc)[:500], student_frame(exc.__traceback__, filename))


class Staged:
    """A call prepared for timing: ``run(timeout)`` executes it once, waits for the
    result to be complete (CUDA synchronised) and returns its :func:`checksum`;
    ``close()`` frees it."""

    def __init__(self, run: Callable[[float | None], None], close: Callable[[], None] = lambda: None):
        self.run = run
        self.close = close


def checksum(result) -> dict | None:
    """A small fingerprint of a result (its first tensor), read back to the CPU, which
    also forces asynchronous CUDA work to finish before the clock stops.  Speed checks
    compare fingerprints so that a fast but wrong answer earns nothing."""
    if isinstance(result, (tuple, list)):
        for r in result:
            found = checksum(r)
            if found is not None:
                return found
        return None
    if hasattr(result, "__array__") and not isinstance(result, torch.Tensor):
        try:
            result = torch.as_tensor(result)
        except Exception:
            return None
    if not isinstance(result, torch.Tensor) or not (result.dtype.is_floating_point or result.dtype.is_complex
                                                    or result.dtype in (torch.int64, torch.int32, torch.bool)):
        return None
    t = result.detach().to(torch.float64).abs() if not result.dtype.is_complex else result.detach().abs().double()
    signed = result.detach().to(torch.float64) if not result.dtype.is_complex else t
    return {"shape": list(result.shape), "sum": float(signed.sum()), "abs": float(t.sum())}


class InProcessStudent:
    """Calls the module's functions directly, translating failures into feedback."""

    kind = "in-process"

    def __init__(self, path: Path, module_name: str, timeout: float | None = None):
        self.path = Path(path)
        self.module_name = module_name
        self.timeout = timeout
        self._module = None
        self._import_error: StudentCodeError | None = None

    @property
    def module(self):
        if self._module is None and self._import_error is None:
            try:
                with _alarm(self.timeout, f"importing {self.module_name}.py"):
                    self._module = load_module(self.path)
            except StudentCodeError as exc:
                self._import_error = exc
            except BaseException as exc:   # SystemExit at import counts as a broken module
                self._import_error = StudentRaised(f"importing {self.module_name}.py", type(exc).__name__,
                                                   str(exc)[:500], student_frame(exc.__traceback__, str(self.path)))
        if self._import_error is not None:
            raise self._import_error
        return self._module

    def captured_output(self) -> str:
        return ""                          # in-process output goes straight to the terminal

    def import_problem(self) -> str | None:
        """Why the module could not be imported (None when it imported or was never tried)."""
        return str(self._import_error) if self._import_error else None

    def has(self, name: str) -> bool:
        try:
            return callable(getattr(self.module, name, None))
        except StudentCodeError:
            return False

    def _get(self, name: str):
        obj = getattr(self.module, name, None)
        if obj is None or not callable(obj):
            raise MissingFunction(name, self.module_name)
        return obj

    def call(self, name: str, *args, **kwargs):
        fn = self._get(name)
        try:
            with _alarm(self.timeout, name):
                return fn(*args, **kwargs)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise translate(name, exc, str(self.path)) from None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    @contextlib.contextmanager
    def forbid(self, fn_name: str, *apis: str):
        """The APIs raise inside the block; a call the student's code caught and
        swallowed still fails the check when the block ends."""
        called: list[str] = []
        with forbidden(tuple(apis), fn_name, module=self.module, on_call=called.append):
            yield
        if called:
            raise ForbiddenAPI(fn_name, called[0])

    def describe(self, module) -> list[tuple[str, str, dict]]:
        return describe_module(module)

    def stage(self, target, args: tuple = (), kwargs: dict | None = None) -> Staged:
        """``target`` is a function name or an object returned by a student class."""
        fn = self._get(target) if isinstance(target, str) else target
        name = target if isinstance(target, str) else type(target).__name__
        kwargs = kwargs or {}

        def run(timeout):
            try:
                with _alarm(timeout, name), torch.no_grad():
                    return checksum(fn(*args, **kwargs))
            except BaseException as exc:
                raise translate(name, exc, str(self.path)) from None
        return Staged(run)

    def close(self) -> None:
        pass
