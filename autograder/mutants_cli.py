"""``python -m autograder.mutants build <id> <mutant>`` / ``check [ids]``: the builder of
mutant overlays (:mod:`autograder.mutants`) from the command line, for assignment authors."""
from __future__ import annotations

from pathlib import Path

from autograder.mutants import MutantError, build_file


def main(argv=None) -> int:
    import click

    from autograder import registry

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    def cli():
        """Build mutant overlays (autograder/suites/<id>/mutants/*.py) against the reference."""

    @cli.command("build")
    @click.argument("assignment_id")
    @click.argument("mutant")
    def build_cmd(assignment_id, mutant):
        """Print the full module of MUTANT (a name in the mutants folder, or a path)."""
        assignment = registry.get(assignment_id)
        path = Path(mutant)
        if not path.is_file():
            path = assignment.mutants_dir / f"{Path(mutant).stem}.py"
        if not path.is_file():
            known = ", ".join(m.stem for m in assignment.mutants()) or "none"
            raise click.ClickException(f"no mutant {mutant!r} in {assignment.mutants_dir} (known: {known})")
        try:
            click.echo(build_file(assignment, path).source, nl=False)
        except MutantError as exc:
            raise click.ClickException(str(exc)) from None

    @cli.command("check")
    @click.argument("ids", nargs=-1)
    def check_cmd(ids):
        """Build every mutant of the assignments IDS (all when none is given)."""
        chosen = [registry.get(i) for i in ids] if ids else list(registry.all_assignments())
        bad = 0
        for assignment in chosen:
            for path in assignment.mutants():
                try:
                    built = build_file(assignment, path)
                    click.echo(f"ok   {assignment.id}/{path.stem}: replaces {', '.join(built.changed) or '-'}"
                               + (f"; adds {', '.join(built.adds)}" if built.adds else ""))
                except MutantError as exc:
                    bad += 1
                    click.echo(f"FAIL {exc}")
        if bad:
            raise click.ClickException(f"{bad} mutant(s) do not build")

    try:
        cli.main(args=argv, prog_name="python -m autograder.mutants", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 1
    return 0
