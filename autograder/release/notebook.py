"""The notebook handout ``<id>.ipynb``: the README in markdown cells, the stub one code
cell per function or class, and after each public one a check cell."""
from __future__ import annotations

import ast
import re

from autograder import __version__, registry
from shared.handout import CHECK_TAGS

# tags of the notebook's check cells: the grader, run_checks --notebook and otter drop them
CHECK_CELL_TAGS = list(CHECK_TAGS)


def readme_sections(text: str) -> list[str]:
    """README split before every level-1/2/3 heading (outside fenced code)."""
    sections, current, fenced = [], [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and re.match(r"#{1,3} ", line) and any(x.strip() for x in current):
            sections.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    if any(x.strip() for x in current):
        sections.append("\n".join(current).strip("\n"))
    return sections


def stub_chunks(source: str) -> tuple[str, list[tuple[str, str]], str]:
    """(header, [(name, source of each top-level def/class)], trailer) of a module."""
    tree = ast.parse(source)
    lines = source.splitlines()
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    if not defs:
        return source.strip("\n"), [], ""

    def start(node):
        return min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1

    header = "\n".join(lines[:start(defs[0])]).strip("\n")
    chunks = []
    for i, node in enumerate(defs):
        end = start(defs[i + 1]) if i + 1 < len(defs) else node.end_lineno
        chunks.append((node.name, "\n".join(lines[start(node):end]).strip("\n")))
    trailer = "\n".join(lines[defs[-1].end_lineno:]).strip("\n")
    return header, chunks, trailer


def check_cell_source(name: str) -> str:
    return (f"# Check {name}: runs the public tests for it on the definitions above, in this kernel.\n"
            "# (Only in Jupyter: skipped when this notebook is graded.)\n"
            "if __name__ == \"__main__\":\n"
            "    from run_checks import check\n"
            f"    check({name!r}, globals())")


def make_notebook(a: registry.Assignment) -> bytes:
    """The notebook handout: README text in markdown cells, the stub split into one code
    cell per function or class, and after each public one a check cell."""
    import nbformat
    from nbformat import v4

    stub = a.stub_path.read_text(encoding="utf-8")
    readme_path = a.handout_dir / "README.md"
    readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else f"# {a.title}\n"
    korean_path = a.handout_dir / "README.ko.md"           # bilingual handouts: the Korean text follows
    korean = korean_path.read_text(encoding="utf-8") if korean_path.is_file() else ""
    header, chunks, trailer = stub_chunks(stub)
    public = set(a.functions) | set(a.classes)

    cells = []

    def md(text):
        cells.append(v4.new_markdown_cell(text))

    def code(text, tags=None):
        cell = v4.new_code_cell(text)
        if tags:
            cell.metadata["tags"] = list(tags)
        cells.append(cell)

    md(f"**How to use this notebook.** The handout text (`README.md`) comes first, then your code: "
       f"one code cell per function. After each function, its *check cell* runs the public tests for "
       f"it on what you defined in this notebook. Keep this notebook next to the other files of the "
       f"handout (`run_checks.py`, `test_public.py`, `shared/`).\n\n"
       f"Submit either this notebook or `{a.module}.py`. Public tests passing does not mean full "
       f"marks: the grader also runs hidden tests. `python run_checks.py --notebook {a.module}.ipynb` "
       f"checks the saved notebook exactly as it will be graded (code cells only; check cells, "
       f"`%magic` and `!shell` lines and `%%` cells are left out).")
    for section in readme_sections(readme):
        md(section)
    if korean.strip():
        md("---\n\n**한국어 안내** (`README.ko.md`): the same handout text in Korean.")
        for section in readme_sections(korean):
            md(section)
    md(f"## Your code\n\nThe cells below are `{a.module}.py`: run the first one (imports), then "
       "implement each function and run its check cell.")
    if header:
        code(header)
    for name, src in chunks:
        node = next(n for n in ast.parse(src).body if getattr(n, "name", None) == name)
        doc = (ast.get_docstring(node) or "").strip().splitlines()
        md(f"### `{name}`" + (f": {doc[0]}" if doc else ""))
        code(src)
        if name in public:
            code(check_cell_source(name), CHECK_CELL_TAGS)
    if trailer:
        code(trailer)

    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:03d}"            # nbformat would draw random ids
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "dl_autograder": {"assignment": a.id, "module": a.module, "grader_version": __version__},
    })
    nbformat.validate(nb)
    return nbformat.writes(nb).encode("utf-8") + b"\n"
