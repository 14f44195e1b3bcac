"""The pytest plugin: markers, the ``student`` / ``reference`` / ``perf`` fixtures, and the
outcomes that :mod:`autograder.results` turns into results.json (SPEC section 4).

Grading metadata lives on the tests as markers; this plugin only reads it:

    @pytest.mark.task("1.4")              # a task declared in assignment.toml; required
    @pytest.mark.points(2)                # per collected item (each parametrized case)
    @pytest.mark.tags("correctness")      # the kind: correctness | performance | forbidden-api
    def test_conv2d_dilation(student):
        '''1.4 conv2d matches F.conv2d (dilation)'''      # first docstring line = title

Everything about the run (assignment, target, isolation, device, limits, load error,
where results go) comes from the run spec the engine wrote (``--ag-run``); the plugin
never works it out from paths.  Visibility comes from the assignment's policy (a
``visibility`` marker overrides it).
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder import registry, results
from autograder.perf import PerfChecker
from autograder.runspec import RunSpec, make
from shared.adapter import Guard, InProcessStudent, StudentAdapter, load_module
from shared.feedback import Feedback, StudentCodeError
from shared.handout import MARKERS  # one marker table for the grader and the handout
from shared.i18n import _, set_language

KIND_ORDER = {"correctness": 0, "forbidden-api": 1, "performance": 2}


def pytest_addoption(parser):
    group = parser.getgroup("autograder")
    group.addoption("--ag-run", default=None, help="the run spec (JSON) written by the engine")
    group.addoption("--ag-target", default=None,
                    help="developer shortcut, in-process: grade 'reference', 'stub' or a .py file with the suite")


def pytest_configure(config):
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config._autograder = Session(config)
    config.pluginmanager.register(config._autograder, "autograder-session")


def kind_of(item) -> str:
    tags = item.get_closest_marker("tags")
    labels = set(tags.args) if tags else set()
    for kind in ("performance", "forbidden-api"):
        if kind in labels:
            return kind
    return "correctness"


def _in_suite(item) -> bool:
    return registry.SUITES_DIR.resolve() in Path(str(item.path)).resolve().parents


@dataclass
class Outcome:
    id: str
    name: str
    task: str
    points: float
    visibility: str
    kind: str
    tags: list
    status: str = "passed"
    output: str = ""
    speed: dict | None = None


class BrokenStudent(StudentAdapter):
    """Stands in for a submission that could not be loaded."""

    kind = "broken"

    def __init__(self, problem: str):
        super().__init__("submission", timeout=None)
        self.problem = problem

    def call(self, name, *args, **kwargs):
        raise StudentCodeError(_("your submission could not be loaded: {problem}").format(problem=self.problem),
                               _("fix the problem above and submit again"))

    def has(self, name):
        return False

    def timer(self, target, args=(), kwargs=None):
        self.call(str(target))

    def import_problem(self):
        return None


class Session:
    def __init__(self, config):
        self.config = config
        self.outcomes: dict[str, Outcome] = {}
        self.adapters: dict[str, object] = {}
        self.speed: dict[str, dict] = {}
        self.started = time.monotonic()
        self._spec: RunSpec | None = None
        path = config.getoption("--ag-run")
        if path:
            self._spec = RunSpec.read(Path(path))
            set_language(self._spec.lang)            # student feedback in the run's language (before any test)
            self.guard = Guard(self._spec.budget)
            if self._spec.isolation == "worker" and not self._spec.load_error:
                self.adapter("student").prestart()

    # ---- the run ---------------------------------------------------------------------
    def spec_for(self, item) -> RunSpec:
        """The engine's spec; for a developer's run by hand, one for the suite's assignment."""
        if self._spec is None:
            assignment = registry.for_path(Path(str(item.path)))
            if assignment is None:
                raise pytest.UsageError(f"{item.nodeid}: not in an assignment's suite or handout; "
                                        "run it through grade.py")
            self._spec = make(assignment, self.config.getoption("--ag-target") or "reference")
            set_language(self._spec.lang)
            self.guard = Guard(self._spec.budget)
        return self._spec

    @property
    def spec(self) -> RunSpec:
        if self._spec is None:
            raise RuntimeError("no run spec yet")
        return self._spec

    @property
    def assignment(self) -> registry.Assignment:
        return self.spec.registry_entry

    def target_path(self, target: str) -> Path:
        a = self.assignment
        if target == "reference":
            return a.solution_path
        if target == "stub":
            return a.stub_path
        path = Path(target)
        return path / f"{a.module}.py" if path.is_dir() else path

    def adapter(self, which: str):
        if which in self.adapters:
            return self.adapters[which]
        spec, a = self.spec, self.assignment
        if which == "student" and spec.load_error:
            self.adapters[which] = BrokenStudent(spec.load_error)
            return self.adapters[which]
        student = which == "student"
        path = self.target_path(spec.target if student else "reference")
        tasks = {t.function: {"forbidden": t.forbidden, "forbidden_ops": t.forbidden_ops} for t in a.tasks}
        common = dict(timeout=spec.timeout, tasks=tasks, static=spec.static if student else {},
                      guard=self.guard if student else Guard())
        if spec.isolation == "worker":
            from autograder.isolation.student import WorkerStudent
            limits = {**spec.limits, "device": spec.device, "cpu": spec.cpu, "run_id": spec.run_id}
            self.adapters[which] = WorkerStudent(path, module=a.module, functions=a.functions, classes=a.classes,
                                                 limits=limits, trusted=not student, **common)
        else:
            if not spec.static and student and spec.target not in ("reference", "stub"):
                from autograder.static_check import analyze
                common["static"] = analyze(path.parent, a.module, a.tasks)
            self.adapters[which] = InProcessStudent(path, a.module, **common)
        return self.adapters[which]

    def reference_module(self):
        if "reference-module" not in self.adapters:
            self.adapters["reference-module"] = load_module(self.assignment.solution_path,
                                                            f"_reference_{self.assignment.id}")
        return self.adapters["reference-module"]

    @contextlib.contextmanager
    def fixed_threads(self):
        """In-process calls use the assignment's fixed thread count, as the workers do."""
        import torch
        before = torch.get_num_threads()
        if self.spec.isolation != "worker":
            torch.set_num_threads(self.assignment.threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def first_failure(self, task: str | None) -> str | None:
        for o in self.outcomes.values():
            if o.task == task and o.status == "failed" and o.kind == "correctness":
                return o.name
        return None

    def close(self):
        for key, adapter in self.adapters.items():
            if key != "reference-module":
                with contextlib.suppress(Exception):
                    adapter.close()
        self.adapters.clear()

    # ---- collection --------------------------------------------------------------------
    def pytest_collection_modifyitems(self, session, config, items):
        missing = [item.nodeid for item in items if _in_suite(item) and item.get_closest_marker("task") is None]
        if missing:
            raise pytest.UsageError("hidden tests without a task marker (every graded test needs "
                                    "@pytest.mark.task):\n  " + "\n  ".join(missing))
        graded = [item for item in items if self._spec is not None or registry.for_path(Path(str(item.path)))]
        if not graded:
            return                       # the framework's own tests: nothing to grade
        spec = self.spec_for(graded[0])
        declared = {t.number for t in self.assignment.tasks}
        unknown = sorted({item.get_closest_marker("task").args[0] for item in items
                          if item.get_closest_marker("task")} - declared)
        if unknown:
            raise pytest.UsageError(f"task markers {unknown} name no task of {spec.assignment} (assignment.toml)")
        if spec.device == "cpu":
            import torch
            reason = "no CUDA device" if not torch.cuda.is_available() else "grading on CPU (--device cpu)"
            for item in items:
                if item.get_closest_marker("cuda"):
                    item.add_marker(pytest.mark.skip(reason=reason))
        # correctness first, so that a later check can point at the test that shows a bug
        items.sort(key=lambda item: KIND_ORDER[kind_of(item)])
        if self._spec is not None and spec.isolation == "worker" and not spec.load_error and \
                any("perf" in getattr(item, "fixturenames", ()) for item in items):
            # the speed checks come last: their reference worker starts now, beside the
            # correctness tests, instead of when the first check needs it (a start that fails
            # here is tried again, and reported, by the first speed check)
            with contextlib.suppress(Exception):
                self.adapter("reference-runner").prestart()

    # ---- outcomes ------------------------------------------------------------------------
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        if self._spec is None:
            return                       # not a graded run
        report = outcome.get_result()
        record = self.outcomes.get(item.nodeid)
        if record is None:
            record = self.outcomes[item.nodeid] = self._describe(item)
        if report.skipped and record.status != "failed":
            record.status = "skipped"
            record.output = _skip_reason(report)
        elif report.failed and record.status != "failed":
            record.status = "failed"
            record.output = results.feedback_text(call.excinfo.value if call.excinfo else None, report.when)
        elif report.when == "call" and report.passed and item.nodeid in self.speed:
            record.speed = self.speed[item.nodeid]
            record.output = record.speed["summary"]

    def _describe(self, item) -> Outcome:
        task = item.get_closest_marker("task")
        points = item.get_closest_marker("points")
        vis = item.get_closest_marker("visibility")
        tags = item.get_closest_marker("tags")
        kind = kind_of(item)
        policy = self.assignment.visibility
        visibility = vis.args[0] if vis else (policy.performance if kind == "performance" else policy.correctness)
        if visibility not in results.VISIBILITIES:
            raise pytest.UsageError(f"{item.nodeid}: visibility must be one of {results.VISIBILITIES}")
        fn = getattr(item, "function", None)
        doc = (fn.__doc__ or "").strip().splitlines() if fn is not None else []
        base = getattr(item, "originalname", item.name)
        title = doc[0].strip() if doc else base
        param = getattr(getattr(item, "callspec", None), "id", None)
        number = str(task.args[0]) if task else ""
        stable = f"{number}/{base.removeprefix('test_')}" + (f"[{param}]" if param else "")
        return Outcome(id=stable, name=f"{title} [{param}]" if param else title, task=number,
                       points=float(points.args[0]) if points else 0.0, visibility=visibility, kind=kind,
                       tags=list(tags.args) if tags else [])

    def pytest_sessionfinish(self, session, exitstatus):
        try:
            if self._spec is not None and self._spec.results:
                self.write_results(Path(self._spec.results))
        finally:
            self.close()

    def write_results(self, path: Path) -> None:
        student = self.adapters.get("student")
        problem = None
        if student is not None and not isinstance(student, BrokenStudent):
            problem = student.import_problem()
        data = results.build(list(self.outcomes.values()), assignment=self.assignment, spec=self.spec,
                             execution_time=time.monotonic() - self.started, import_problem=problem,
                             budget_spent=self.guard.spent if hasattr(self, "guard") else 0.0)
        results.write_json(path, data)
        printed = student.captured_output() if student is not None else ""
        if printed:
            (path.parent / "student_output.txt").write_text(printed, encoding="utf-8")


def _skip_reason(report) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return "skipped"


# ---- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def assignment(request) -> registry.Assignment:
    return request.config._autograder.assignment


@pytest.fixture(scope="module")
def student(request):
    """The code under test, reached only through this adapter."""
    return request.config._autograder.adapter("student")


@pytest.fixture(scope="module")
def reference(request):
    """The reference solution, imported into the trusted test process."""
    return request.config._autograder.reference_module()


@pytest.fixture
def perf(request, assignment, student):
    return PerfChecker(request.config._autograder, assignment, student, request.node)


@pytest.fixture(autouse=True)
def _callees_from_reference(request):
    """Tests of a task whose function calls other graded functions run with the reference
    substituted for those (through the grader, never in the worker): a bug is charged once."""
    session = request.config._autograder
    task = request.node.get_closest_marker("task")
    entry = session.assignment.task(task.args[0]) if task and session._spec else None
    if entry is None or not entry.calls or "student" not in request.fixturenames or \
            kind_of(request.node) == "performance":
        yield
        return
    module = session.reference_module()
    with session.adapter("student").substitute({c: getattr(module, c) for c in entry.calls}):
        yield


@pytest.fixture(scope="session")
def grading_device(request) -> str:
    return request.config._autograder.spec.device


__all__ = ["Feedback", "Outcome", "Session", "BrokenStudent", "kind_of"]
