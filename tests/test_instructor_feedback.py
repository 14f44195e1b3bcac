"""The per-student feedback page (autograder/instructor/feedback_page.py): only what the
student may see, checked in the file and in headless Chromium."""
from __future__ import annotations

import pytest

from autograder.instructor.feedback_page import page_context, write_feedback_page
from tests.test_instructor_common import make_results, make_test, needs_chromium, probe_page

SECRET = "SECRET-INPUT-7f3a"


@pytest.fixture
def results():
    tests = [
        make_test("1.1 conv_output_size with int arguments", "1.1.1", 2, 2),
        make_test("1.4 conv2d matches F.conv2d with dilation", "1.4.1", 0, 2, "failed",
                  output="your conv2d output has shape (2, 2, 6, 6); expected (2, 2, 3, 5).\n"
                         "Hint: dilation places the kernel taps d pixels apart <b>not</b> adjacent"),
        make_test("1.4 conv2d hidden edge case HIDDEN-NAME-1", "1.4.2", 0, 3, "failed", visibility="hidden",
                  output=f"differs at {SECRET}"),
        make_test("1.4 conv2d groups AFTERDUE-NAME-2", "1.4.3", 0, 2, "failed", visibility="after_due_date",
                  output="groups split the channels: AFTERDUE-OUTPUT"),
        make_test("1.5 separable params PUBLISHED-NAME-3", "1.5.1", 1, 1, visibility="after_published",
                  output="PUBLISHED-OUTPUT"),
        make_test("1.4 conv2d [cuda]", "1.4.4", 0, 0, "skipped", output="skipped: no CUDA device (not counted)"),
    ]
    res = make_results(tests, output="Score: 3 / 10. 2 of 5 graded tests passed.\n"
                                     "3 of these tests are hidden; your score already includes them.")
    return res


def test_only_visible_tests_before_the_due_date(results):
    ctx = page_context(results)
    assert [t["name"] for t in ctx["tests"]] == ["1.1 conv_output_size with int arguments",
                                                 "1.4 conv2d matches F.conv2d with dilation", "1.4 conv2d [cuda]"]
    assert ctx["hidden"] == 3 and ctx["score"] == 3.0


def test_after_the_due_date_tests_shown_later_appear_but_never_hidden_ones(results):
    ctx = page_context(results, after_due=True)
    names = [t["name"] for t in ctx["tests"]]
    assert "1.4 conv2d groups AFTERDUE-NAME-2" in names and "1.5 separable params PUBLISHED-NAME-3" in names
    assert not any("HIDDEN-NAME" in n for n in names) and ctx["hidden"] == 1


def test_results_not_yet_visible_show_nothing(results):
    results["visibility"] = "after_due_date"
    ctx = page_context(results)
    assert ctx["available"] is False and "tests" not in ctx and "score" not in ctx
    assert page_context(results, after_due=True)["available"] is True


def test_the_file_holds_nothing_hidden(tmp_path, results):
    path = write_feedback_page(results, tmp_path / "alice" / "feedback.html")
    text = path.read_text()
    assert "1.4 conv2d matches F.conv2d with dilation" in text and "expected (2, 2, 3, 5)" in text
    for hidden in ("HIDDEN-NAME-1", SECRET, "1.4.2", "AFTERDUE", "PUBLISHED"):
        assert hidden not in text
    assert "&lt;b&gt;not&lt;/b&gt;" in text                           # student text is escaped, never markup
    assert "<script" not in text and "http" not in text.replace("http://www.w3.org", "")


def test_korean_labels(tmp_path, results):
    text = write_feedback_page(results, tmp_path / "f.html", lang="ko").read_text()
    assert '<html lang="ko">' in text and "점수" in text and "통과" in text


@needs_chromium
def test_chromium_shows_visible_text_and_no_hidden_text(tmp_path, results):
    page = write_feedback_page(results, tmp_path / "alice" / "feedback.html")
    seen = probe_page(page, tmp_path)
    text = seen["text"]
    assert "Score: 3 / 10" in text
    assert "1.1 conv_output_size with int arguments" in text
    assert "expected (2, 2, 3, 5)" in text and "Hint: dilation places the kernel taps" in text
    assert "<b>not</b>" in text                                          # shown as text, not bold markup
    assert "3 more test(s) are not shown here" in text
    for hidden in ("HIDDEN-NAME-1", SECRET, "AFTERDUE", "PUBLISHED"):
        assert hidden not in text
    assert seen["scripts"] == 1                                         # only the probe: the page has none

    after = write_feedback_page(results, tmp_path / "bob" / "feedback.html", after_due=True)
    text = probe_page(after, tmp_path)["text"]
    assert "AFTERDUE-OUTPUT" in text and "PUBLISHED-OUTPUT" in text
    assert "HIDDEN-NAME-1" not in text and SECRET not in text


def test_a_visible_summary_quoting_a_hidden_test_is_redacted(tmp_path):
    hidden_output = ("your conv2d output has shape (2, 2, 6, 6); expected (2, 2, 3, 5).\n"
                     "Hint: dilation places the kernel taps d pixels apart")
    tests = [
        make_test("Task 1.4 conv2d: 10 of 27 points", "1.4", 0, 0, tags=("summary",),
                  output="9 of 15 tests failed. The first: 1.4 conv2d matches F.conv2d with dilation\n" + hidden_output,
                  extra={"kind": "summary", "task": "1.4"}),
        make_test("1.4 conv2d matches F.conv2d with dilation", "1.4.1", 0, 2, "failed", visibility="hidden",
                  output=hidden_output),
        make_test("1.1 conv_output_size [visible]", "1.1.1", 0, 2, "failed", output="Hint: dilation places the "
                  "kernel taps d pixels apart"),           # a shown test's own line is never removed
    ]
    page = write_feedback_page(make_results(tests), tmp_path / "f.html").read_text()
    assert "9 of 15 tests failed. The first: [a test not shown]" in page
    assert "[details of a test not shown]" in page
    assert "1.4 conv2d matches F.conv2d with dilation" not in page and "(2, 2, 3, 5)" not in page
    assert page.count("Hint: dilation places the kernel taps d pixels apart") == 2     # summary + visible test
    after = write_feedback_page(make_results([{**t, "visibility": "visible"} if t["number"] == "1.4.1" else t
                                              for t in tests]), tmp_path / "g.html").read_text()
    assert "The first: 1.4 conv2d matches F.conv2d with dilation" in after and "(2, 2, 3, 5)" in after
