"""The batch report: ``OUT/report.html``, one self-contained page for the instructor.

Sections: summary figures, score histogram, pass rate per task and per test, speed-ratio
distribution per timed function and the speed leaderboard, submissions that could not be
loaded (and why), the slowest submissions, late penalties, the most similar pairs of
submissions (matching lines side by side), and a table of every submission linking to its
feedback page (``<name>/feedback.html``).  Plots are matplotlib figures (no pyplot, no GUI
backend) embedded as inline SVG; the page has no scripts and loads nothing from anywhere.
Pass rates and speed figures leave out the submissions that could not be loaded.
"""
from __future__ import annotations

import io
import random
import re
import statistics
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from autograder import __version__
from autograder.instructor.batch import Batch, load_batch, tests_of
from autograder.instructor.leaderboard import leaderboard

KIND_COLOURS = {"correctness": "#0969da", "performance": "#bf8700", "forbidden-api": "#8250df", "summary": "#57606a"}


# ---- plots ------------------------------------------------------------------------------
def _figure(width: float, height: float):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100)
    return fig, fig.add_subplot()


def _fit(fig, pad: float = 6.0) -> None:
    """Margins that just hold the axes' labels and title, measured in one pass (matplotlib's
    constrained layout measures every tick label three times: half the report's time with
    a chart of 60 tests)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    renderer = FigureCanvasAgg(fig).get_renderer()
    ax = fig.axes[0]
    tight, box = ax.get_tightbbox(renderer), ax.get_window_extent(renderer)
    width, height = fig.bbox.width, fig.bbox.height
    left, right = (box.x0 - tight.x0 + pad) / width, 1 - (tight.x1 - box.x1 + pad) / width
    bottom, top = (box.y0 - tight.y0 + pad) / height, 1 - (tight.y1 - box.y1 + pad) / height
    if right - left < 0.2 or top - bottom < 0.2:         # labels that leave no room: matplotlib's best try
        fig.set_layout_engine("constrained")
        return
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top)


def svg(fig, salt: str, label: str) -> str:
    """The figure as an inline <svg> element (no XML prolog; ids unique per ``salt``)."""
    import matplotlib
    _fit(fig)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    safe_label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return text.replace("<svg", f'<svg role="img" aria-label="{safe_label}"', 1)


def plot_scores(scores: list[float], max_score: float | None) -> str:
    fig, ax = _figure(6.4, 3.2)
    top = max_score or max(scores) or 1.0
    bins = min(20, max(5, int(len(scores) ** 0.5) * 2))
    ax.hist(scores, bins=bins, range=(0, top), color="#0969da", edgecolor="white")
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("submissions")
    ax.set_title("Score distribution")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return svg(fig, "scores", "Histogram of scores")


def plot_rates(labels: list[str], rates: list[float], colours: list[str], title: str, salt: str) -> str:
    height = max(1.8, 0.26 * len(labels) + 0.9)
    fig, ax = _figure(9.0 if max(map(len, labels), default=0) > 30 else 6.4, height)
    y = list(range(len(labels)))
    ax.barh(y, [100 * r for r in rates], color=colours)
    ax.set_yticks(y, labels=labels, fontsize=7 if len(labels) > 20 else 9)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("passed (%)")
    ax.set_title(title)
    return svg(fig, salt, title)


def plot_speed(ratios: dict[str, list[float]], thresholds: dict[str, float]) -> str:
    fig, ax = _figure(6.4, 3.4)
    names = sorted(ratios)
    rng = random.Random(0)                       # jitter only; seeded so the page is reproducible
    ax.boxplot([ratios[n] for n in names], showfliers=False, widths=0.5)
    for i, n in enumerate(names, start=1):
        ax.scatter([i + rng.uniform(-0.15, 0.15) for _ in ratios[n]], ratios[n], s=12, alpha=0.6, color="#0969da")
        if n in thresholds:
            ax.hlines(thresholds[n], i - 0.4, i + 0.4, colors="#cf222e", linestyles="dashed")
    ax.set_xticks(range(1, len(names) + 1), labels=names)
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter
    ratio_fmt = FuncFormatter(lambda v, _: f"{v:g}x")
    ax.yaxis.set_major_formatter(ratio_fmt)
    ax.yaxis.set_minor_formatter(ratio_fmt)
    ax.set_ylabel("student time / reference time")
    ax.set_title("Speed ratio per function (dashed: allowed)")
    return svg(fig, "speed", "Speed ratio distribution per function")


# ---- data -------------------------------------------------------------------------------
def _roster_names(out_dir: Path) -> dict[str, list[dict]]:
    from autograder.instructor.roster import load_attached
    data = load_attached(out_dir)
    if not data:
        return {}
    by_id = {s["student_id"]: s for s in data.get("students", [])}
    return {name: [by_id[i] for i in info.get("students", []) if i in by_id]
            for name, info in data.get("submissions", {}).items()}


def report_context(batch: Batch, *, top: int = 10, similarity: bool = True) -> dict:
    out_dir = batch.out_dir
    numbers = batch.task_numbers()
    a = batch.assignment
    graded = batch.graded()
    loadable = [s for s in graded if not s.load_error]
    scores = [s.score for s in graded if s.score is not None]
    maxes = Counter(s.max_score for s in graded if s.max_score)
    max_score = maxes.most_common(1)[0][0] if maxes else None

    # pass rates, per test and per task (submissions that loaded)
    per_test: dict[str, dict] = {}
    per_task: dict[str, dict] = {}
    speed: dict[str, list[float]] = {}
    thresholds: dict[str, float] = {}
    for sub in loadable:
        full: dict[str, bool] = {}
        for t in tests_of(sub.results, numbers):
            if t.speed and t.counted and t.speed.get("ratio") is not None:
                fn = str(t.speed.get("function") or t.task)
                speed.setdefault(fn, []).append(float(t.speed["ratio"]))
                if t.speed.get("threshold") is not None:
                    thresholds[fn] = float(t.speed["threshold"])
            if not t.counted:
                continue
            row = per_test.setdefault(t.id, {"name": t.name, "task": t.task, "kind": t.kind, "passed": 0, "runs": 0})
            row["runs"] += 1
            row["passed"] += t.status == "passed"
            task = per_task.setdefault(t.task, {"passed": 0, "runs": 0, "full": 0, "subs": 0})
            task["runs"] += 1
            task["passed"] += t.status == "passed"
            full[t.task] = full.get(t.task, True) and t.status == "passed"
        for task, ok in full.items():
            per_task[task]["subs"] += 1
            per_task[task]["full"] += ok
    task_title = {t.number: f"{t.number} {t.function}" for t in a.tasks} if a else {}
    order = {n: i for i, n in enumerate(numbers)}
    tasks = [{"task": k, "label": task_title.get(k, k), "rate": v["passed"] / v["runs"],
              "full": v["full"] / v["subs"] if v["subs"] else 0.0, "runs": v["runs"]}
             for k, v in sorted(per_task.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))]
    tests = [{**v, "id": k, "rate": v["passed"] / v["runs"]} for k, v in per_test.items()]

    # leaderboard: per function, submissions ranked by ratio (lower is faster)
    boards: dict[str, list[tuple[float, str]]] = {}
    for sub in loadable:
        for entry in leaderboard(sub.results):
            boards.setdefault(entry["name"], []).append((entry["value"], sub.name))
    boards_sorted = {fn: sorted(rows)[:top] for fn, rows in sorted(boards.items())}

    students = _roster_names(out_dir)
    rows = []
    for sub in batch.submissions:
        infos = tests_of(sub.results, numbers)
        counted = [t for t in infos if t.counted]
        late = sub.extra.get("late") or {}
        rows.append({"name": sub.name, "students": students.get(sub.name, []), "status": sub.status,
                     "score": sub.score, "max_score": sub.max_score,
                     "percent": (100 * sub.score / sub.max_score) if sub.score is not None and sub.max_score else None,
                     "passed": sum(t.status == "passed" for t in counted), "counted": len(counted),
                     "late": late.get("percent"), "time": sub.execution_time,
                     "feedback": f"{sub.name}/feedback.html" if sub.feedback_path.is_file() else None,
                     "problem": sub.load_error or sub.problem or ""})
    slowest = sorted((r for r in rows if r["time"] is not None), key=lambda r: -r["time"])[:top]
    failures = [r for r in rows if r["status"] != "graded"]
    late_rows = [r for r in rows if r["late"]]

    sim, sim_note = None, ""
    if similarity:
        from autograder.instructor.similarity import compare_batch
        if any(s.source_path.is_file() for s in batch.submissions):
            sim = compare_batch(out_dir, top=top, assignment_id=batch.assignment_id)
        else:
            sim_note = "No OUT/<name>/source.py files: this batch was graded before the engine kept the sources."

    roster = None
    from autograder.instructor.roster import load_attached
    attached = load_attached(out_dir)
    if attached:
        roster = {"missing": [s for s in attached.get("students", []) if not s.get("matched_submission")],
                  "unmatched": attached.get("unmatched_submissions", []), "count": len(attached.get("students", []))}

    plots = {}
    if scores:
        plots["scores"] = plot_scores(scores, max_score)
    if tasks:
        plots["tasks"] = plot_rates([t["label"] for t in tasks], [t["rate"] for t in tasks],
                                    ["#0969da"] * len(tasks), "Tests passed per task", "tasks")
    if tests:
        plots["tests"] = plot_rates([_short(t["name"]) for t in tests], [t["rate"] for t in tests],
                                    [KIND_COLOURS.get(t["kind"], "#0969da") for t in tests], "Pass rate per test",
                                    "tests")
    if speed:
        plots["speed"] = plot_speed(speed, thresholds)
    return {
        "assignment": batch.assignment_id or "unknown assignment", "title": a.title if a else "",
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"), "version": __version__,
        "n": len(batch.submissions), "n_graded": len(graded), "n_loaded": len(loadable),
        "mean": statistics.fmean(scores) if scores else None,
        "median": statistics.median(scores) if scores else None, "max_score": max_score,
        "full_marks": sum(1 for s in graded if s.score is not None and max_score and s.score >= max_score),
        "plots": plots, "tasks": tasks, "tests": tests, "speed": {fn: _speed_summary(r, thresholds.get(fn))
                                                                  for fn, r in sorted(speed.items())},
        "boards": boards_sorted, "rows": rows, "slowest": slowest, "failures": failures, "late_rows": late_rows,
        "similarity": sim, "similarity_note": sim_note, "roster": roster, "kind_colours": KIND_COLOURS,
    }


def _short(name: str, width: int = 70) -> str:
    return name if len(name) <= width else name[:width - 1] + "…"


def _speed_summary(ratios: list[float], threshold: float | None) -> dict:
    return {"n": len(ratios), "median": statistics.median(ratios), "best": min(ratios), "worst": max(ratios),
            "threshold": threshold, "over": sum(r > threshold for r in ratios) if threshold else None}


# ---- entry points -----------------------------------------------------------------------
def write_feedback_pages(batch: Batch, *, overwrite: bool = False, after_due: bool = False) -> list[Path]:
    from autograder.instructor.feedback_page import write_feedback_page
    written = []
    for sub in batch.graded():
        if overwrite or not sub.feedback_path.is_file():
            written.append(write_feedback_page(sub.results, sub.feedback_path, after_due=after_due))
    return written


def build_report(out_dir, *, top: int = 10, similarity: bool = True, path=None) -> Path:
    """Write OUT/report.html (or ``path``) and return its path."""
    from autograder.instructor.templating import environment
    batch = load_batch(out_dir)
    html = environment().get_template("report.html.j2").render(**report_context(batch, top=top,
                                                                                similarity=similarity))
    path = Path(path) if path else Path(out_dir) / "report.html"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path


def after_batch(out_dir, assignment, roster=None) -> Path:
    """End of ``grade``: feedback pages where missing, the roster attached when given, then
    the report.  ``assignment`` (an id or a registry entry) is only used to check the batch."""
    out_dir = Path(out_dir)
    batch = load_batch(out_dir)
    wanted = getattr(assignment, "id", assignment)
    if wanted and batch.assignment_id and wanted != batch.assignment_id:
        raise ValueError(f"{out_dir} holds results of {batch.assignment_id}, not {wanted}")
    write_feedback_pages(batch)
    if roster is not None:
        from autograder.instructor.roster import attach
        attach(out_dir, roster)
    return build_report(out_dir)
