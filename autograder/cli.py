"""The command line (SPEC section 3), built with click; tables and progress with rich."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from autograder import ROOT, __version__, registry

console = Console(highlight=False)


def _assignment(ctx, param, value):
    try:
        return registry.get(value)
    except registry.UnknownAssignment as exc:
        raise click.BadParameter(str(exc)) from None


def _assignments(ctx, param, values):
    return [_assignment(ctx, param, v) for v in values] if values else list(registry.all_assignments())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grade.py")
def main():
    """Grade deep-learning assignments: hidden test suites, isolated student code,
    timed performance checks.  Results follow Gradescope's results.json format."""


@main.command("list")
def list_cmd():
    """List the assignments and their functions."""
    table = Table("id", "title", "functions", "timeout", "speed limit")
    for a in registry.all_assignments():
        table.add_row(a.id, a.title, ", ".join(a.functions + a.classes), f"{a.timeout:g} s", f"{a.perf_threshold:g}x")
    console.print(table)


@main.command()
@click.argument("assignment", callback=_assignment)
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("-k", "keyword", default=None, help="only the public tests whose name matches (e.g. a function name)")
def check(assignment, path, keyword):
    """Run the public tests of ASSIGNMENT on your work (PATH: a .py file, folder, .zip or
    notebook; defaults to the handout's stub).  Hidden tests are not run."""
    import tempfile
    from autograder.submission import LoadError, materialize
    tests = assignment.public_tests()
    if not tests:
        raise click.ClickException(f"{assignment.id} has no public tests")
    with tempfile.TemporaryDirectory(prefix="ag-check-") as tmp:
        if path is None:
            target = str(assignment.stub_path)
        else:
            try:
                target = str(materialize(path, assignment.module, Path(tmp) / "submission"))
            except LoadError as exc:
                raise click.ClickException(f"cannot load {path}: {exc}") from None
        cmd = [sys.executable, "-m", "pytest", *map(str, tests), "-c", str(ROOT / "pyproject.toml"),
               "--rootdir", str(ROOT), "-p", "autograder.plugin", "-q", "--tb=line", "-p", "no:cacheprovider",
               "--ag-target", target, "--ag-isolation", "inprocess"]
        if keyword:
            cmd += ["-k", keyword]
        code = subprocess.call(cmd, cwd=ROOT)
    if code == 0:
        console.print("[green]Public tests passed.[/] The hidden tests (more cases, edge cases and speed "
                      "checks) run when you submit.")
    elif code == 1:
        console.print("[red]Some public tests failed[/] - read the messages above.")
    sys.exit(0 if code == 0 else 1)


@main.command()
@click.argument("assignment", callback=_assignment)
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder for <name>/results.json and gradebook.csv")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(1, 64),
              help="submissions graded in parallel")
@click.option("--timeout", type=click.FloatRange(0.1), default=None,
              help="seconds per student call (default: the assignment's setting)")
@click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="auto", show_default=True)
def grade(assignment, submissions, out_dir, jobs, timeout, device):
    """Grade SUBMISSIONS (.py files, folders, .zip files or notebooks) of ASSIGNMENT.

    Writes OUT/<submission>/results.json for each and OUT/gradebook.csv.  Exits 0 when
    every submission was graded, even with score 0 or one that could not load."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from autograder.engine import grade_many
    started = time.monotonic()
    with Progress(TextColumn("[bold]grading {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task(assignment.id, total=len(submissions))

        def done(graded):
            progress.advance(task)
            score = "grader error" if graded.error else f"{graded.results['score']:g}/{graded.results['max_score']:g}"
            progress.console.print(f"  {graded.name}: {score}")
        graded = grade_many(assignment.id, list(submissions), out_dir, jobs=jobs, timeout=timeout, device=device,
                            on_done=done)
    table = Table("submission", "score", "max", "passed", "note", title=f"{assignment.id}: {assignment.title}")
    for g in graded:
        if g.error:
            table.add_row(g.name, "-", "-", "-", "[red]grader error[/]")
            continue
        r = g.results
        counted = [t for t in r["tests"] if t["status"] != "skipped"]
        passed = sum(t["status"] == "passed" for t in counted)
        note = r.get("extra_data", {}).get("load_error", "")
        table.add_row(g.name, f"{r['score']:g}", f"{r['max_score']:g}", f"{passed}/{len(counted)}",
                      (note[:60] + "...") if len(note) > 60 else note)
    console.print(table)
    console.print(f"results in {out_dir}/ (gradebook.csv), {time.monotonic() - started:.1f} s")
    failed = [g for g in graded if g.error]
    for g in failed:
        console.print(f"[red]{g.error}[/]")
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("ids", nargs=-1, callback=_assignments)
@click.option("--jobs", "-j", default=2, show_default=True, type=click.IntRange(1, 64))
def validate(ids, jobs):
    """The framework grades itself: each reference must get full marks, each stub 0,
    and each known-wrong implementation (mutant) must lose points with feedback that
    names the concept it gets wrong.  Exits non-zero when any expectation fails."""
    from autograder.validate import run_validation
    rows = run_validation(ids, jobs=jobs, progress=lambda text: console.print(f"  {text}"))
    table = Table("assignment", "implementation", "score", "expected", "verdict")
    for row in rows:
        table.add_row(row.assignment, row.label, row.score_text, row.expectation,
                      "[green]ok[/]" if row.ok else f"[red]FAIL[/] {row.problem}")
    console.print(table)
    bad = [r for r in rows if not r.ok]
    console.print(f"{len(rows) - len(bad)} of {len(rows)} expectations met")
    sys.exit(1 if bad else 0)


@main.command()
@click.argument("ids", nargs=-1, callback=_assignments)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
def release(ids, out_dir):
    """Build the student zip, the Gradescope autograder zip and the otter-grader zip of
    each assignment (all when no id is given), refusing to ship anything secret."""
    from autograder import release as rel
    try:
        paths = rel.build_release([a.id for a in ids], out_dir)
    except rel.LeakError as exc:
        raise click.ClickException(str(exc)) from None
    for p in paths:
        console.print(str(p))
