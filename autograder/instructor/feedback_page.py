"""One student's feedback page: a self-contained HTML file of what that student may see.

Shown: the overall output (score line, load problem, late penalty) and the tests whose
visibility is ``visible``; with ``after_due=True`` also ``after_due_date`` and
``after_published`` ones.  Nothing else: a hidden test contributes only to the count of
tests not shown, never its name, number, output or points, even where a visible entry (a
per-task summary) quotes it: such quotes are replaced by a placeholder.  (A summary's quote of
a test shown after the due date is what Gradescope shows too, and stays.)  When the results as a whole are
not yet visible (top-level ``visibility``), the page says so and shows nothing more.
No scripts, no external files: the page can be mailed or uploaded anywhere.
"""
from __future__ import annotations

from pathlib import Path

from autograder import PACKAGE_DIR
from shared.i18n import LANGUAGES, N_, add_domain, translator

add_domain("autograder", PACKAGE_DIR / "locale")          # idempotent (autograder.results does it too)

SHOWN_AFTER_DUE = ("after_due_date", "after_published")

# the page's words (autograder catalogue), looked up in the page's language (not the process's:
# one batch may write pages for courses in several languages)
LABELS = {
    "title": N_("Feedback"), "score": N_("Score"), "tests": N_("Tests"), "test": N_("Test"), "status": N_("Status"),
    "points": N_("Points"), "feedback": N_("Feedback"), "passed": N_("passed"), "failed": N_("failed"),
    "skipped": N_("skipped (not counted)"), "summary": N_("Summary"),
    "not_shown": N_("{n} more test(s) are not shown here (hidden, or shown only after the due date); "
                    "your score includes them."),
    "unavailable": N_("Your results are not available yet: they are shown after the due date."),
    "none_visible": N_("No test results are shown for this assignment yet."),
    "hidden_name": N_("[a test not shown]"), "hidden_detail": N_("[details of a test not shown]"),
}


def labels(lang: str) -> dict[str, str]:
    """The page's words in ``lang`` ("not_shown" keeps its ``{n}`` for the template)."""
    tr = translator(lang)
    return {key: tr(text) for key, text in LABELS.items()}


def may_see(visibility: str | None, after_due: bool) -> bool:
    visibility = visibility or "visible"
    return visibility == "visible" or (after_due and visibility in SHOWN_AFTER_DUE)


def _lang_of(results: dict, lang: str | None) -> str:
    if lang in LANGUAGES:
        return lang
    assignment = (results.get("extra_data") or {}).get("assignment")
    if assignment:
        from autograder import registry
        try:
            return registry.get(assignment).lang
        except registry.UnknownAssignment:
            pass
    return "en"


def page_context(results: dict, *, after_due: bool = False, lang: str | None = None) -> dict:
    """What the template gets: only what the student may see."""
    lang = _lang_of(results, lang)
    extra = results.get("extra_data") or {}
    assignment = extra.get("assignment") or ""
    title = assignment
    if assignment:
        from autograder import registry
        try:
            title = f"{assignment}: {registry.get(assignment).title}"
        except registry.UnknownAssignment:
            pass
    if not may_see(results.get("visibility"), after_due):
        return {"lang": lang, "t": labels(lang), "title": title, "available": False}
    shown, not_shown = [], []
    for test in results.get("tests", []):
        (shown if may_see(test.get("visibility"), after_due) else not_shown).append(test)
    # a visible task summary may quote a test shown only after the due date (its curated
    # message, as Gradescope shows it); a test that is never shown is never quoted
    words = labels(lang)
    redact = _redactor(shown, [t for t in not_shown if t.get("visibility") == "hidden"], words)
    tests = [{"number": str(test.get("number", "")), "name": redact(str(test.get("name", ""))),
              "status": str(test.get("status", "")), "score": test.get("score", 0),
              "max_score": test.get("max_score", 0), "output": redact(str(test.get("output") or ""))}
             for test in shown]
    return {"lang": lang, "t": words, "title": title, "available": True,
            "score": results.get("score"), "max_score": results.get("max_score"),
            "output": redact(str(results.get("output") or "")), "tests": tests, "hidden": len(not_shown)}


def _redactor(shown: list[dict], not_shown: list[dict], labels: dict):
    """Text of a test the student may not see must not reach them through another entry (a
    visible per-task summary quoting "the first failed test"): its name and the lines of its
    output are replaced, except lines that a shown test has in its own output (a common hint)."""
    from autograder.instructor.batch import kind_of
    names = sorted({str(t.get("name") or "") for t in not_shown if len(str(t.get("name") or "")) >= 8},
                   key=len, reverse=True)
    lines = {line.strip() for t in not_shown for line in str(t.get("output") or "").splitlines()
             if len(line.strip()) >= 20}
    lines -= {line.strip() for t in shown if kind_of(t) != "summary"
              for line in str(t.get("output") or "").splitlines()}
    if not names and not lines:
        return lambda text: text
    name_mark, detail_mark = labels["hidden_name"], labels["hidden_detail"]

    def redact(text: str) -> str:
        out: list[str] = []
        for line in text.split("\n"):
            if line.strip() in lines:
                if not out or out[-1] != detail_mark:
                    out.append(detail_mark)
                continue
            for name in names:
                line = line.replace(name, name_mark)
            out.append(line)
        return "\n".join(out)
    return redact


def render_feedback_page(results: dict, *, after_due: bool = False, lang: str | None = None) -> str:
    from autograder.instructor.templating import environment
    return environment().get_template("feedback.html.j2").render(**page_context(results, after_due=after_due,
                                                                                lang=lang))


def write_feedback_page(results: dict, path, *, after_due: bool = False, lang: str | None = None) -> Path:
    """Write the page to ``path`` (usually OUT/<name>/feedback.html); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_feedback_page(results, after_due=after_due, lang=lang), encoding="utf-8")
    tmp.replace(path)
    return path
