"""The instructor's side of a graded batch: roster matching and LMS exports, the batch
report, per-student feedback pages, the late policy, the speed leaderboard and a
similarity check between submissions.

Everything reads what ``grade.py grade`` wrote (``OUT/<name>/results.json``,
``OUT/<name>/source.py``, ``OUT/gradebook.csv``) and tolerates results written before
the engine added per-test ``extra_data``.  Heavy imports (jinja2, matplotlib) happen
inside the functions that need them, so importing this package stays cheap.

Public entry points::

    from autograder.instructor import after_batch, leaderboard, write_feedback_page, apply_late_policy
"""
from __future__ import annotations

from autograder.instructor.late import apply_late_policy, from_gradescope_metadata
from autograder.instructor.leaderboard import leaderboard

__all__ = ["after_batch", "apply_late_policy", "from_gradescope_metadata", "leaderboard", "prefetch",
           "write_feedback_page"]


def after_batch(out_dir, assignment, roster=None):
    """What the engine calls at the end of ``grade``: feedback pages where missing, the
    roster attached when given, then ``OUT/report.html``.  Returns the report's path."""
    from autograder.instructor.report import after_batch as _after_batch
    return _after_batch(out_dir, assignment, roster=roster)


def prefetch() -> None:
    """Import what the report needs (matplotlib, jinja2 and the templates: about 0.3 s). ``grade``
    runs this in a background thread while the batch grades, so that its end does not wait
    for it; its process is otherwise idle, waiting on the lanes."""
    import matplotlib.figure  # noqa: F401
    from matplotlib.backends import backend_agg, backend_svg  # noqa: F401

    from autograder.instructor import report  # noqa: F401
    from autograder.instructor.templating import environment
    environment().get_template("report.html.j2")


def write_feedback_page(results, path, *, after_due=False, lang=None):
    """Write the self-contained HTML page of what one student may see (see feedback_page)."""
    from autograder.instructor.feedback_page import write_feedback_page as _write
    return _write(results, path, after_due=after_due, lang=lang)
