"""The jinja2 environment of the instructor's pages (templates are package data)."""
from __future__ import annotations

from functools import lru_cache


def _num(value) -> str:
    from autograder.instructor.batch import fmt_number
    try:
        return fmt_number(float(value))
    except (TypeError, ValueError):
        return "" if value is None else str(value)


@lru_cache(maxsize=None)
def environment():
    import jinja2
    env = jinja2.Environment(loader=jinja2.PackageLoader("autograder.instructor", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["num"] = _num
    return env
