"""The one exception type whose message is shown to students verbatim.

Hidden tests fail by raising :class:`Feedback` (through the comparators in
:mod:`shared.compare`).  The grader shows ``str(exc)`` and nothing else: never the
test's source, never hypothesis' falsifying example, never pytest's traceback.

Messages are in the run's language (:mod:`shared.i18n`): a message and its hint are
turned into text when the exception is made (a lazy hint constant is translated then).
"""
import re

from shared.i18n import _

_LINE = re.compile(r"line (\d+|\?) of your (\S+)")
_LINE_CODE = re.compile(r"\(line (\d+) of your ([^:]+): (.*)\)", re.S)


def location(where: str) -> str:
    """A place in the student's code ("line 12 of your a1_cnn.py", or "(line 12 of your
    a1_cnn.py: code)" from the worker), in the run's language; anything else as it is."""
    if m := _LINE_CODE.fullmatch(where):
        return _("(line {line} of your {file}: {code})").format(line=m[1], file=m[2], code=m[3])
    if m := _LINE.fullmatch(where):
        return _("line {line} of your {file}").format(line=m[1], file=m[2])
    return where


class Feedback(AssertionError):
    """A failed check, worded for the student (what differs, and a hint)."""

    def __init__(self, message: str, hint: str | None = None):
        self.message = str(message)
        self.hint = str(hint) if hint else None
        super().__init__(self.message + ("\n" + _("Hint: {hint}").format(hint=self.hint) if self.hint else ""))


def fail(message: str, hint: str | None = None):
    raise Feedback(message, hint)


class StudentCodeError(Feedback):
    """The student's code failed to run (raised, timed out, crashed, missing)."""


class MissingFunction(StudentCodeError):
    def __init__(self, name: str, module: str):
        super().__init__(_("{name} is not defined in your {module}.py.").format(name=name, module=module),
                         _("define {name} at the top level of {module}.py with the signature from the "
                           "handout").format(name=name, module=module))


class NotImplementedYet(StudentCodeError):
    def __init__(self, name: str, detail: str = ""):
        self.detail = detail
        if detail:
            text = _("{name} raised NotImplementedError ({detail}): it is still the stub.")
        else:
            text = _("{name} raised NotImplementedError: it is still the stub.")
        super().__init__(text.format(name=name, detail=detail),
                         _("implement {name} as described in the handout").format(name=name))


class StudentRaised(StudentCodeError):
    def __init__(self, name: str, exc_type: str, message: str, where: str = ""):
        self.exc_type = exc_type
        self.detail = message                 # the student's own exception message
        loc = f"\n{location(where)}" if where else ""
        super().__init__(_("{name} raised {exc_type}: {message}").format(name=name, exc_type=exc_type,
                                                                          message=message) + loc,
                         _("read the error and check the shapes and dtypes your code assumes"))


class StudentTimeout(StudentCodeError):
    def __init__(self, name: str, seconds: float):
        self.seconds = seconds
        super().__init__(_("timed out after {seconds:g} s in {name}; your code was stopped.").format(
                             seconds=seconds, name=name),
                         _("look for an infinite loop or Python loops over tensor elements"))


class StudentCrashed(StudentCodeError):
    def __init__(self, name: str, detail: str):
        super().__init__(_("your code crashed in {name}: {detail}.").format(name=name, detail=detail),
                         _("the process running your code died (exit, signal or memory limit)"))


class ForbiddenAPI(StudentCodeError):
    def __init__(self, name: str, api: str, where: str = ""):
        self.api = api
        if where:
            text = _("{name} uses {api} ({where}), which this exercise asks you to re-implement.")
        else:
            text = _("{name} uses {api}, which this exercise asks you to re-implement.")
        super().__init__(text.format(name=name, api=api, where=location(where)),
                         _("compute it yourself from basic tensor operations instead of calling {api}").format(
                             api=api))


class Tampering(StudentCodeError):
    def __init__(self, name: str, what: str, where: str = ""):
        if where:
            text = _("the check that {name} does not call torch's own implementation cannot be trusted: "
                     "your code {what} ({where}), which could tamper with the grader's checks.")
        else:
            text = _("the check that {name} does not call torch's own implementation cannot be trusted: "
                     "your code {what}, which could tamper with the grader's checks.")
        super().__init__(text.format(name=name, what=what, where=location(where)),
                         _("remove it: no assignment of this course needs it"))


class BadReturn(StudentCodeError):
    def __init__(self, name: str, detail: str):
        super().__init__(_("{name} returned a value the grader cannot read: {detail}.").format(name=name,
                                                                                                detail=detail),
                         _("return tensors, numpy arrays, numbers or tuples of them, as the handout says"))


class TimedOutEarlier(StudentCodeError):
    def __init__(self, name: str, seconds: float | None = None):
        if seconds:
            text = _("not run: timed out after {seconds:g} s in {name} earlier in this grading, so its later "
                     "calls are skipped.")
        else:
            text = _("not run: timed out in {name} earlier in this grading, so its later calls are skipped.")
        super().__init__(text.format(name=name, seconds=seconds or 0),
                         _("look for an infinite loop or Python loops over tensor elements"))


class BudgetSpent(StudentCodeError):
    def __init__(self, budget: float):
        super().__init__(_("not run: your code used up its grading time ({budget:g} s for the whole "
                           "submission).").format(budget=budget),
                         _("make your functions finish quickly: look for infinite loops and slow Python loops"))
