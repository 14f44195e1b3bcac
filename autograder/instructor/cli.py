"""The instructor's commands of ``grade.py``: report, export, similarity, roster.

``register(main)`` adds them to the click group of :mod:`autograder.cli`.  Heavy imports
(jinja2, matplotlib) happen inside the commands, so ``grade.py --help`` stays fast.
"""
from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

console = Console(highlight=False, soft_wrap=True)

_OUT = click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
_ROSTER = click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                       help="roster CSV (student_id, name, email, ...; see docs/instructors.md)")
_GS_META = click.option("--gradescope-metadata", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        default=None, help="submission_metadata.yml of a Gradescope 'Export Submissions' download")


def _batch_or_fail(out_dir: Path):
    from autograder.instructor.batch import load_batch
    batch = load_batch(out_dir)
    if not batch.submissions:
        raise click.ClickException(f"{out_dir} holds no graded submissions (no <name>/results.json, "
                                   "no gradebook.csv): run grade.py grade first")
    return batch


def _print_attach(unmatched: list[str], missing) -> None:
    if unmatched:
        console.print(f"[yellow]{len(unmatched)} submission(s) match no roster row:[/] "
                      + escape(", ".join(unmatched)))
        from autograder.instructor.roster import GRADESCOPE_FOLDER
        if any(GRADESCOPE_FOLDER.match(name) for name in unmatched):
            console.print("  (submission_<id> folders come from a Gradescope export: pass its "
                          "submission_metadata.yml with --gradescope-metadata)")
    if missing:
        console.print(f"[yellow]{len(missing)} student(s) have no submission:[/] "
                      + escape(", ".join(f"{s.name} ({s.student_id})" for s in missing)))


def _time(ctx, param, value):
    if value is None:
        return None
    from autograder.instructor.late import parse_time
    try:
        return parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("report")
@_OUT
@_ROSTER
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="rows in the slowest, leaderboard and similarity sections")
@click.option("--no-similarity", is_flag=True, help="leave out the similarity section")
@click.option("--feedback", type=click.Choice(["missing", "all", "none"]), default="missing", show_default=True,
              help="write each student's feedback.html: where missing, all again, or none")
@click.option("--after-due", is_flag=True,
              help="feedback pages also show tests visible after the due date / once published")
@_GS_META
def report_cmd(out_dir, roster, top, no_similarity, feedback, after_due, gradescope_metadata):
    """Write OUT/report.html: scores, pass rates, speed, load failures, similarity and a
    table of every student linking to their feedback page."""
    from autograder.instructor.report import build_report, write_feedback_pages
    batch = _batch_or_fail(out_dir)
    if feedback != "none":
        pages = write_feedback_pages(batch, overwrite=feedback == "all", after_due=after_due)
        console.print(f"{len(pages)} feedback page(s) written")
    if roster:
        from autograder.instructor.roster import RosterError, attach
        try:
            result = attach(out_dir, roster, gradescope_metadata=gradescope_metadata)
        except RosterError as exc:
            raise click.ClickException(str(exc)) from None
        _print_attach(result.unmatched_submissions, result.missing_students)
    path = build_report(out_dir, top=top, similarity=not no_similarity)
    console.print(f"report: {path}")


@click.command("export")
@_OUT
@click.option("--format", "fmt", type=click.Choice(["canvas", "moodle", "csv"]), required=True)
@_ROSTER
@click.option("--to", "to", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="file to write (default OUT/grades-<format>.csv)")
@click.option("--due", callback=_time, default=None,
              help="due date (ISO 8601, e.g. 2025-04-01T23:59+09:00): apply the assignment's late policy "
                   "to each student's submitted_at")
@click.option("--late-due", callback=_time, default=None, help="late due date (ISO 8601)")
@click.option("--column", default=None, help="grade column header (Canvas: 'Title (assignment id)' to update "
                                             "an existing assignment); default: the assignment id")
@click.option("--missing-zero", is_flag=True, help="LMS files: give 0 to students without a submission "
                                                   "(default: leave them out, so the LMS keeps their grade)")
@_GS_META
def export_cmd(out_dir, fmt, roster, to, due, late_due, column, missing_zero, gradescope_metadata):
    """Write the grades of OUT for Canvas' or Moodle's grade import, or as a plain CSV with
    one column per task."""
    from autograder.instructor.export import ExportError, export
    from autograder.instructor.roster import RosterError
    _batch_or_fail(out_dir)
    if late_due and not due:
        raise click.BadParameter("--late-due needs --due", param_hint="--late-due")
    try:
        result = export(out_dir, fmt, roster=roster, to=to, due=due, late_due=late_due, column=column,
                        missing_zero=missing_zero, gradescope_metadata=gradescope_metadata)
    except (ExportError, RosterError) as exc:
        raise click.ClickException(str(exc)) from None
    _print_attach(result.unmatched_submissions, result.missing_students)
    if result.unidentifiable:
        console.print("[yellow]no canvas_id, sis_id or login (Canvas cannot match them):[/] "
                      + escape(", ".join(s.name for s in result.unidentifiable)))
    console.print(f"{fmt}: {result.path} ({len(result.rows)} row(s))")


@click.command("similarity")
@_OUT
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 10000))
@click.option("--show", default=0, show_default=True, type=click.IntRange(0, 1000),
              help="print the matching lines of the first N pairs")
def similarity_cmd(out_dir, top, show):
    """List the most similar pairs of submissions of OUT (OUT/<name>/source.py), with the
    handout stub's own code left out.  A high score is a reason to look, not a verdict."""
    from autograder.instructor.similarity import compare_batch
    batch = _batch_or_fail(out_dir)
    result = compare_batch(out_dir, top=top, assignment_id=batch.assignment_id)
    if not result.compared:
        raise click.ClickException("no submission with a source.py to compare in " + str(out_dir))
    console.print(f"most similar pairs of {len(result.compared)} submissions (score: Jaccard index of "
                  "fingerprints; shared: of each one's fingerprints; lines: first | second)")
    for rank, p in enumerate(result.pairs, start=1):
        spans = "; ".join(f"{b.a_start}-{b.a_end} | {b.b_start}-{b.b_end}" for b in p.blocks[:4])
        more = f" (+{len(p.blocks) - 4} more)" if len(p.blocks) > 4 else ""
        console.print(escape(f"{rank:3d}. {p.score:.2f}  {p.a} <-> {p.b}  shared {p.a_share:.0%} / {p.b_share:.0%}"
                             f"  lines {spans}{more}"))
    for p in result.pairs[:show]:
        console.print(f"\n[bold]{escape(p.a)} <-> {escape(p.b)}[/] (score {p.score:.2f})")
        for b in p.blocks:
            width = min(max((len(row[1]) for row in b.rows), default=20), 70)
            console.print(f"  {escape(p.a)} {b.a_start}-{b.a_end}  |  {escape(p.b)} {b.b_start}-{b.b_end}")
            for an, at, bn, bt, same in b.rows:
                left = f"{an if an is not None else '':>4} {at[:width]:<{width}}"
                mark = "=" if same else (" " if not (at.strip() or bt.strip()) else "|")
                console.print(escape(f"  {left} {mark} {bn if bn is not None else '':>4} {bt[:70]}"))
    for name, why in sorted(result.skipped.items()):
        console.print(f"[dim]left out {escape(name)}: {escape(why)}[/]")


@click.command("roster")
@_OUT
@click.argument("roster_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_GS_META
def roster_cmd(out_dir, roster_csv, gradescope_metadata):
    """Match the submissions of OUT to ROSTER_CSV's students; write OUT/roster.json and list
    submissions that match nobody and students without a submission."""
    from autograder.instructor.roster import RosterError, attach
    _batch_or_fail(out_dir)
    try:
        result = attach(out_dir, roster_csv, gradescope_metadata=gradescope_metadata)
    except RosterError as exc:
        raise click.ClickException(str(exc)) from None
    names = {s.student_id: s.name for s in result.students}
    for name, match in sorted(result.matches.items()):
        who = ", ".join(f"{names[i]} ({i})" for i in match.students)
        console.print(escape(f"{name} -> {who}  [{match.rule}{', LATE' if match.late else ''}]"))
    _print_attach(result.unmatched_submissions, result.missing_students)
    for sid, subs in sorted(result.duplicates.items()):
        console.print(f"[yellow]{escape(names[sid])} ({sid}) has {len(subs)} submissions[/]: "
                      f"{escape(', '.join(subs))}; using {escape(result.chosen[sid])}")
    console.print(f"written {out_dir / 'roster.json'}")


def register(main: click.Group) -> None:
    """Add the instructor's commands to ``grade.py``'s click group."""
    for command in (report_cmd, export_cmd, similarity_cmd, roster_cmd):
        main.add_command(command)
