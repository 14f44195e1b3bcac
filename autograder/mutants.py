"""Mutants as overlays on the reference.

A mutant file (``autograder/suites/<id>/mutants/<name>.py``) holds its header and ONLY what
it changes, as edits of the reference's definitions or as whole definitions::

    # mutant: conv2d adds the bias inside the sum over kernel taps
    # expect: bias                (words separated by |; one must appear in a failed test's feedback)
    # adds: _helper               (optional: new top-level names the reference does not define)
    edit("conv2d", "out + bias.view(1, -1, 1, 1)", "out + bias.view(1, -1, 1, 1) * (kh * kw)")
    import torch                  (imports the changed definitions need)
    def scaled(...): ...          (replaces the reference's scaled)

:func:`build` turns it into a full module: each ``edit(NAME, OLD, NEW)`` changes the text of
the reference's definition NAME (:mod:`autograder.mutant_edits`); each top-level ``def`` /
``class`` / ``NAME = ...`` replaces the reference's one, in place; the rest is the
reference's text; new imports go after the reference's, ``# adds:`` names after its
definitions, the header at the end as comments.  Whatever would let a mutant drift from
the reference unnoticed (a name or an OLD text the reference no longer has, a definition
copied unchanged, a mutant that changes nothing) is a :class:`MutantError` naming the
mutant and the definition.

    python -m autograder.mutants build a1_cnn bias_per_tap     # print the full module
    python -m autograder.mutants check [a1_cnn ...]            # build every mutant
    python -m autograder.mutants compact [a1_cnn ...]          # whole definitions -> edits
"""
from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.astnorm import normalised, normalised_source
from autograder.mutant_edits import Edit, EditError, apply_edits, parse_edit

__all__ = ["MutantError", "Built", "Header", "build", "build_mutant", "build_file", "parse_header",
           "normalised", "top_level_definitions"]

_HEADER_LINE = re.compile(r"^#\s*(mutant|expect|adds)\s*:\s*(.*?)\s*$")
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class MutantError(ValueError):
    """A mutant overlay that cannot be built against today's reference."""


@dataclass(frozen=True)
class Header:
    mutant: str = ""
    expect: str = ""
    adds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Built:
    source: str                     # the full module
    changed: tuple[str, ...]        # reference definitions the overlay replaces, in overlay order
    adds: tuple[str, ...]           # new top-level names appended
    header: Header


def parse_header(source: str) -> Header:
    """The ``# mutant:``, ``# expect:`` and ``# adds:`` lines of the leading comment block."""
    found: dict[str, str] = {}
    for line in source.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        m = _HEADER_LINE.match(stripped)
        if m:
            found[m.group(1)] = m.group(2)
    adds = tuple(n for n in re.split(r"[\s,]+", found.get("adds", "")) if n)
    return Header(mutant=found.get("mutant", ""), expect=found.get("expect", ""), adds=adds)


# ---- top-level names ---------------------------------------------------------------
def _defined_name(node: ast.stmt) -> str | None:
    """The name a top-level def / class / simple assignment defines, else None."""
    if isinstance(node, _DEFINITIONS):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        return node.target.id
    return None


def _first_line(node: ast.stmt) -> int:
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _import_keys(node: ast.Import | ast.ImportFrom) -> list[tuple]:
    if isinstance(node, ast.Import):
        return [("import", a.name, a.asname) for a in node.names]
    return [("from", node.level, node.module, a.name, a.asname) for a in node.names]


def _parse(source: str, what: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise MutantError(f"{what} is not valid Python (line {exc.lineno}): {exc.msg}") from None


def top_level_definitions(tree: ast.Module) -> dict[str, list[ast.stmt]]:
    found: dict[str, list[ast.stmt]] = {}
    for node in tree.body:
        name = _defined_name(node)
        if name is not None:
            found.setdefault(name, []).append(node)
    return found


# ---- the builder -------------------------------------------------------------------
def build(reference_source: str, overlay_source: str, name: str) -> str:
    """The full module of mutant ``name``: the reference with the overlay's definitions in
    place of its own.  Raises :class:`MutantError` naming the mutant and the definition."""
    return build_mutant(reference_source, overlay_source, name).source


def build_mutant(reference_source: str, overlay_source: str, name: str) -> Built:
    def fail(message: str):
        raise MutantError(f"mutant {name}: {message}")

    header = parse_header(overlay_source)
    ref_tree = _parse(reference_source, "the reference")
    try:
        over_tree = ast.parse(overlay_source)
    except SyntaxError as exc:
        fail(f"not valid Python (line {exc.lineno}): {exc.msg}")
    ref_lines = reference_source.splitlines(keepends=True)
    if ref_lines and not ref_lines[-1].endswith("\n"):
        ref_lines[-1] += "\n"
    over_lines = overlay_source.splitlines(keepends=True)
    ref_defs = top_level_definitions(ref_tree)

    # sort the overlay's statements into imports and definitions; anything else is refused
    imports: list[ast.Import | ast.ImportFrom] = []
    definitions: list[tuple[str, ast.stmt]] = []
    small_edits: dict[str, list[Edit]] = {}
    for i, node in enumerate(over_tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(node)
            continue
        try:
            found = parse_edit(node)
        except EditError as exc:
            fail(str(exc))
        if found is not None:
            small_edits.setdefault(found.target, []).append(found)
            continue
        if i == 0 and _is_docstring(node):
            continue
        defined = _defined_name(node)
        if defined is None:
            fail(f"line {node.lineno}: an overlay holds only imports, edit(...) calls and top-level "
                 f"def / class / NAME = ... definitions, not {type(node).__name__} statements")
        definitions.append((defined, node))

    seen: set[str] = set()
    for defined, node in definitions:
        if defined in seen:
            fail(f"defines {defined} twice")
        seen.add(defined)
    for added in header.adds:
        if added in ref_defs:
            fail(f"'# adds: {added}', but the reference defines {added}: drop it from '# adds:' "
                 f"(the overlay's {added} replaces the reference's)")
        if added not in seen:
            fail(f"'# adds: {added}', but the overlay does not define {added}")

    edits: list[tuple[int, int, str]] = []        # (start index, end index exclusive, new text), 0-based lines
    changed: list[str] = []
    ref_statements = ref_tree.body

    def reference_definition(defined: str, verb: str) -> tuple[ast.stmt, int, int]:
        """The reference's one top-level definition of ``defined``, and its line span."""
        targets = ref_defs.get(defined)
        if not targets:
            fail(f"{verb} {defined}, which the reference no longer defines"
                 + (" (list it in '# adds:' if it is a new helper)" if verb == "redefines" else ""))
        if len(targets) > 1:
            fail(f"the reference defines {defined} {len(targets)} times at top level; cannot tell which to change")
        target = targets[0]
        start, end = _first_line(target), target.end_lineno
        index = ref_statements.index(target)
        neighbours = ref_statements[index - 1:index] + ref_statements[index + 1:index + 2]
        if any(n.end_lineno >= start and n.lineno <= end for n in neighbours):
            fail(f"the reference's {defined} shares a line with another statement; cannot replace it")
        return target, start, end

    for defined, node in definitions:
        if defined in header.adds:
            continue
        target, start, end = reference_definition(defined, "redefines")
        if type(target) is not type(node) and not {type(target), type(node)} <= {ast.Assign, ast.AnnAssign}:
            kinds = {ast.FunctionDef: "a function", ast.AsyncFunctionDef: "a function", ast.ClassDef: "a class"}
            fail(f"{defined} is {kinds.get(type(target), 'an assignment')} in the reference but "
                 f"{kinds.get(type(node), 'an assignment')} in the overlay")
        if normalised(target) == normalised(node):
            fail(f"copies {defined} unchanged: drop it from the overlay")
        edits.append((start - 1, end, _segment(over_lines, node)))
        changed.append(defined)
    for defined, its in small_edits.items():
        if defined in seen:
            fail(f"both redefines and edits {defined}: keep one of the two")
        target, start, end = reference_definition(defined, "edits")
        try:
            text = apply_edits("".join(ref_lines[start - 1:end]), its)
            new = ast.parse(text).body
        except EditError as exc:
            fail(str(exc))
        except SyntaxError as exc:
            fail(f"the edits of {defined} leave it invalid Python (line {exc.lineno} of {defined}): {exc.msg}")
        if len(new) != 1 or _defined_name(new[0]) != defined:
            fail(f"the edits of {defined} must leave one definition of {defined}")
        if normalised(target) == normalised(new[0]):
            fail(f"the edits of {defined} change only comments or layout")
        edits.append((start - 1, end, text if text.endswith("\n") else text + "\n"))
        changed.append(defined)

    # imports the reference does not already have, after the reference's imports
    have = {key for node in ref_statements if isinstance(node, (ast.Import, ast.ImportFrom))
            for key in _import_keys(node)}
    future, plain = [], []
    for node in imports:
        keep = [alias for alias, key in zip(node.names, _import_keys(node)) if key not in have]
        have.update(_import_keys(node))
        if keep:
            new = copy.copy(node)
            new.names = keep
            (future if isinstance(node, ast.ImportFrom) and node.module == "__future__" else plain).append(
                ast.unparse(new) + "\n")
    if future:
        after = [n for n in ref_statements if _is_docstring(n) and n is ref_statements[0]
                 or isinstance(n, ast.ImportFrom) and n.module == "__future__"]
        at = after[-1].end_lineno if after else 0
        edits.append((at, at, "".join(future)))
    if plain:
        ref_imports = [n for n in ref_statements if isinstance(n, (ast.Import, ast.ImportFrom))]
        if ref_imports:
            at = ref_imports[-1].end_lineno
        else:
            leading = [n for n in ref_statements[:1] if _is_docstring(n)]
            at = leading[0].end_lineno if leading else 0
        edits.append((at, at, "".join(plain)))

    # new helpers after the reference's last definition
    added_text = "".join("\n\n" + _segment(over_lines, node) for defined, node in definitions
                         if defined in header.adds)
    if added_text:
        defs = [n for n in ref_statements if _defined_name(n) is not None]
        at = defs[-1].end_lineno if defs else len(ref_lines)
        edits.append((at, at, added_text))

    lines = list(ref_lines)
    # apply from the bottom up; at one position, later-listed inserts go first so that
    # imports stay above definitions
    order = sorted(range(len(edits)), key=lambda i: (edits[i][0], edits[i][1], i), reverse=True)
    for start, end, text in (edits[i] for i in order):
        lines[start:end] = [text]
    source = "".join(lines)
    if not source.endswith("\n"):
        source += "\n"
    trailer = [f"# ---- built by autograder.mutants: mutant {name}, replacing "
               f"{', '.join(changed) or 'nothing'}" + (f", adding {', '.join(header.adds)}" if header.adds else "")]
    trailer += [f"# {key}: {value}" for key, value in (("mutant", header.mutant), ("expect", header.expect)) if value]
    source += "\n" + "\n".join(trailer) + "\n"

    result_tree = _parse(source, f"mutant {name} (built)")
    if normalised(result_tree, in_place=True) == normalised_source(reference_source):
        fail("changes nothing: the built module equals the reference")
    try:
        compile(source, f"<mutant {name}>", "exec")
    except SyntaxError as exc:         # e.g. a misplaced __future__ import
        fail(f"the built module does not compile (line {exc.lineno}): {exc.msg}")
    return Built(source=source, changed=tuple(changed), adds=tuple(header.adds), header=header)


def _segment(lines: list[str], node: ast.stmt) -> str:
    """The full lines of ``node`` (decorators included), with the comment lines directly
    above it (not the header)."""
    start = _first_line(node) - 1
    while start > 0:
        above = lines[start - 1].strip()
        if not above.startswith("#") or _HEADER_LINE.match(above):
            break
        start -= 1
    text = "".join(lines[start:node.end_lineno])
    return text if text.endswith("\n") else text + "\n"


# ---- helpers for the registry ------------------------------------------------------
def build_file(assignment, overlay: Path) -> Built:
    """Build ``overlay`` (a file in ``assignment.mutants_dir``) against today's reference."""
    overlay = Path(overlay)
    return build_mutant(assignment.solution_path.read_text(encoding="utf-8"),
                        overlay.read_text(encoding="utf-8"), f"{assignment.id}/{overlay.stem}")


if __name__ == "__main__":
    from autograder.mutants_cli import main
    raise SystemExit(main())
