"""The notebook handout ``<id>.ipynb``: the README in markdown cells, the stub one code
cell per function or class, and after each public one a check cell.

Bilingual: when the handout has a ``README.ko.md`` with the same sections as ``README.md``
(tests/test_i18n.py keeps them in step), every section comes in Korean followed by the
same section in English; the notebook's own instructions are in both languages."""
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


def heading_levels(sections: list[str]) -> list[int]:
    """The level of each section's heading (0: a section before the first heading)."""
    levels = []
    for section in sections:
        m = re.match(r"(#{1,3}) ", section)
        levels.append(len(m.group(1)) if m else 0)
    return levels


def paired_sections(english: str, korean: str) -> list[tuple[str, str]] | None:
    """(Korean, English) section pairs, or None when the two READMEs' sections differ."""
    en, ko = readme_sections(english), readme_sections(korean)
    if not ko or heading_levels(en) != heading_levels(ko):
        return None
    return list(zip(ko, en))


def check_cell_source(name: str) -> str:
    return (f"# Check {name}: runs the public tests for it on the definitions above, in this kernel.\n"
            f"# {name} 확인: 위에서 정의한 코드에 대해 공개 테스트를 이 커널에서 실행합니다.\n"
            "# (Only in Jupyter: skipped when this notebook is graded. 채점할 때는 실행되지 않습니다.)\n"
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

    md(f"**이 노트북 사용법.** 과제 안내문(`README.ko.md`, 영어 원문 `README.md`)이 먼저 나오고, 그다음에 "
       f"여러분의 코드가 나옵니다. 함수마다 코드 셀이 하나씩 있고, 각 함수 다음의 *확인 셀(check cell)*은 이 "
       f"노트북에서 정의한 코드에 대해 그 함수의 공개 테스트를 실행합니다. 이 노트북은 과제의 다른 파일들"
       f"(`run_checks.py`, `test_public.py`, `shared/`)과 같은 폴더에 두세요.\n\n"
       f"이 노트북 또는 `{a.module}.py` 중 하나를 제출하세요. 공개 테스트를 통과해도 만점이라는 뜻은 아닙니다: "
       f"채점기는 숨겨진 테스트도 실행합니다. `python run_checks.py --notebook {a.module}.ipynb`는 저장된 "
       f"노트북을 채점될 때와 똑같이 확인합니다 (코드 셀만 사용하며, 확인 셀, `%magic`과 `!shell` 줄, `%%` 셀은 "
       f"제외됩니다). 피드백을 한국어로 보려면 `DL_LANG=ko`를 설정하세요 (예: `DL_LANG=ko python run_checks.py`).")
    md(f"**How to use this notebook.** The handout text (`README.md`) comes first, then your code: "
       f"one code cell per function. After each function, its *check cell* runs the public tests for "
       f"it on what you defined in this notebook. Keep this notebook next to the other files of the "
       f"handout (`run_checks.py`, `test_public.py`, `shared/`).\n\n"
       f"Submit either this notebook or `{a.module}.py`. Public tests passing does not mean full "
       f"marks: the grader also runs hidden tests. `python run_checks.py --notebook {a.module}.ipynb` "
       f"checks the saved notebook exactly as it will be graded (code cells only; check cells, "
       f"`%magic` and `!shell` lines and `%%` cells are left out).")
    pairs = paired_sections(readme, korean) if korean.strip() else None
    if pairs:                                # each section in Korean, then the same section in English
        for ko, en in pairs:
            md(ko)
            md(en)
    else:                                    # no Korean handout, or one out of step: English, then Korean
        for section in readme_sections(readme):
            md(section)
        if korean.strip():
            md("---\n\n**한국어 안내** (`README.ko.md`): the same handout text in Korean.")
            for section in readme_sections(korean):
                md(section)
    md(f"## 여러분의 코드 (Your code)\n\n아래 셀들이 `{a.module}.py`입니다: 첫 셀(import)을 실행한 다음, "
       "함수를 하나씩 구현하고 그 확인 셀을 실행하세요.\n\n"
       f"The cells below are `{a.module}.py`: run the first one (imports), then "
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
