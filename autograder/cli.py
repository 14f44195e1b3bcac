"""The command line (SPEC section 3), built with click; tables and progress with rich."""
from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
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
    import json
    import tempfile
    from autograder import runspec
    from autograder.engine import inventory
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
        spec = runspec.make(assignment, target, results=str(Path(tmp) / "results.json"))
        spec_path = spec.write(Path(tmp) / "run.json")
        cmd = [sys.executable, "-m", "pytest", *map(str, tests), "-c", str(ROOT / "pyproject.toml"),
               "--rootdir", str(ROOT), "-p", "autograder.plugin", "-q", "--tb=no", "-p", "no:cacheprovider",
               "--no-header", "--no-summary", "--ag-run", str(spec_path)]
        if keyword:
            cmd += ["-k", keyword]
        code = subprocess.call(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
        try:
            res = json.loads((Path(tmp) / "results.json").read_text())
        except (OSError, ValueError):
            raise click.ClickException(f"the public tests could not run (pytest exit {code})") from None
    graded = [t for t in res["tests"] if t["extra_data"]["kind"] != "summary"]
    for t in graded:
        if t["status"] == "failed":
            console.print(f"[red]FAIL[/] {escape(t['name'])}: {escape(' '.join(t['output'].split()))}")
    hidden = inventory(assignment.id)
    passed = sum(t["status"] == "passed" for t in graded)
    extra = (f"; {len(hidden)} hidden tests worth {sum(i['points'] for i in hidden):g} points run when you submit"
             if hidden else "; the hidden tests run when you submit")
    if passed == len(graded):
        console.print(f"[green]public tests passed[/] ({passed} of {len(graded)}){extra}.")
    else:
        console.print(f"[red]{len(graded) - passed} of {len(graded)} public tests failed[/]{extra}.")
    sys.exit(0 if passed == len(graded) else 1)


def _submissions(assignment, paths: tuple[Path, ...], each: bool, staging: Path) -> list[Path]:
    from autograder.batch import expand, looks_like_batch
    missing = [str(p) for p in paths if not Path(p).exists() and not Path(p).is_symlink()]
    if missing:
        raise click.UsageError(f"no such file or folder: {', '.join(missing)} (nothing was graded)")
    out: list[Path] = []
    for p in map(Path, paths):
        if each:
            if not p.is_dir():
                raise click.UsageError(f"--each expects folders of submissions; {p} is not a folder")
            out += expand(p, staging / p.name)
        elif looks_like_batch(p, assignment.module):
            raise click.UsageError(f"{p} holds several submissions (no {assignment.module}.py in it): grade its "
                                   f"entries one by one with --each")
        else:
            out.append(p)
    return out


def _out_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise click.ClickException(f"cannot write to --out {out_dir}: {exc.strerror or exc}") from None


@main.command()
@click.argument("assignment", callback=_assignment)
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder for <name>/results.json and gradebook.csv (kept: see --resume)")
@click.option("--jobs", "-j", default=None, type=click.IntRange(1, 64),
              help="submissions graded in parallel  [default: the number of CPU cores]")
@click.option("--timeout", type=click.FloatRange(0.1), default=None,
              help="seconds per student call (default: the assignment's setting)")
@click.option("--budget", type=click.FloatRange(1.0), default=None,
              help="seconds of student calls for a whole submission (default: the assignment's setting)")
@click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="auto", show_default=True)
@click.option("--each", is_flag=True, help="each SUBMISSION is a folder of submissions (a class's uploads, "
                                           "Gradescope's or Canvas's bulk download): grade its entries")
@click.option("--resume", is_flag=True, help="grade only submissions with no result in --out, or changed since")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="CSV of students (see docs/instructors.md): names, ids and e-mails for the exports")
@click.option("--lang", type=click.Choice(["en", "ko"]), default=None, help="language of student feedback")
@click.option("--cluster", "cluster", default=None, metavar="ADDRESS",
              help="grade on a Dask cluster (tcp://host:8786) instead of this machine (docs/cluster.md)")
@click.option("--cold", is_flag=True, hidden=True, help="a fresh pytest process per submission (benchmarks)")
@click.option("--cold-serial", is_flag=True, hidden=True,
              help="--cold with the zygote started after pytest's imports, as before (benchmarks)")
def grade(assignment, submissions, out_dir, jobs, timeout, budget, device, each, resume, roster, lang, cluster, cold,
          cold_serial):
    """Grade SUBMISSIONS (.py files, folders, .zip files or notebooks) of ASSIGNMENT.

    Writes OUT/<submission>/results.json for each (with feedback.html, the page the
    student may see) and OUT/gradebook.csv, rebuilt from every result under OUT.  Exits 0
    when every submission was graded, even with score 0 or one that could not load;
    Ctrl-C keeps what is done (resume with --resume)."""
    import tempfile
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)
    from autograder.batch import Stopped, grade_many
    started = time.monotonic()
    _out_dir(out_dir)
    with tempfile.TemporaryDirectory(prefix="ag-batch-") as staging:
        subs = _submissions(assignment, submissions, each, Path(staging))
        with Progress(TextColumn("[bold]grading {task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console,
                      transient=True) as progress:
            task = progress.add_task(assignment.id, total=len(subs))

            def done(graded):
                if progress.tasks[0].completed == 0:
                    _prefetch_report()           # the lanes are busy grading: the CPU has room
                progress.advance(task)
                if graded.skipped:
                    progress.console.print(f"  {graded.name}: up to date (--resume)")
                    return
                r = graded.results
                score = "grader error" if graded.error else f"{r['score']:g}/{r['max_score']:g}"
                progress.console.print(f"  {graded.name}: {score}")
            try:
                if cluster:
                    from autograder.cluster import ClusterError, grade_on_cluster
                    try:
                        graded = grade_on_cluster(assignment.id, subs, out_dir, cluster, timeout=timeout,
                                                  device=device, on_done=done)
                    except ClusterError as exc:
                        raise click.ClickException(str(exc)) from None
                else:
                    graded = grade_many(assignment.id, subs, out_dir, jobs=jobs, timeout=timeout, device=device,
                                        on_done=done, resume=resume, warm=not (cold or cold_serial), lang=lang,
                                        budget=budget, zygote_first=not cold_serial)
            except Stopped as stop:
                progress.stop()
                console.print(f"[yellow]interrupted[/]: {len(stop.done)} graded, {len(stop.left)} not. "
                              f"gradebook.csv written for what is done. Resume with the same command and "
                              f"--resume.")
                sys.exit(130)
    _after_batch(out_dir, assignment, roster)
    _summary_table(assignment, graded, out_dir, started)
    failed = [g for g in graded if g.error]
    for g in failed:
        console.print(f"[red]{escape(g.error)}[/]")
    sys.exit(1 if failed else 0)


def _prefetch_report() -> None:
    """The report's imports (0.3 s), in the background from the first result on, not while the
    warm process and the zygote start up on every core."""
    def load():
        with contextlib.suppress(Exception):      # _after_batch says what went wrong, if anything
            from autograder.instructor import prefetch
            prefetch()
    threading.Thread(target=load, name="report-imports", daemon=True).start()


def _after_batch(out_dir, assignment, roster) -> None:
    try:
        from autograder.instructor import after_batch
    except ImportError:
        return
    try:
        after_batch(out_dir, assignment, roster=roster)
    except Exception as exc:  # noqa: BLE001  the report never costs a graded batch
        console.print(f"[yellow]report not written: {exc}[/]")


def _summary_table(assignment, graded, out_dir, started) -> None:
    table = Table("submission", "score", "max", "passed", "note", title=f"{assignment.id}: {assignment.title}")
    for g in graded:
        r = g.results
        if r is None:
            table.add_row(g.name, "-", "-", "-", "[red]grader error[/]" if g.error else "up to date")
            continue
        counted = [t for t in r["tests"] if t.get("extra_data", {}).get("kind") != "summary"]
        passed = sum(t["status"] == "passed" for t in counted)
        note = r.get("extra_data", {}).get("load_error", "") or ("[red]grader error[/]" if g.error else "")
        table.add_row(escape(g.name), f"{r['score']:g}", f"{r['max_score']:g}", f"{passed}/{len(counted)}",
                      (note[:60] + "...") if len(note) > 60 else note)
    console.print(table)
    console.print(f"results in {out_dir}/ (gradebook.csv), {time.monotonic() - started:.1f} s")


@main.command()
@click.argument("ids", nargs=-1, callback=_assignments)
@click.option("--jobs", "-j", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--keep", "keep_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="write each mutant's built module to KEEP/<id>/<mutant>.py")
def validate(ids, jobs, keep_dir):
    """The framework grades itself: each reference must get full marks, each stub 0,
    and each known-wrong implementation (mutant) must lose points with feedback that
    names the concept it gets wrong, and only in the tasks it changes.  Mutants are
    overlays on the reference (autograder/mutants.py), built before grading.  Exits
    non-zero when any expectation fails."""
    from rich.markup import escape
    from autograder.validate import run_validation
    rows = run_validation(ids, jobs=jobs, keep=keep_dir, progress=lambda text: console.print(f"  {escape(text)}"))
    table = Table("assignment", "implementation", "score", "tasks that lost points", "expected", "verdict")
    for row in rows:
        verdict = "[green]ok[/]" if row.ok else f"[red]FAIL[/] {escape(row.problem)}"
        if row.note:
            verdict += f" [yellow]({escape(row.note)})[/]"
        table.add_row(row.assignment, row.label, row.score_text, row.lost_text, row.expectation, verdict)
    console.print(table)
    bad = [r for r in rows if not r.ok]
    console.print(f"{len(rows) - len(bad)} of {len(rows)} expectations met")
    if keep_dir is not None:
        console.print(f"built mutants in {keep_dir}/")
    sys.exit(1 if bad else 0)


@main.command()
@click.argument("ids", nargs=-1, callback=_assignments)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder for the archives (outside assignments/, solutions/, autograder/ and shared/)")
@click.option("--force", is_flag=True, help="replace archives that already exist in --out")
def release(ids, out_dir, force):
    """Build the student zip, the Gradescope autograder zip and the otter-grader zip of
    each assignment (all when no id is given), refusing to ship anything secret."""
    from autograder import release as rel
    paths = rel.build_release([a.id for a in ids], out_dir, force=force)   # its errors are one-line messages
    for a in ids:
        stray = rel.left_out(a)
        if stray:
            click.echo(f"{a.id}: not in the student zip (not a stub, README or public test): "
                       f"{', '.join(stray)}", err=True)
    for p in paths:
        click.echo(str(p))


from autograder.instructor.cli import register as _register_instructor; _register_instructor(main)  # noqa: E402,E702  report, export, similarity, roster
