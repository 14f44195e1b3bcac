"""The ``perf`` fixture: speed checks of student code against the reference.

``perf.check("conv2d", x, w, padding=1)`` times the student against the reference on the
same inputs (see :mod:`shared.timing` for how the measurement resists gaming and load)
and fails when the ratio exceeds the assignment's threshold.  A passing check's report
is kept: the student sees the measured ratio, and it feeds Gradescope's leaderboard.

Where the timed function calls other graded functions of the submission (a task's
``calls``), both sides run with the reference's callees substituted (called back through
the grader, whose time neither worker is charged), so a bug or a slow loop in a callee is
charged to the callee's task only.
"""
from __future__ import annotations

import contextlib

from shared.feedback import Feedback
from shared.timing import check_speed


class PerfChecker:
    def __init__(self, session, assignment, student, item):
        self.session, self.assignment, self.student, self.item = session, assignment, student, item

    def _see(self) -> str | None:
        task = self.item.get_closest_marker("task")
        failed = self.session.first_failure(task.args[0] if task else None)
        return f'"{failed}"' if failed else None

    @contextlib.contextmanager
    def _callees_from_reference(self, name: str, reference):
        """A function with graded callees is timed with the reference's callees, called back
        through the grader, on BOTH sides: the CPU time of each worker is then its own
        function's code, and a slow or wrong callee is charged to the callee's task only."""
        task = self.assignment.task_of(name)
        if task is None or not task.calls:
            yield
            return
        module = self.session.reference_module()
        callees = {c: getattr(module, c) for c in task.calls}
        with self.student.substitute(callees), reference.substitute(callees):
            yield

    def _record(self, report) -> None:
        self.session.speed[self.item.nodeid] = {"function": report.name, "ratio": round(report.ratio, 4),
                                                "threshold": report.threshold, "summary": report.summary()}

    def check(self, name: str, *args, threshold: float | None = None, hint: str | None = None, rounds: int = 5,
              warmup: int = 1, vary: bool = True, **kwargs):
        reference = self.session.adapter("reference-runner")
        with self.session.fixed_threads(), self._callees_from_reference(name, reference):
            report = check_speed(name, self.student.timer(name, args, kwargs), reference.timer(name, args, kwargs),
                                 args, kwargs, threshold=threshold or self.assignment.perf.threshold, hint=hint,
                                 rounds=rounds, warmup=warmup, vary=vary, see=self._see())
        self._record(report)
        return report

    def check_forward(self, class_name: str, *inputs, init: dict | None = None, threshold: float | None = None,
                      hint: str | None = None, rounds: int = 5, warmup: int = 1):
        """Time ``ClassName(**init)(*inputs)`` of the student against the reference, both in
        eval mode and, where the layouts match, with the same weights."""
        reference = self.session.adapter("reference-runner")
        student_obj = self.student.call(class_name, **(init or {}))
        reference_obj = reference.call(class_name, **(init or {}))
        with contextlib.suppress(Feedback):
            student_obj.load_state_dict(reference_obj.state_dict())
        student_obj.eval()
        reference_obj.eval()
        with self.session.fixed_threads():
            report = check_speed(f"{class_name} forward", self.student.timer(student_obj, inputs),
                                 reference.timer(reference_obj, inputs), inputs, {},
                                 threshold=threshold or self.assignment.perf.threshold, hint=hint, rounds=rounds,
                                 warmup=warmup, see=self._see())
        self._record(report)
        return report
