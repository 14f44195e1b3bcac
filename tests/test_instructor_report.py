"""The batch report (autograder/instructor/report.py, `grade.py report`), opened in headless
Chromium; after_batch; and the speed leaderboard (autograder/instructor/leaderboard.py)."""
from __future__ import annotations

import random
import re

import pytest
from click.testing import CliRunner

from autograder import ROOT
from autograder.cli import main
from autograder.instructor import after_batch, leaderboard
from autograder.instructor.late import apply_late_policy
from autograder.registry import LatePolicy
from tests.test_instructor_common import (a1_results, make_results, make_test, needs_chromium, probe_page,
                                          run_chromium, write_batch)

REFERENCE = (ROOT / "solutions" / "a1_cnn" / "a1_cnn.py").read_text()
INDEPENDENT = (ROOT / "examples" / "submissions" / "a1_cnn" / "correct.py").read_text()


def renamed_copy(source: str) -> str:
    """A plagiarised copy: local names renamed, comments dropped, functions reordered."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("similarity_speed", ROOT / "benchmarks" / "similarity_speed.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.vary(source, random.Random(7))


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    dan = a1_results({"1.4-speed": False, "1.3": False}, ratio=6.0, execution_time=30.5)
    dan = apply_late_policy(dan, LatePolicy(percent_per_day=10), "2025-04-03T00:00:00Z", "2025-04-01T00:00:00Z")
    results = {
        "alice": a1_results({}, ratio=1.1, execution_time=4.0),
        "bob": a1_results({"1.2": False}, ratio=2.5, execution_time=6.0),
        "carol": a1_results({"1.1": False, "1.2": False, "1.3": False, "1.4": False, "1.5": False,
                             "1.4-speed": False}, load_error="syntax error in a1_cnn.py at line 3: def f(:"),
        "dan": dan,
        "erin": a1_results({"1.5": False}, ratio=0.9, execution_time=5.0),
    }
    sources = {"alice": REFERENCE, "bob": renamed_copy(REFERENCE), "dan": INDEPENDENT,
               "erin": (ROOT / "examples" / "submissions" / "a1_cnn" / "slow_loops.py").read_text()}
    out = write_batch(tmp / "out", results, sources, grader_errors=["crashed"])
    (out / "bob" / "feedback.html").write_text("<p>kept</p>")            # after_batch keeps existing pages
    after_batch(out, "a1_cnn")
    return out


def test_after_batch_writes_feedback_pages_where_missing(out):
    assert {p.parent.name for p in out.glob("*/feedback.html")} == {"alice", "bob", "carol", "dan", "erin"}
    assert (out / "bob" / "feedback.html").read_text() == "<p>kept</p>"
    assert "Score: 22 / 22" in (out / "alice" / "feedback.html").read_text()
    with pytest.raises(ValueError, match="not a2_lstm"):
        after_batch(out, "a2_lstm")


def test_report_is_self_contained(out):
    text = (out / "report.html").read_text()
    assert text.count("<svg") == 4
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"url\((?!#)", text)                   # only the SVGs' own clip paths: url(#id)
    assert not re.search(r'\b(?:src|href)="(?:https?:)?//', text)
    hrefs = [h for h in re.findall(r'href="([^"]*)"', text) if not h.startswith("#")]    # "#id": inside an SVG
    assert sorted(hrefs) == sorted(f"{n}/feedback.html" for n in ("alice", "bob", "carol", "dan", "erin"))
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text


def test_report_sections_hold_the_batch(out):
    text = (out / "report.html").read_text()
    assert "syntax error in a1_cnn.py at line 3: def f(:" in text              # why carol could not load
    assert "the grader failed on this submission" in text                      # crashed
    slowest = text[text.index('id="slowest-table"'):]
    assert slowest.index("dan") < slowest.index("erin") < slowest.index("alice")
    board = text[text.index('id="leaderboard"'):]
    assert board.index("erin") < board.index("alice") < board.index("bob") < board.index("dan")   # 0.9 1.1 2.5 6
    late = text[text.index('id="late-table"'):]
    assert "dan" in late and "20%" in late
    sim = text[text.index('id="similarity-table"'):]
    assert sim.split("</tr>")[1].count("alice") == 1 and "bob" in sim.split("</tr>")[1]   # top pair: the copy


def test_leaderboard_from_speed_entries():
    res = make_results([
        make_test("conv2d speed [cpu]", "1.4.1", 3, 3, extra={"speed": {"function": "conv2d", "ratio": 1.234567,
                                                                        "threshold": 4.0}}),
        make_test("conv2d speed [cuda]", "1.4.2", 0, 3, "failed", extra={"speed": {"function": "conv2d",
                                                                                  "ratio": 5.5}}),
        make_test("lstm speed [cuda]", "2.1.1", 0, 0, "skipped", extra={"speed": {"function": "lstm", "ratio": 9}}),
        make_test("bn speed", "1.6.1", 0, 3, "failed", extra={"speed": {"function": "batch_norm2d", "ratio": None}}),
        make_test("receptive field", "1.3.1", 2, 2),
        make_test("attn speed", "3.1.1", 2, 2, extra={"speed": {"function": "attention", "ratio": 0.5}}),
    ])
    assert leaderboard(res) == [{"name": "attention", "value": 0.5, "order": "asc"},
                                {"name": "conv2d", "value": 5.5, "order": "asc"}]
    assert leaderboard(make_results([make_test("x", "1.1", 1, 1)])) == []


@needs_chromium
def test_chromium_renders_the_plots_and_the_table(out, tmp_path):
    seen = probe_page(out / "report.html", tmp_path)
    plots = {p["id"]: p for p in seen["plots"]}
    assert set(plots) == {"plot-scores", "plot-tasks", "plot-tests", "plot-speed"}
    for p in plots.values():
        width, height = p["size"]
        assert width > 300 and height > 100, p
        assert p["shapes"] > 10 and p["blue"] > 0, p                  # bars / points drawn in the plot colour
    assert "Score distribution" in plots["plot-scores"]["texts"]
    assert "conv2d" in plots["plot-speed"]["texts"]
    assert "1.4 conv2d" in plots["plot-tasks"]["texts"]
    rows = seen["rows"]
    assert [r[0] for r in rows] == ["alice", "bob", "carol", "crashed", "dan", "erin"]
    statuses = {r[0]: r[4] for r in rows}              # submission, score, %, tests passed, status, late, time
    assert statuses == {"alice": "graded", "bob": "graded", "carol": "could not load", "crashed": "grader error",
                        "dan": "graded", "erin": "graded"}
    assert {r[0]: r[1] for r in rows}["alice"] == "22 / 22" and {r[0]: r[5] for r in rows}["dan"] == "-20%"
    assert sorted(seen["links"]) == [f"{n}/feedback.html" for n in ("alice", "bob", "carol", "dan", "erin")]
    assert seen["scripts"] == 1                                       # only the probe


@pytest.mark.slow
@needs_chromium
def test_chromium_screenshot_shows_the_plots(out, tmp_path):
    import matplotlib.image as mpimg
    import numpy as np
    shot = tmp_path / "report.png"
    proc = run_chromium((out / "report.html").as_uri(), tmp_path, "--window-size=1000,1400", f"--screenshot={shot}")
    assert shot.is_file(), proc.stderr[-1500:]
    img = (mpimg.imread(shot)[..., :3] * 255).round().astype(int)
    blue = np.all(np.abs(img - np.array([0x09, 0x69, 0xDA])) <= 3, axis=-1)
    assert blue.sum() > 2000                                          # histogram and pass-rate bars painted
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 50


def test_report_command_with_a_roster(out, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,submission\n1,Alice A,a@x.edu,alice\n2,Bob B,b@x.edu,bob\n"
                      "3,Zed Z,z@x.edu,\n")
    target = tmp_path / "copy"
    import shutil
    shutil.copytree(out, target)
    result = CliRunner().invoke(main, ["report", str(target), "--roster", str(roster), "--top", "3"])
    assert result.exit_code == 0, result.output
    assert "Zed Z (3)" in result.output and "carol" in result.output
    text = (target / "report.html").read_text()
    assert "No submission from: Zed Z (3)" in text and "Alice A (1)" in text
    empty = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert empty.exit_code != 0 and "no graded submissions" in empty.output


@pytest.mark.parametrize("labels", [["1.1 conv_output_size", "1.4 conv2d"],
                                    [f"1.{i % 7} a test name of some length, case {i} [param-{i}]" for i in range(60)]])
def test_report_charts_keep_every_label_inside_the_figure(labels):
    """The charts' margins are measured in one pass (report._fit), not by constrained
    layout: every tick label, the axis label and the title still lie inside the figure,
    and the axes take the rest of it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from autograder.instructor import report
    fig, ax = report._figure(9.0, max(1.8, 0.26 * len(labels) + 0.9))
    ax.barh(range(len(labels)), [50] * len(labels))
    ax.set_yticks(range(len(labels)), labels=labels, fontsize=7)
    ax.set_xlabel("passed (%)")
    ax.set_title("Pass rate per test")
    report._fit(fig)
    renderer = FigureCanvasAgg(fig).get_renderer()
    tight, whole = ax.get_tightbbox(renderer), fig.bbox
    assert whole.x0 <= tight.x0 and tight.x1 <= whole.x1 and whole.y0 <= tight.y0 and tight.y1 <= whole.y1
    assert tight.width > 0.95 * whole.width - 20 and tight.height > 0.95 * whole.height - 20    # no wasted margin
