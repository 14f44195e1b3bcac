"""Edits: the small form of a mutant overlay (see :mod:`autograder.mutants`).

Most mutants change a line or two of one definition.  Instead of carrying the whole
changed definition, an overlay may say only what changes, as a top-level call::

    edit("conv2d", "out = out + bias.view(1, -1, 1, 1)",
                   "out = out + bias.view(1, -1, 1, 1) * (kh * kw)")

    edit("lstm_cell", '''
    c = f * c_prev + i * g
    ''', '''
    c = i * g
    ''')

``edit(NAME, OLD, NEW)`` changes the reference's top-level definition NAME:

* OLD without a newline is a piece of one line; NEW replaces it (NEW is one line too).
* OLD with a newline is a block of whole lines (blank lines around it are ignored).  OLD
  and NEW are written at one common indentation; OLD is found at any indentation in NAME
  and NEW is indented the same way.  An empty NEW deletes the lines.
* OLD must occur exactly once in NAME (as the earlier edits of the overlay left it): an
  edit whose OLD is gone or ambiguous is an error that names the mutant, the definition
  and the text, so a change to the reference never silently changes what a mutant tests.

The calls are read from the syntax tree, never executed.  :func:`compact` turns a full
changed definition into the fewest such edits (``python -m autograder.mutants compact``).
"""
from __future__ import annotations

import ast
import difflib
import io
import textwrap
import tokenize
from dataclasses import dataclass

from autograder.astnorm import normalised

__all__ = ["Edit", "EditError", "edit_arguments", "parse_edit", "apply_edits", "compact", "format_edits"]


class EditError(ValueError):
    """An edit that does not apply to today's reference."""


@dataclass(frozen=True)
class Edit:
    target: str
    old: str
    new: str
    lineno: int = 0

    @property
    def is_block(self) -> bool:
        return "\n" in self.old or "\n" in self.new


def edit_arguments(node: ast.AST) -> tuple[str, str, str] | None:
    """(NAME, OLD, NEW) when ``node`` is a call ``edit("NAME", "OLD", "NEW")`` of three string
    literals, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "edit"):
        return None
    if node.keywords or len(node.args) != 3 or not all(
            isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args):
        return None
    return tuple(a.value for a in node.args)


def parse_edit(node: ast.stmt) -> Edit | None:
    """The :class:`Edit` a top-level ``edit("NAME", "OLD", "NEW")`` statement holds; None when
    ``node`` is not a call of ``edit``; :class:`EditError` when it is one with other arguments."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and node.value.func.id == "edit"):
        return None
    found = edit_arguments(node.value)
    if found is None:
        raise EditError(f"line {node.lineno}: write edit(\"NAME\", \"OLD\", \"NEW\") with three string literals")
    target, old, new = found
    if not old.strip():
        raise EditError(f"line {node.lineno}: the OLD text of edit({target!r}, ...) is empty")
    return Edit(target, old, new, node.lineno)


# ---- applying --------------------------------------------------------------------
def _block(text: str) -> list[str]:
    return text.strip("\n").splitlines() if text.strip() else []


def _shared_dedent(old: list[str], new: list[str]) -> tuple[list[str], list[str]]:
    """OLD and NEW without the indentation they share (they are written at one base);
    blank lines become ""."""
    indents = [line[:len(line) - len(line.lstrip())] for line in old + new if line.strip()]
    common = indents[0] if indents else ""
    for indent in indents[1:]:
        while not indent.startswith(common):
            common = common[:-1]
    lines = [line[len(common):] if line.strip() else "" for line in old + new]
    return lines[:len(old)], lines[len(old):]


def _find_block(lines: list[str], old: list[str]) -> list[tuple[int, str]]:
    """Every (start, indent) where ``old`` matches whole lines of ``lines``."""
    found = []
    first = next(k for k, line in enumerate(old) if line.strip())
    for i in range(len(lines) - len(old) + 1):
        anchor = lines[i + first]
        if not anchor.endswith(old[first]):
            continue
        indent = anchor[:len(anchor) - len(old[first])]
        if indent.strip():
            continue
        if all((not o.strip() and not line.strip()) or line == indent + o
               for o, line in zip(old, lines[i:i + len(old)])):
            found.append((i, indent))
    return found


def _apply_one(text: str, edit: Edit) -> str:
    where = f"edit of {edit.target} (line {edit.lineno})" if edit.lineno else f"edit of {edit.target}"
    if not edit.is_block:
        count = text.count(edit.old)
        if count != 1:
            raise EditError(_not_unique(where, edit.target, edit.old, count))
        return text.replace(edit.old, edit.new)
    lines = text.splitlines()
    old, new = _shared_dedent(_block(edit.old), _block(edit.new))
    if not old:
        raise EditError(f"{where}: OLD has no lines")
    found = _find_block(lines, old)
    if len(found) != 1:
        raise EditError(_not_unique(where, edit.target, "\n".join(old), len(found)))
    start, indent = found[0]
    lines[start:start + len(old)] = [indent + n if n.strip() else "" for n in new]
    return "\n".join(lines) + "\n"


def _not_unique(where: str, target: str, old: str, count: int) -> str:
    shown = old if len(old) < 200 else old[:200] + "..."
    if count == 0:
        return (f"{where}: the reference's {target} no longer contains {shown!r} "
                f"(was the reference changed? update the mutant)")
    return f"{where}: {shown!r} occurs {count} times in {target}; give more of the line (or a neighbouring line)"


def apply_edits(text: str, edits: list[Edit]) -> str:
    """``text`` (the source of one definition) with ``edits`` applied in order."""
    for edit in edits:
        text = _apply_one(text, edit)
    return text


# ---- compacting a full definition into edits -----------------------------------------------
def _normal(source: str) -> str:
    try:
        return normalised(ast.parse(textwrap.dedent(source)), in_place=True)
    except SyntaxError:
        return ""


def _code_lines(source: str) -> list[tuple[int, str]]:
    """(line index, the line without its comment) of every line of ``source`` that holds code."""
    cut: dict[int, int] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                cut[tok.start[0] - 1] = tok.start[1]
    except (tokenize.TokenError, SyntaxError):
        pass
    out = []
    for i, line in enumerate(source.splitlines()):
        code = line[:cut.get(i, len(line))].rstrip()
        if code.strip():
            out.append((i, code))
    return out


def compact(target: str, reference: str, mutant: str) -> list[Edit] | None:
    """The fewest edits that turn ``reference`` (the source of definition ``target``) into a
    definition that behaves like ``mutant``.  The two are compared as code (comments and
    comment lines left out); hunks that change only docstrings or layout are dropped, and
    each kept hunk takes neighbouring unchanged lines until its OLD is unique.  None when no
    such edits exist (keep the whole definition then)."""
    ref_lines = reference.splitlines()
    ref, mut = _code_lines(reference), _code_lines(mutant)
    hunks = [op[1:] for op in difflib.SequenceMatcher(None, [c for _, c in ref], [c for _, c in mut],
                                                      autojunk=False).get_opcodes() if op[0] != "equal"]
    goal = _normal(mutant)

    def hunk_edit(i1: int, i2: int, j1: int, j2: int) -> Edit:
        new = [code for _, code in mut[j1:j2]]
        if i2 - i1 == 1 and len(new) == 1:
            a, b = ref[i1][1], new[0]
            if len(a) - len(a.lstrip()) == len(b) - len(b.lstrip()):
                return Edit(target, a.strip(), b.strip())
        # OLD: whole reference lines, comments included, from the first to the last code line
        old = ref_lines[ref[i1][0]:ref[i2 - 1][0] + 1] if i2 > i1 else []
        old, new = _shared_dedent(old, new)
        return Edit(target, "\n".join(old) + "\n" if old else "", "\n".join(new) + "\n" if new else "")

    def edits_for(kept) -> list[Edit] | None:
        out, text = [], reference
        lo_i = lo_j = 0
        for n, (i1, i2, j1, j2) in enumerate(kept):
            # unchanged lines between the previous kept hunk and the next hunk may join this one
            hi_i, hi_j = (kept[n + 1][0], kept[n + 1][2]) if n + 1 < len(kept) else (len(ref), len(mut))
            while True:
                edit = hunk_edit(i1, i2, j1, j2)
                if edit.old.strip():
                    try:
                        text_after = _apply_one(text, edit)
                        break
                    except EditError:
                        pass
                if i1 <= lo_i and i2 >= hi_i:
                    return None
                if i1 > lo_i and j1 > lo_j:
                    i1, j1 = i1 - 1, j1 - 1
                if i2 < hi_i and j2 < hi_j:
                    i2, j2 = i2 + 1, j2 + 1
            out.append(edit)
            text, lo_i, lo_j = text_after, i2, j2
        return out

    def behaves(edits) -> bool:
        return edits is not None and _normal(apply_edits(reference, edits)) == goal

    kept = list(hunks)
    for hunk in hunks:                        # drop the hunks the behaviour does not need
        trial = [h for h in kept if h != hunk]
        if trial and behaves(edits_for(trial)):
            kept = trial
    edits = edits_for(kept)
    return edits if behaves(edits) else None


def _quoted(text: str) -> str:
    """``text`` as a string literal, in double quotes where that needs no escapes."""
    if '"' not in text and "\\" not in text and text.isprintable():
        return f'"{text}"'
    return repr(text)


def _literal(text: str) -> str:
    if "\n" in text:
        for quote in ('"""', "'''"):
            if quote not in text and not text.endswith("\\"):
                return f"r{quote}\n{text}{quote}"
    return _quoted(text)


def format_edits(edits: list[Edit], width: int = 100) -> str:
    """The ``edit(...)`` statements of ``edits``, one after the other."""
    out = []
    for edit in edits:
        args = [_quoted(edit.target), _literal(edit.old), _literal(edit.new)]
        one_line = f"edit({', '.join(args)})"
        if "\n" not in one_line and len(one_line) <= width:
            out.append(one_line)
        elif not edit.is_block and len(f"edit({args[0]}, {args[1]},") <= width:
            pad = " " * len(f"edit({args[0]}, ")
            out.append(f"edit({args[0]}, {args[1]},\n{pad}{args[2]})")
        else:
            out.append(f"edit({args[0]}, {args[1]}, {args[2]})")
    return "\n".join(out) + "\n"
