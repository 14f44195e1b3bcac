"""The one exception type whose message is shown to students verbatim.

Hidden tests fail by raising :class:`Feedback` (through the comparators in
:mod:`shared.compare`).  The grader shows ``str(exc)`` and nothing else: never the
test's source, never hypothesis' falsifying example, never pytest's traceback.
"""


class Feedback(AssertionError):
    """A failed check, worded for the student (what differs, and a hint)."""

    def __init__(self, message: str, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message + (f"\nHint: {hint}" if hint else ""))


def fail(message: str, hint: str | None = None):
    raise Feedback(message, hint)


class StudentCodeError(Feedback):
    """The student's code failed to run (raised, timed out, crashed, missing)."""


class MissingFunction(StudentCodeError):
    def __init__(self, name: str, module: str):
        super().__init__(f"{name} is not defined in your {module}.py.",
                         f"define {name} at the top level of {module}.py with the signature from the handout")


class NotImplementedYet(StudentCodeError):
    def __init__(self, name: str, detail: str = ""):
        self.detail = detail
        extra = f" ({detail})" if detail else ""
        super().__init__(f"{name} raised NotImplementedError{extra}: it is still the stub.",
                         f"implement {name} as described in the handout")


class StudentRaised(StudentCodeError):
    def __init__(self, name: str, exc_type: str, message: str, where: str = ""):
        self.exc_type = exc_type
        self.detail = message                 # the student's own exception message
        loc = f"\n{where}" if where else ""
        super().__init__(f"{name} raised {exc_type}: {message}{loc}",
                         "read the error and check the shapes and dtypes your code assumes")


class StudentTimeout(StudentCodeError):
    def __init__(self, name: str, seconds: float):
        self.seconds = seconds
        super().__init__(f"timed out after {seconds:g} s in {name}; your code was stopped.",
                         "look for an infinite loop or Python loops over tensor elements")


class StudentCrashed(StudentCodeError):
    def __init__(self, name: str, detail: str):
        super().__init__(f"your code crashed in {name}: {detail}.",
                         "the process running your code died (exit, signal or memory limit)")


class ForbiddenAPI(StudentCodeError):
    def __init__(self, name: str, api: str, where: str = ""):
        self.api = api
        at = f" ({where})" if where else ""
        super().__init__(f"{name} uses {api}{at}, which this exercise asks you to re-implement.",
                         f"compute it yourself from basic tensor operations instead of calling {api}")


class Tampering(StudentCodeError):
    def __init__(self, name: str, what: str, where: str = ""):
        at = f" ({where})" if where else ""
        super().__init__(f"the check that {name} does not call torch's own implementation cannot be trusted: "
                         f"your code {what}{at}, which could tamper with the grader's checks.",
                         "remove it: no assignment of this course needs it")


class BadReturn(StudentCodeError):
    def __init__(self, name: str, detail: str):
        super().__init__(f"{name} returned a value the grader cannot read: {detail}.",
                         "return tensors, numpy arrays, numbers or tuples of them, as the handout says")


class TimedOutEarlier(StudentCodeError):
    def __init__(self, name: str, seconds: float | None = None):
        after = f" after {seconds:g} s" if seconds else ""
        super().__init__(f"not run: timed out{after} in {name} earlier in this grading, so its later calls are "
                         "skipped.",
                         "look for an infinite loop or Python loops over tensor elements")


class BudgetSpent(StudentCodeError):
    def __init__(self, budget: float):
        super().__init__(f"not run: your code used up its grading time ({budget:g} s for the whole submission).",
                         "make your functions finish quickly: look for infinite loops and slow Python loops")
