"""``python -m autograder.mutants build <id> <mutant>`` / ``check [ids]`` / ``compact [ids]``:
the builder of mutant overlays (:mod:`autograder.mutants`) from the command line, for
assignment authors.  ``compact`` is how a new mutant is best written: copy the reference's
definition into the overlay, break it, then let ``compact`` turn it into ``edit(...)`` calls."""
from __future__ import annotations

import ast
from pathlib import Path

from autograder.mutant_edits import compact, format_edits
from autograder.mutants import (MutantError, build_file, build_mutant, normalised_source, parse_header,
                                top_level_definitions)


def _source_of(lines: list[str], node: ast.stmt) -> str:
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return "".join(lines[start - 1:node.end_lineno])


def compact_overlay(reference: str, overlay: str, name: str) -> str | None:
    """``overlay`` rewritten with each whole replaced definition turned into ``edit(...)``
    calls where that is shorter, and imports the reference already has dropped; None when
    nothing gets shorter.  The result builds to the same module (up to comments and
    docstrings) as ``overlay``; :class:`MutantError` otherwise."""
    header = parse_header(overlay)
    ref_lines, over_lines = reference.splitlines(keepends=True), overlay.splitlines(keepends=True)
    ref_defs = top_level_definitions(ast.parse(reference))
    ref_imports = {ast.unparse(n) for n in ast.parse(reference).body if isinstance(n, (ast.Import, ast.ImportFrom))}
    lead = []
    for line in over_lines:
        if not line.strip().startswith("#"):
            break
        lead.append(line)
    imports, edits, kept = [], [], []
    for node in ast.parse(overlay).body:
        text = _source_of(over_lines, node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if ast.unparse(node) not in ref_imports:
                imports.append(text)
            continue
        defined = getattr(node, "name", None) or (ast.unparse(node.targets[0]) if isinstance(node, ast.Assign) else None)
        small = None
        if defined in ref_defs and defined not in header.adds and len(ref_defs[defined]) == 1:
            small = compact(defined, _source_of(ref_lines, ref_defs[defined][0]), text)
        if small is not None and len(format_edits(small).splitlines()) < len(text.splitlines()):
            edits.append(format_edits(small))
        else:
            kept.append(text)
    parts = ["".join(lead).rstrip("\n") + "\n" + (edits.pop(0) if edits and not imports else "")]
    if imports:
        parts.append("".join(imports))
    parts += edits
    out = "\n".join(parts) + "".join("\n\n" + k for k in kept)
    if len(out.splitlines()) >= len(overlay.splitlines()):
        return None
    before, after = build_mutant(reference, overlay, name), build_mutant(reference, out, name)
    if normalised_source(before.source) != normalised_source(after.source):
        raise MutantError(f"mutant {name}: the compacted overlay builds to a different module; left as it was")
    return out


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

    @cli.command("compact")
    @click.argument("ids", nargs=-1)
    @click.option("--dry-run", is_flag=True, help="Only say which mutants would get shorter.")
    def compact_cmd(ids, dry_run):
        """Rewrite the mutants of IDS (all when none is given): whole replaced definitions
        become edit(...) calls where that is shorter.  The built modules do not change."""
        chosen = [registry.get(i) for i in ids] if ids else list(registry.all_assignments())
        bad = 0
        for assignment in chosen:
            reference = assignment.solution_path.read_text(encoding="utf-8")
            for path in assignment.mutants():
                before = path.read_text(encoding="utf-8")
                try:
                    out = compact_overlay(reference, before, f"{assignment.id}/{path.stem}")
                except SyntaxError as exc:
                    out, bad = None, bad + 1
                    click.echo(f"FAIL {assignment.id}/{path.stem}: not valid Python (line {exc.lineno}): {exc.msg}")
                except MutantError as exc:
                    out, bad = None, bad + 1
                    click.echo(f"FAIL {exc}")
                if out is None:
                    continue
                click.echo(f"{assignment.id}/{path.stem}: {len(before.splitlines())} -> {len(out.splitlines())} lines")
                if not dry_run:
                    path.write_text(out, encoding="utf-8")
        if bad:
            raise click.ClickException(f"{bad} mutant(s) left as they were")

    try:
        cli.main(args=argv, prog_name="python -m autograder.mutants", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 1
    return 0
