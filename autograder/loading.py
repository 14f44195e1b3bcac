"""Loading one submission, in a process of its own (``python -m autograder.loading``, or a
child forked from the warm grader: autograder/warm.py).

The engine runs :func:`load_here` there, not in the batch's process: unpacking, converting
and parsing a hostile upload must not be able to exhaust the batch's memory or leave
CPython's parser in a bad state for the next student.  The result comes back as one JSON
line: ``{"load_error": str | null, "static": {...}}``.
"""
from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from autograder import registry
from autograder.static_check import analyze
from autograder.submission import LoadError, materialize
from shared.i18n import N_, gettext, translator

MEMORY_MB = 2048


def load_here(assignment: registry.Assignment, submission: Path, target_dir: Path,
              lang: str | None = None) -> tuple[str | None, dict]:
    """Materialize the submission; return (load problem or None, static findings), their
    text in ``lang`` (the batch's language; None: the process's)."""
    tr = gettext if lang is None else translator(lang)     # threads of a batch share the process's language
    try:
        module_path = materialize(submission, assignment.module, target_dir)
    except LoadError as exc:
        return exc.text(lang), {}
    except RecursionError:
        return tr(N_("the submission is nested too deeply to be read (an expression or structure thousands "
                     "deep)")), {}
    except MemoryError:
        return tr(N_("the submission is too large to be read")), {}
    except Exception as exc:  # noqa: BLE001  anything else about a hostile upload: the student's problem
        return tr(N_("the submission could not be read ({error})")).format(error=type(exc).__name__), {}
    try:
        return None, analyze(module_path.parent, assignment.module, assignment.tasks, lang=lang)
    except RecursionError:
        return tr(N_("the submission is nested too deeply to be analysed")), {}


def load_json(assignment_id: str, submission: str, target_dir: str, lang: str) -> str:
    """What the engine reads back: ``{"load_error": ..., "static": ...}`` as one JSON line."""
    problem, static = load_here(registry.get(assignment_id), Path(submission), Path(target_dir), lang or None)
    return json.dumps({"load_error": problem, "static": static})


def main(argv: list[str]) -> None:
    limit = MEMORY_MB << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    print(load_json(*argv))


if __name__ == "__main__":
    main(sys.argv[1:])
