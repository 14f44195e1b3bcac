"""The seam between tests and student code.

Tests never import student code.  They call it through a ``student`` fixture whose
attributes are the student's functions (``student.conv2d(x, w)``), and reach the
reference through ``reference``.  Two adapters implement the same interface:

* :class:`InProcessStudent` (here) imports the module into the test process: what a
  student's local ``check`` uses and what plain ``pytest`` on a suite uses.
* ``autograder.isolation.student.WorkerStudent`` runs every call in an isolated worker
  process: what ``grade.py grade`` uses.

Interface used by suites (both adapters):
  ``student.<name>(*args, **kw)``        call a function, or construct a class
  ``student.has(name)``                  is it defined?
  ``student.forbid(fn, *apis)``          context manager: fails the test when a forbidden API
                                         was reached inside (op-level trace + static check)
  ``student.global_seed(seed)``          context manager: global RNGs reseeded with ``seed``
                                         (instead of 0) before each call inside
  ``student.substitute({name: fn})``     context manager: the module's ``name`` is ``fn``
                                         (a trusted callable) for the calls inside
and, for the speed checks (``autograder/perf.py``), ``timer(target, args, kwargs)``.

Both adapters share a :class:`Guard`: a function that timed out once fails at once
afterwards, and a submission that used up its budget of seconds fails every later call.
"""
from __future__ import annotations

import contextlib
import importlib.util
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

from shared import protocol
from shared.feedback import (BudgetSpent, ForbiddenAPI, MissingFunction, StudentCodeError, StudentRaised,
                             StudentTimeout, Tampering, TimedOutEarlier)
from shared.fingerprint import checksum
from shared.optrace import OpTrace, warm_up
from shared.seeding import seed_everything


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


def translate(name: str, exc: BaseException, filename: str | None, module: str = "your module") -> StudentCodeError:
    """The student-facing exception for anything student code raised (in-process)."""
    if isinstance(exc, StudentCodeError):
        return exc
    return protocol.to_feedback(name, protocol.describe_error(exc, filename), module)


class Guard:
    """Per-submission limits shared by both adapters."""

    def __init__(self, budget: float | None = None):
        self.budget = budget
        self.spent = 0.0
        self.timed_out: dict[str, float] = {}

    def check(self, name: str) -> None:
        if name in self.timed_out:
            raise TimedOutEarlier(name, self.timed_out[name])
        if self.budget and self.spent >= self.budget:
            raise BudgetSpent(self.budget)

    @contextlib.contextmanager
    def running(self, name: str):
        self.check(name)
        started = time.monotonic()
        try:
            yield
        except StudentTimeout as exc:
            self.timed_out[name] = exc.seconds
            raise
        finally:
            self.spent += time.monotonic() - started


class Forbidding:
    """State of one ``forbid`` block: the trace spec the calls inside carry, what was seen."""

    def __init__(self, fn_name: str, apis, ops, static_findings):
        self.fn_name, self.apis, self.ops = fn_name, tuple(apis), tuple(ops)
        self.hits: set[str] = set()
        self.static = list(static_findings)

    def verdict(self) -> None:
        for finding in self.static:
            if "what" in finding:
                raise Tampering(self.fn_name, str(finding["what"]), str(finding.get("where", "")))
        for finding in self.static:
            raise ForbiddenAPI(self.fn_name, str(finding.get("api")), str(finding.get("where", "")))
        if self.hits:
            raise ForbiddenAPI(self.fn_name, sorted(self.hits)[0])


class StudentAdapter:
    """What both adapters share: the guard, forbid / global_seed / substitute state."""

    def __init__(self, module_name: str, *, timeout: float | None, guard: Guard | None = None,
                 tasks: dict | None = None, static: dict | None = None):
        self.module_name = module_name
        self.timeout = timeout
        self.guard = guard or Guard()
        self.tasks = tasks or {}            # function -> {"forbidden": [...], "forbidden_ops": [...]}
        self.static = static or {}          # function -> [static findings], "*" -> findings for all
        self._forbidding: Forbidding | None = None
        self._seed = 0
        self._patches: dict = {}

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    @contextlib.contextmanager
    def forbid(self, fn_name: str, *apis: str):
        """Inside the block the calls are traced; leaving it fails the test when a forbidden
        API of ``fn_name`` was reached (or the static check found one), even if the
        student's code caught the error."""
        declared = self.tasks.get(fn_name, {})
        apis = tuple(dict.fromkeys((*apis, *declared.get("forbidden", ()))))
        findings = [*self.static.get(fn_name, ()), *self.static.get("*", ())]
        state = Forbidding(fn_name, apis, declared.get("forbidden_ops", ()), findings)
        previous, self._forbidding = self._forbidding, state
        try:
            yield state
        finally:
            self._forbidding = previous
        state.verdict()

    @contextlib.contextmanager
    def global_seed(self, seed: int):
        previous, self._seed = self._seed, int(seed)
        try:
            yield
        finally:
            self._seed = previous

    @contextlib.contextmanager
    def substitute(self, functions: dict):
        previous, self._patches = self._patches, {**self._patches, **functions}
        try:
            yield
        finally:
            self._patches = previous

    def captured_output(self) -> str:
        return ""

    def close(self) -> None:
        pass


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


class InProcessTimer:
    """One side of a speed check, in-process: thread CPU time of each call."""

    def __init__(self, adapter: "InProcessStudent", target, args, kwargs):
        self.adapter, self.target, self.args, self.kwargs = adapter, target, args, kwargs

    def run(self, args, kwargs, timeout: float | None):
        adapter = self.adapter
        fn = adapter._get(self.target) if isinstance(self.target, str) else self.target
        name = self.target if isinstance(self.target, str) else type(self.target).__name__
        saved = {n: getattr(adapter.module, n, None) for n in adapter._patches}
        with adapter.guard.running(name):
            seed_everything(adapter._seed)
            try:
                for n, value in adapter._patches.items():
                    setattr(adapter.module, n, value)
                started = time.thread_time()
                with _alarm(timeout, name):
                    result = fn(*args, **kwargs)
                return time.thread_time() - started, checksum(result)
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                raise translate(name, exc, str(adapter.path), adapter.module_name) from None
            finally:
                for n, value in saved.items():
                    setattr(adapter.module, n, value)

    def frozen(self):
        return contextlib.nullcontext()

    def close(self) -> None:
        pass


class InProcessStudent(StudentAdapter):
    """Calls the module's functions directly, translating failures into feedback."""

    kind = "in-process"

    def __init__(self, path: Path, module_name: str, timeout: float | None = None, **kwargs):
        super().__init__(module_name, timeout=timeout, **kwargs)
        self.path = Path(path)
        self._module = None
        self._import_error: StudentCodeError | None = None

    @property
    def module(self):
        if self._module is None and self._import_error is None:
            try:
                with _alarm(self.timeout, f"importing {self.module_name}.py"):
                    self._module = load_module(self.path)
            except BaseException as exc:   # SystemExit at import counts as a broken module
                if isinstance(exc, KeyboardInterrupt):
                    raise
                self._import_error = translate(f"importing {self.module_name}.py", exc, str(self.path),
                                               self.module_name)
        if self._import_error is not None:
            raise self._import_error
        return self._module

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

    @contextlib.contextmanager
    def forbid(self, fn_name: str, *apis: str):
        warm_up()                        # in this process: the trace's one-time set-up before any timer
        with super().forbid(fn_name, *apis) as state:
            yield state

    def call(self, name: str, *args, **kwargs):
        fn = self._get(name)
        saved = {n: getattr(self.module, n, None) for n in self._patches}
        trace = (OpTrace(self._forbidding.apis, self._forbidding.ops) if self._forbidding is not None
                 else contextlib.nullcontext())
        with self.guard.running(name):
            try:
                for n, value in self._patches.items():
                    setattr(self.module, n, value)
                seed_everything(self._seed)
                with _alarm(self.timeout, name), trace:
                    return fn(*args, **kwargs)
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                raise translate(name, exc, str(self.path), self.module_name) from None
            finally:
                for n, value in saved.items():
                    setattr(self.module, n, value)
                if self._forbidding is not None and isinstance(trace, OpTrace):
                    self._forbidding.hits |= trace.hits

    def timer(self, target, args: tuple = (), kwargs: dict | None = None) -> InProcessTimer:
        return InProcessTimer(self, target, args, kwargs or {})


__all__ = ["load_module", "translate", "Guard", "StudentAdapter", "InProcessStudent", "StudentRaised"]
