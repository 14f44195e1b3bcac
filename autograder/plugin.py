"""The pytest plugin: markers, the ``student`` / ``reference`` / ``perf`` fixtures,
and the translation of test outcomes into results.json (SPEC section 4).

Grading metadata lives on the tests as markers; this plugin only reads it:

    @pytest.mark.task("1.4")              # handout section; required on every hidden test
    @pytest.mark.points(2)                # per collected item (each parametrized case)
    @pytest.mark.visibility("hidden")     # hidden | after_due_date | after_published | visible
    @pytest.mark.tags("correctness")      # free-form labels, copied to results.json
    def test_conv2d_dilation(student, reference):
        '''conv2d matches F.conv2d (dilation)'''      # first docstring line = title
"""
from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder import ROOT, __version__, registry
from shared.adapter import InProcessStudent, load_module
from shared.feedback import Feedback, StudentCodeError
from shared.timing import check_speed

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
MARKERS = {
    "task": "task(number): the handout task a test grades; required on hidden tests",
    "points": "points(value): points for each collected item of this test",
    "visibility": "visibility(value): Gradescope visibility (hidden|after_due_date|after_published|visible)",
    "tags": "tags(*names): labels copied to results.json",
    "cuda": "runs on a CUDA device; skipped with 'no CUDA device' when there is none",
    "slow": "takes more than a few seconds; still part of the default run",
}


def pytest_addoption(parser):
    group = parser.getgroup("autograder")
    group.addoption("--ag-target", default="reference",
                    help="code the suites grade: 'reference', 'stub', or a path to a submission "
                         "(a .py file or a folder holding <module>.py)")
    group.addoption("--ag-isolation", default="inprocess", choices=("inprocess", "worker"),
                    help="run student calls in this process or in an isolated worker process")
    group.addoption("--ag-results", default=None, help="write results.json here")
    group.addoption("--ag-timeout", type=float, default=None, help="seconds per student call")
    group.addoption("--ag-device", default="auto", choices=("cpu", "cuda", "auto"))
    group.addoption("--ag-limits", default=None, help="JSON of worker limits (set by the engine)")
    group.addoption("--ag-broken", default=None,
                    help="the submission could not be loaded: every student call fails with this message")


def pytest_configure(config):
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config._autograder = Session(config)
    config.pluginmanager.register(config._autograder, "autograder-session")


def _in_suite(item) -> bool:
    suites = registry.SUITES_DIR.resolve()
    return suites in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(session, config, items):
    missing = [item.nodeid for item in items if _in_suite(item) and item.get_closest_marker("task") is None]
    if missing:
        raise pytest.UsageError("hidden tests without a task marker (every graded test needs "
                                "@pytest.mark.task):\n  " + "\n  ".join(missing))
    state: Session = config._autograder
    if state.device == "cpu":
        skip = pytest.mark.skip(reason="no CUDA device" if not state.cuda_available else "grading on CPU (--device cpu)")
        for item in items:
            if item.get_closest_marker("cuda"):
                item.add_marker(skip)


@dataclass
class Outcome:
    name: str
    number: str
    points: float
    visibility: str
    tags: list[str]
    assignment: str | None = None
    status: str = "passed"
    output: str = ""


@dataclass(eq=False)      # registered as a pytest plugin, so it must stay hashable
class Session:
    config: object
    outcomes: dict = field(default_factory=dict)
    adapters: dict = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self):
        import torch
        opt = self.config.getoption
        self.target = opt("--ag-target")
        self.isolation = opt("--ag-isolation")
        self.timeout = opt("--ag-timeout")
        self.cuda_available = torch.cuda.is_available()
        wanted = opt("--ag-device")
        self.device = ("cuda" if self.cuda_available else "cpu") if wanted == "auto" else wanted
        self.limits = json.loads(opt("--ag-limits")) if opt("--ag-limits") else {}
        self.limits["device"] = self.device          # resolved: "auto" never reaches a worker
        if self.isolation == "worker":
            self._prestart()

    def _prestart(self) -> None:
        """Spawn the student's and the reference's workers before collection, so that
        their start-up (importing torch, sandboxing) overlaps ours."""
        found = [registry.for_path(Path(arg.split("::")[0]).resolve()) for arg in self.config.args]
        ids = {a.id for a in found if a is not None}
        if len(ids) != 1:
            return
        assignment = registry.get(ids.pop())
        for which in ("student", "reference-runner"):
            adapter = self.adapter(assignment, which)
            if getattr(type(adapter), "prestart", None):   # adapters answer any name; ask the class
                adapter.prestart()
    # ---- targets -------------------------------------------------------------
    def target_path(self, assignment: registry.Assignment, target: str | None = None) -> Path:
        target = target or self.target
        if target == "reference":
            return assignment.solution_path
        if target == "stub":
            return assignment.stub_path
        path = Path(target)
        return path / f"{assignment.module}.py" if path.is_dir() else path

    def adapter(self, assignment: registry.Assignment, which: str):
        key = (assignment.id, which)
        broken = self.config.getoption("--ag-broken")
        if key not in self.adapters and broken and which == "student":
            self.adapters[key] = BrokenStudent(broken)
        if key not in self.adapters:
            path = self.target_path(assignment, "reference" if which == "reference-runner" else None)
            timeout = self.timeout or assignment.timeout
            if self.isolation == "worker":
                from autograder.worker import WorkerStudent
                self.adapters[key] = WorkerStudent(path, assignment, timeout=timeout, limits=self.limits,
                                                   trusted=(which == "reference-runner"))
            else:
                # the same fixed thread count as the workers, for every in-process call
                import torch
                torch.set_num_threads(assignment.threads)
                self.adapters[key] = InProcessStudent(path, assignment.module, timeout=timeout)
        return self.adapters[key]

    def close(self):
        for adapter in self.adapters.values():
            adapter.close()
        self.adapters.clear()

    # ---- outcomes ------------------------------------------------------------
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        record = self.outcomes.get(item.nodeid)
        if record is None:
            record = self.outcomes[item.nodeid] = _describe(item)
        if report.skipped and record.status != "failed":
            record.status = "skipped"
            record.output = _skip_reason(report)
        elif report.failed and record.status != "failed":
            record.status = "failed"
            record.output = feedback_text(call.excinfo.value if call.excinfo else None, report.when)

    def pytest_sessionfinish(self, session, exitstatus):
        try:
            path = self.config.getoption("--ag-results")
            if path:
                from autograder.results import write_json
                results = self.results()
                write_json(Path(path), results)
                # What the student's code printed: for the instructor, never in results.json.
                printed = "".join(a.captured_output() for (aid, which), a in self.adapters.items()
                                  if which == "student" and getattr(type(a), "captured_output", None))
                if printed:
                    (Path(path).parent / "student_output.txt").write_text(printed, encoding="utf-8")
        finally:
            self.close()

    def import_problem(self) -> str | None:
        for (aid, which), adapter in self.adapters.items():
            if which == "student":
                text = adapter.import_problem()
                if text:
                    return text
        return None

    def results(self) -> dict:
        from autograder.results import build_results
        assignment = next((o.assignment for o in self.outcomes.values() if o.assignment), None)
        return build_results(list(self.outcomes.values()), assignment=assignment,
                             execution_time=time.monotonic() - self.started, device=self.device,
                             isolation=self.isolation, import_problem=self.import_problem())


def _describe(item) -> Outcome:
    task = item.get_closest_marker("task")
    points = item.get_closest_marker("points")
    vis = item.get_closest_marker("visibility")
    tags = item.get_closest_marker("tags")
    assignment = registry.for_path(Path(str(item.path)))
    visibility = vis.args[0] if vis else "hidden"
    if visibility not in VISIBILITIES:
        raise pytest.UsageError(f"{item.nodeid}: visibility must be one of {VISIBILITIES}")
    doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines() if hasattr(item, "function") else []
    title = doc[0].strip() if doc else item.originalname if hasattr(item, "originalname") else item.name
    param = getattr(getattr(item, "callspec", None), "id", None)
    return Outcome(name=f"{title} [{param}]" if param else title,
                   number=str(task.args[0]) if task else "",
                   points=float(points.args[0]) if points else 0.0,
                   visibility=visibility, tags=list(tags.args) if tags else [],
                   assignment=assignment.id if assignment else None)


def _skip_reason(report) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return "skipped"


def _first_exception(exc):
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def feedback_text(exc, when: str = "call") -> str:
    """What the student sees for a failure: our curated message, never the test source,
    a traceback or hypothesis' falsifying example (which would print hidden inputs)."""
    exc = _first_exception(exc)
    if exc is None:
        return "failed"
    if isinstance(exc, Feedback):
        return str(exc)
    if when != "call":
        return f"the grader could not set up this test ({type(exc).__name__}); please tell the course staff."
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return (f"the test could not use your result: {type(exc).__name__}"
            + (f": {text}" if text else "")
            + "\nHint: check the return type and shapes against the handout (e.g. a tuple where one is expected).")


# ---- fixtures ------------------------------------------------------------------
def _assignment(request) -> registry.Assignment:
    assignment = registry.for_path(Path(str(request.path)))
    if assignment is None:
        pytest.fail(f"{request.path} is not inside an assignment's suite or handout folder")
    return assignment


@pytest.fixture(scope="module")
def assignment(request) -> registry.Assignment:
    return _assignment(request)


@pytest.fixture(scope="module")
def student(request, assignment):
    """The code under test, reached only through this adapter."""
    return request.config._autograder.adapter(assignment, "student")


@pytest.fixture(scope="module")
def reference(request, assignment):
    """The reference solution, imported into the trusted test process."""
    cache = request.config._autograder.adapters
    key = (assignment.id, "reference-module")
    if key not in cache:
        module = load_module(assignment.solution_path, f"_reference_{assignment.id}")
        cache[key] = _ModuleHolder(module)
    return cache[key].module


class BrokenStudent:
    """Stands in for a submission that could not be loaded."""

    kind = "broken"

    def __init__(self, problem: str):
        self.problem = problem

    def _fail(self, *_a, **_k):
        raise StudentCodeError(f"your submission could not be loaded: {self.problem}",
                               "fix the problem above and submit again")

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._fail

    def import_problem(self):
        return None

    def close(self):
        pass


class _ModuleHolder:
    def __init__(self, module):
        self.module = module

    def close(self):
        pass


class PerfChecker:
    """``perf.check("conv2d", x, w, padding=1)`` times student against reference on the
    same inputs and fails when the median ratio exceeds the threshold."""

    def __init__(self, session: Session, assignment: registry.Assignment, student):
        self.session, self.assignment, self.student = session, assignment, student

    def check(self, name: str, *args, threshold: float | None = None, hint: str | None = None,
              rounds: int = 5, warmup: int = 1, **kwargs):
        reference = self.session.adapter(self.assignment, "reference-runner")
        threshold = threshold or self.assignment.perf_threshold
        with self._threads():
            return check_speed(name, self.student.stage(name, args, kwargs), reference.stage(name, args, kwargs),
                               threshold=threshold, hint=hint, rounds=rounds, warmup=warmup)

    @contextlib.contextmanager
    def _threads(self):
        """In-process timing uses the assignment's fixed thread count, as the workers do."""
        import torch
        before = torch.get_num_threads()
        if self.session.isolation != "worker":
            torch.set_num_threads(self.assignment.threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)


    def check_forward(self, class_name: str, *inputs, init: dict | None = None, threshold: float | None = None,
                      hint: str | None = None, rounds: int = 5, warmup: int = 1):
        """Time ``ClassName(**init)(*inputs)`` of the student against the reference,
        both in eval mode and, where the layouts match, with the same weights."""
        reference = self.session.adapter(self.assignment, "reference-runner")
        init = init or {}
        student_obj = self.student.call(class_name, **init)
        reference_obj = reference.call(class_name, **init)
        with contextlib.suppress(Feedback):
            student_obj.load_state_dict(reference_obj.state_dict())
        student_obj.eval()
        reference_obj.eval()
        threshold = threshold or self.assignment.perf_threshold
        with self._threads():
            return check_speed(f"{class_name} forward", self.student.stage(student_obj, inputs),
                               reference.stage(reference_obj, inputs), threshold=threshold, hint=hint,
                               rounds=rounds, warmup=warmup)


@pytest.fixture(scope="module")
def perf(request, assignment, student):
    return PerfChecker(request.config._autograder, assignment, student)


@pytest.fixture(scope="session")
def grading_device(request) -> str:
    return request.config._autograder.device
