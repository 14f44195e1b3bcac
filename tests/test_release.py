"""Release archives (issue 8): student zip + notebook, Gradescope zip, otter zip, the leak
scanner and reproducible bytes.  End-to-end tests use a1_cnn; leak checks cover every
registered assignment."""
from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import ROOT, registry, release
from autograder.release import Entry, LeakError, build_release, scan_for_leaks, student_entries

AID = "a1_cnn"
PY = sys.executable


def _a():
    return registry.get(AID)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unzip(zip_path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


def _run(cmd, cwd, env=None, timeout=900):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def _chunks(path: Path) -> dict[str, str]:
    header, chunks, _ = release._stub_chunks(path.read_text(encoding="utf-8"))
    return dict(chunks)


def partial_notebook(built: Path, tmp: Path) -> str:
    """The notebook handout solved with the reference except conv2d (still the stub), check
    cells included: a partial submission that also exercises notebook grading."""
    folder = _unzip(built / f"{AID}-student.zip", tmp / "partial-handout") / AID
    nb = _notebook_with_reference(folder / f"{AID}.ipynb")
    stub_conv2d = _chunks(_a().stub_path)["conv2d"]
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "".join(cell["source"]).startswith("def conv2d("):
            cell["source"] = stub_conv2d
    return json.dumps(nb)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The archives, built by the command line the CI workflow runs."""
    out = tmp_path_factory.mktemp("dist")
    proc = _run([PY, "grade.py", "release", AID, "--out", str(out)], ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    names = sorted(f"{AID}-{k}.zip" for k in ("student", "gradescope", "otter"))
    assert sorted(p.name for p in out.iterdir()) == names
    assert sorted(Path(line.strip()).name for line in proc.stdout.splitlines() if line.strip()) == names
    return out


# ---- student zip ---------------------------------------------------------------------
def test_student_zip_has_handout_helpers_and_nothing_secret(built):
    a = _a()
    with zipfile.ZipFile(built / f"{AID}-student.zip") as zf:
        names = set(zf.namelist())
        contents = {n: zf.read(n) for n in names}
    expected = {f"{AID}/{AID}.py", f"{AID}/{AID}.ipynb", f"{AID}/conftest.py", f"{AID}/run_checks.py",
                f"{AID}/pytest.ini", f"{AID}/grade.py", f"{AID}/assignment.json",
                f"{AID}/shared/__init__.py", f"{AID}/shared/adapter.py", f"{AID}/shared/feedback.py"}
    expected |= {f"{AID}/{p.name}" for p in a.public_tests()}
    if (a.handout_dir / "README.md").is_file():
        expected.add(f"{AID}/README.md")
    assert expected <= names
    assert contents[f"{AID}/{AID}.py"] == a.stub_path.read_bytes()
    assert not [n for n in names if "solutions" in n or "autograder" in n or "mutants" in n or "suites" in n]
    secret = {hashlib.sha256(p.read_bytes()).hexdigest()
              for root in (ROOT / "solutions", registry.SUITES_DIR) for p in root.rglob("*.py") if p.read_bytes().strip()}
    assert not [n for n, d in contents.items() if hashlib.sha256(d).hexdigest() in secret]
    # every shared module a public test imports is shipped
    for test in a.public_tests():
        for node in ast.walk(ast.parse(test.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shared."):
                assert f"{AID}/{node.module.replace('.', '/')}.py" in names, node.module


@pytest.fixture()
def unzipped(built, tmp_path) -> Path:
    return _unzip(built / f"{AID}-student.zip", tmp_path) / AID


def test_public_checks_pass_on_reference_and_fail_on_stub(unzipped):
    assert _a().public_tests(), "a1_cnn has public tests"
    stub = _run([PY, "run_checks.py"], unzipped)
    assert stub.returncode == 1, stub.stdout[-3000:]
    assert "NotImplementedError" in stub.stdout and " failed" in stub.stdout
    shutil.copy(_a().solution_path, unzipped / f"{AID}.py")
    ref = _run([PY, "-m", "pytest", "-q", "test_public.py"], unzipped)     # the plain pytest way too
    assert ref.returncode == 0, ref.stdout[-3000:]
    assert " passed" in ref.stdout and "failed" not in ref.stdout
    # the handout's grade.py check runs the same checks on a given path
    other = unzipped / "elsewhere"
    other.mkdir()
    shutil.copy(_a().stub_path, other / f"{AID}.py")
    assert _run([PY, "grade.py", "check", AID, str(other / f"{AID}.py")], unzipped).returncode == 1


def _notebook_with_reference(nb_path: Path) -> dict:
    """The handout notebook with every function cell replaced by the reference's code."""
    a = _a()
    nb = json.loads(nb_path.read_text())
    ref_source = a.solution_path.read_text(encoding="utf-8")
    ref = _chunks(a.solution_path)
    first = True
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or "check" in cell["metadata"].get("tags", []):
            continue
        src = "".join(cell["source"])
        names = [n.name for n in ast.parse(src).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        if first:                       # imports cell: the whole reference (helpers included)
            cell["source"], first = ref_source, False
        elif names:
            cell["source"] = ref[names[0]]
    return nb


NOTEBOOK_DRIVER = r"""
import json, sys
import run_checks
seen = []
original = run_checks.check
def spy(function, namespace):
    seen.append([function, original(function, namespace)])
run_checks.check = spy
nb = json.load(open(sys.argv[1]))
ns = {"__name__": "__main__"}
for cell in nb["cells"]:
    if cell["cell_type"] == "code":
        exec(compile("".join(cell["source"]), "<cell>", "exec"), ns)
print("CHECKS=" + json.dumps(seen))
"""


def _checks_in_kernel(folder: Path, nb_name: str) -> dict:
    proc = _run([PY, "-c", NOTEBOOK_DRIVER, nb_name], folder)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("CHECKS=")]
    assert line, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dict(json.loads(line[0].removeprefix("CHECKS=")))


def test_notebook_handout_cells_and_checks(unzipped):
    import nbformat
    a = _a()
    nb_path = unzipped / f"{AID}.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    readme = (a.handout_dir / "README.md").read_text(encoding="utf-8")
    assert readme.splitlines()[0] in markdown and readme.strip().splitlines()[-1] in markdown
    checks = [c for c in code if "check" in c.metadata.get("tags", [])]
    public = a.functions + a.classes                 # one check cell per graded function or class
    assert sorted(c.source.split("check(")[1].split(",")[0].strip("'\"") for c in checks) == sorted(public)
    # the code cells without check cells are the stub, function by function
    stub = _chunks(a.stub_path)
    for name in public:
        assert any(c.source == stub[name] for c in code), name

    # in the kernel: the stub fails every check, the reference passes every check (a function
    # without public tests runs none: its check says so and returns None)
    tested = {fn for fn in public if any(f"student.{fn}(" in t.read_text() for t in a.public_tests())}
    assert len(tested) >= 5, tested
    assert _checks_in_kernel(unzipped, nb_path.name) == {fn: False if fn in tested else None for fn in public}
    (unzipped / "solved.ipynb").write_text(json.dumps(_notebook_with_reference(nb_path)))
    assert _checks_in_kernel(unzipped, "solved.ipynb") == {fn: True if fn in tested else None for fn in public}
    # the saved notebook, converted as the grader does
    assert _run([PY, "run_checks.py", "--notebook", "solved.ipynb"], unzipped).returncode == 0


def test_check_cells_do_nothing_when_graded(unzipped):
    """Converted to a module (not __main__) or under the grader, a check cell runs no tests."""
    nb = json.loads((unzipped / f"{AID}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "check" in c["metadata"].get("tags", []))
    assert "otter_ignore" in cell["metadata"]["tags"]
    script = ("import sys, run_checks\n"
              "run_checks.check = lambda *a: sys.exit('check ran')\n"
              f"exec({''.join(cell['source'])!r}, {{'__name__': 'submission_module'}})\n"
              "print('quiet')")
    proc = _run([PY, "-c", script], unzipped)
    assert proc.returncode == 0 and "quiet" in proc.stdout, proc.stderr
    proc = _run([PY, "-c", "import run_checks; print(run_checks.check('conv2d', {'__name__': '__main__'}))"],
                unzipped, env={"DL_AUTOGRADER_GRADING": "1"})
    assert proc.stdout.strip() == "None"


# ---- leak scanner --------------------------------------------------------------------
def test_every_registered_student_archive_is_clean():
    secrets = release.collect_secrets()
    for a in registry.all_assignments():
        if a.stub_path.is_file():
            assert scan_for_leaks(student_entries(a), a, secrets) == [], a.id


def test_scanner_catches_a_reference_function_pasted_into_the_handout():
    a = _a()
    entries = student_entries(a)
    ref_text = a.solution_path.read_text()
    conv2d = next(n for n in ast.parse(ref_text).body if isinstance(n, ast.FunctionDef) and n.name == "conv2d")
    lines = ref_text.splitlines()
    start = conv2d.body[1].lineno if ast.get_docstring(conv2d) else conv2d.body[0].lineno
    body = "\n".join(lines[start - 1:conv2d.end_lineno])
    # renamed, another docstring, a comment added: still the same body
    pasted = ("\n\n# a helpful example\ndef my_helper(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):\n"
              '    """Not the reference, honest."""\n    # my own idea\n' + body + "\n")
    stub_name = f"{AID}/{AID}.py"
    leaked = [Entry(e.arcname, e.data + pasted.encode(), e.executable, None) if e.arcname == stub_name else e
              for e in entries]
    findings = scan_for_leaks(leaked, a)
    assert any(stub_name in f and "conv2d" in f and "solutions/" in f for f in findings), findings
    # the same body inside a README code block or a notebook cell is caught too
    nb = {"cells": [{"cell_type": "code", "source": pasted, "metadata": {}}]}
    more = [Entry(f"{AID}/notes.md", f"```python\n{pasted}\n```\n".encode()),
            Entry(f"{AID}/extra.ipynb", json.dumps(nb).encode())]
    findings = scan_for_leaks(entries + more, a)
    assert any("notes.md" in f for f in findings) and any("extra.ipynb" in f for f in findings), findings


def test_scanner_ignores_trivial_bodies():
    src = ('def a(x):\n    """doc"""\n    raise NotImplementedError("Task 1.1: a")\n'
           "def b():\n    pass\n"
           "def c():\n    ...\n"
           "def d(x):\n    return x * 2 + 1\n")
    names = sorted(n for names in release.function_fingerprints(src).values() for n in names)
    assert names == ["d"]


def test_scanner_catches_solution_suite_and_mutant_files():
    a = _a()
    entries = student_entries(a)
    mutant = next(p for s in registry.all_assignments() for p in s.mutants())
    suite_file = next(p for p in sorted(a.suite_dir.glob("test_*.py")))
    planted = [
        Entry(f"{AID}/copied.py", a.solution_path.read_bytes()),                         # same bytes
        Entry(f"{AID}/m.py", mutant.read_bytes() + b"\n# renamed\n"),                   # bytes differ: function bodies
        Entry(f"{AID}/{suite_file.name}", suite_file.read_bytes(), source=suite_file),  # a hidden suite file
    ]
    findings = scan_for_leaks(entries + planted, a)
    assert any("copied.py" in f and "same content" in f for f in findings), findings
    assert any("m.py" in f and "mutants" in f for f in findings), findings
    assert any(suite_file.name in f and "copied from autograder/suites" in f for f in findings), findings


def test_scanner_catches_mutant_overlays_and_built_mutants_however_reformatted():
    """A mutant is stored as edit(...) calls (which quote the reference) and graded as the
    module it builds to: both are secrets, whatever the quotes, layout or file name."""
    from autograder.mutants import build_file
    a = _a()
    mutant = a.mutants_dir / "bias_per_tap.py"
    call = next(n for n in ast.parse(mutant.read_text()).body if isinstance(n, ast.Expr))
    requoted = "# my notes\nedit(" + ",\n     ".join(repr(arg.value) for arg in call.value.args) + ")\n"
    built = build_file(a, mutant).source.replace("# mutant:", "# note:")
    planted = [Entry(f"{AID}/notes.py", requoted.encode()), Entry(f"{AID}/extra.py", built.encode())]
    findings = scan_for_leaks(student_entries(a) + planted, a)
    assert any(f.startswith(f"{AID}/notes.py: edit('conv2d', ...) is the mutant overlay's "
                            f"autograder/suites/{AID}/mutants/bias_per_tap.py") for f in findings), findings
    assert any(f.startswith(f"{AID}/extra.py: the body of conv2d() equals") and "bias_per_tap.py (built)" in f
               for f in findings), findings
    assert scan_for_leaks(student_entries(a), a) == []


def test_release_refuses_and_writes_nothing_on_a_leak(monkeypatch, tmp_path):
    a = _a()
    original = release.student_entries

    def leaky(assignment):
        return original(assignment) + [release._file(assignment.solution_path, f"{assignment.id}/solution.py")]

    monkeypatch.setattr(release, "student_entries", leaky)
    with pytest.raises(LeakError) as err:
        build_release([AID], tmp_path / "out")
    assert "solution.py" in str(err.value.message) and "solutions/a1_cnn/a1_cnn.py" in err.value.message
    assert not (tmp_path / "out").exists()
    # through the command line: a clear message and a non-zero exit
    from click.testing import CliRunner
    from autograder.cli import main
    result = CliRunner().invoke(main, ["release", AID, "--out", str(tmp_path / "cli")])
    assert result.exit_code == 1 and "leak" in result.output and "solution.py" in result.output
    assert not (tmp_path / "cli").exists()


# ---- release safety (issues 12.11, 12.12) --------------------------------------------
def _cli(args):
    from click.testing import CliRunner
    from autograder.cli import main
    return CliRunner().invoke(main, ["release", *args])


def _one_line_error(result) -> str:
    """The CLI's message for a refused release: exit 1, one line, no traceback."""
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.fixture()
def quick_release(monkeypatch):
    """build_release without collecting the hidden suite for otter (a few seconds saved)."""
    items = [{"id": "1.4/conv2d_matches", "name": "conv2d matches", "number": "1.4.1", "task": "1.4", "points": 1.0,
              "visibility": "hidden",
              "cuda": False}]
    original = release.otter_entries
    monkeypatch.setattr(release, "otter_entries", lambda a: original(a, items))


def test_existing_zips_are_replaced_only_with_force(tmp_path, quick_release):
    out = tmp_path / "dist"
    out.mkdir()
    (out / f"{AID}-student.zip").write_bytes(b"last term's handout")
    message = _one_line_error(_cli([AID, "--out", str(out)]))
    assert f"{AID}-student.zip" in message and "--force" in message
    assert f"{AID}-otter.zip" not in message                      # only the ones that exist are named
    assert sorted(p.name for p in out.iterdir()) == [f"{AID}-student.zip"]
    assert (out / f"{AID}-student.zip").read_bytes() == b"last term's handout"
    result = _cli([AID, "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{AID}-{k}.zip" for k in ("gradescope", "otter", "student"))
    with zipfile.ZipFile(out / f"{AID}-student.zip") as zf:
        assert f"{AID}/{AID}.py" in zf.namelist()
    # a second run without --force names all three
    message = _one_line_error(_cli([AID, "--out", str(out)]))
    assert all(f"{AID}-{k}.zip" in message for k in ("student", "gradescope", "otter"))


@pytest.mark.parametrize("inside", ["assignments", f"assignments/{AID}/dist", "solutions/x", "autograder/suites/out",
                                    "shared/dist"])
def test_out_inside_a_zipped_tree_is_refused(inside, tmp_path):
    target = ROOT / inside
    existed = target.exists()
    message = _one_line_error(_cli([AID, "--out", str(target)]))
    tree = inside.split("/")[0]
    assert f"inside {tree}/" in message and "dist/" in message
    assert target.exists() == existed                              # nothing created
    # through a link from outside, too
    link = tmp_path / "sneaky"
    link.symlink_to(ROOT / "assignments" / AID, target_is_directory=True)
    assert "inside assignments/" in _one_line_error(_cli([AID, "--out", str(link / "dist")]))
    assert not (ROOT / "assignments" / AID / "dist").exists()


def test_out_that_cannot_be_created_is_one_line(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    message = _one_line_error(_cli([AID, "--out", str(blocker / "dist")]))
    assert "cannot create --out" in message and "a-file" in message
    # a read-only place (as root, permissions do not stop mkdir: simulate the OS refusing it)
    def refuse(self, *args, **kwargs):
        raise PermissionError(30, "Read-only file system", str(self))
    monkeypatch.setattr(release, "student_entries", lambda a: [Entry(f"{a.id}/x.py", b"x = 1\n")])
    monkeypatch.setattr(release, "gradescope_entries", lambda a: [])
    monkeypatch.setattr(release, "otter_entries", lambda a: [])
    monkeypatch.setattr(Path, "mkdir", refuse)
    message = _one_line_error(_cli([AID, "--out", str(tmp_path / "ro" / "dist")]))
    assert "cannot create --out" in message and "Read-only file system" in message


def test_student_zip_is_built_from_the_allowed_list(tmp_path, monkeypatch):
    """A stray file in assignments/<id>/ (notes, last term's zips) never reaches the student zip."""
    a = _a()
    handout = tmp_path / "assignments" / AID
    shutil.copytree(a.handout_dir, handout, ignore=shutil.ignore_patterns("__pycache__"))
    (handout / "README.ko.md").write_text("# 과제 1\n\n한국어 안내\n", encoding="utf-8")
    (handout / "notes_for_TAs.txt").write_text("the answer is in solutions/\n")
    (handout / "conftest.py").write_text("raise SystemExit('an instructor conftest must not ship')\n")
    (handout / "old").mkdir()
    with zipfile.ZipFile(handout / "old" / f"{AID}-gradescope.zip", "w") as zf:
        zf.write(a.solution_path, f"solutions/{AID}/{AID}.py")
    monkeypatch.setattr(registry.Assignment, "handout_dir", property(lambda self: handout))
    entries = student_entries(a)
    names = {e.arcname.removeprefix(f"{AID}/") for e in entries}
    expected = {f"{AID}.py", "README.md", "README.ko.md", *(p.name for p in a.public_tests()),
                "conftest.py", "pytest.ini", "run_checks.py", "grade.py", "assignment.json", "requirements.txt",
                f"{AID}.ipynb"}
    assert {n for n in names if not n.startswith("shared/")} == expected
    assert "shared/handout.py" in names                            # run_checks.py imports it
    conftest = next(e for e in entries if e.arcname == f"{AID}/conftest.py")
    assert b"SystemExit" not in conftest.data                       # the generated one, not the stray one
    assert release.left_out(a) == ["conftest.py", "notes_for_TAs.txt", f"old/{AID}-gradescope.zip"]
    # the Korean README is in the notebook after the English one
    nb = json.loads(next(e for e in entries if e.arcname.endswith(".ipynb")).data)
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    english_first_line = (a.handout_dir / "README.md").read_text(encoding="utf-8").splitlines()[0]
    assert text.index("한국어 안내") > text.index(english_first_line)


def test_scanner_opens_nested_archives():
    import gzip
    import io
    import tarfile
    a = _a()
    entries = student_entries(a)
    solution = a.solution_path.read_bytes()
    mutant = next(p for s in registry.all_assignments() for p in s.mutants())

    def tar_gz(files: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tf:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    def zipped(files: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name, data in files.items():
                zf.writestr(name, data)
        return buf.getvalue()

    planted = [
        # a zip holding a tar.gz holding the reference (renamed, so only its bytes tell)
        Entry(f"{AID}/data/extras.zip", zipped({"inner/bundle.tar.gz": tar_gz({"helpers.py": solution})})),
        # a single gzip of a mutant with one line changed (function bodies tell), under a misleading name
        Entry(f"{AID}/weights.bin", gzip.compress(mutant.read_bytes() + b"\n# edited\n", mtime=0)),
        Entry(f"{AID}/broken.zip", b"PK\x03\x04" + b"\x00" * 40),
    ]
    findings = scan_for_leaks(entries + planted, a)
    assert any(f.startswith(f"{AID}/data/extras.zip!/inner/bundle.tar.gz!/helpers.py has the same content as "
                            f"solutions/{AID}/{AID}.py") for f in findings), findings
    assert any(f.startswith(f"{AID}/weights.bin!/weights.bin: ") and "mutants/" in f for f in findings), findings
    assert any(f.startswith(f"{AID}/broken.zip looks like an archive but cannot be opened") for f in findings)
    # archives of handout material are fine
    clean = [Entry(f"{AID}/stub.tar.gz", tar_gz({f"{AID}.py": a.stub_path.read_bytes()})),
             Entry(f"{AID}/stub.zip", zipped({f"{AID}.py": a.stub_path.read_bytes()}))]
    assert scan_for_leaks(entries + clean, a) == []


# ---- symbolic links in the platforms' run scripts (issue 11.5) -----------------------
def _outside_secret(tmp: Path) -> Path:
    secret = tmp / "elsewhere" / "secret.py"
    secret.parent.mkdir(parents=True)
    secret.write_text("def conv2d(*a, **k):\n    return 'TOP-SECRET-42'\n")
    return secret


def test_gradescope_run_refuses_links_in_the_upload(built, tmp_path):
    source = _unzip(built / f"{AID}-gradescope.zip", tmp_path / "autograder" / "source")
    secret = _outside_secret(tmp_path)
    for case in ("file", "folder"):
        root = tmp_path / f"ag-{case}"
        (root / "submission").mkdir(parents=True)
        if case == "file":
            (root / "submission" / f"{AID}.py").symlink_to(secret)
        else:
            shutil.copy(_a().stub_path, root / "submission" / f"{AID}.py")
            (root / "submission" / "helpers").symlink_to(secret.parent, target_is_directory=True)
        proc = _run([PY, str(source / "dl_run.py"), "--root", str(root)], source, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        res = json.loads((root / "results" / "results.json").read_text())
        assert res["score"] == 0 and "is a symbolic link" in res["output"], res["output"]
        assert "TOP-SECRET-42" not in json.dumps(res)
    # regular files are graded from a private copy, found by the handout rule
    upload = tmp_path / "upload"
    (upload / "work").mkdir(parents=True)
    shutil.copy(_a().stub_path, upload / "work" / f"{AID}.py")
    (upload / "work" / "helpers.py").write_text("K = 1\n")
    (upload / "work" / "conftest.py").write_text("")
    script = ("import runpy, sys; from pathlib import Path\n"
              "ns = runpy.run_path('dl_run.py')\n"
              f"p = ns['find_submission'](Path(sys.argv[1]), {AID!r})\n"
              "print(p); print(sorted(q.relative_to(p).as_posix() for q in p.rglob('*') if q.is_file()))")
    proc = _run([PY, "-c", script, str(upload)], source, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    chosen, listing = proc.stdout.strip().splitlines()
    assert Path(chosen) != upload and not Path(chosen).exists()      # a private copy, removed at exit
    assert ast.literal_eval(listing) == [f"work/{AID}.py", "work/conftest.py", "work/helpers.py"]


FAKE_DL_RUN = r"""
import argparse, json
from pathlib import Path
p = argparse.ArgumentParser(); p.add_argument("--submission"); p.add_argument("--results"); p.add_argument("--root")
args = p.parse_args()
sub = Path(args.submission)
Path(__file__).with_name("seen.json").write_text(json.dumps(sorted(
    q.relative_to(sub).as_posix() for q in sub.rglob("*") if q.is_file())))
Path(args.results).write_text(json.dumps({"tests": [
    {"number": "1.1.1", "name": "x", "status": "passed", "score": 1.0, "max_score": 1.0,
     "extra_data": {"id": "1.1/x"}}]}))
"""


def test_otter_bridge_refuses_links_and_grades_a_private_copy(tmp_path):
    """The bridge (a template) with a stand-in for dl_run.py that records what it was given."""
    source = tmp_path / "source"
    (source / "shared").mkdir(parents=True)
    shutil.copy(ROOT / "shared" / "handout.py", source / "shared" / "handout.py")
    (source / "release.json").write_text(json.dumps({"assignment": AID, "module": AID}))
    (source / "dl_run.py").write_text(FAKE_DL_RUN)
    secret = _outside_secret(tmp_path)

    def run_bridge(files: dict[str, str | Path]) -> tuple[subprocess.CompletedProcess, Path]:
        ag = tmp_path / f"ag{len(list(tmp_path.glob('ag*')))}"
        sub = ag / "submission"
        bridge = sub / release.BRIDGE_PATH
        bridge.parent.mkdir(parents=True)
        shutil.copy(release.TEMPLATES / "otter_bridge.py", bridge)
        (sub / "tests" / "task_1_1.py").write_text("OK_FORMAT = True\n")          # otter's files
        (sub / "__init__.py").write_text("")
        (ag / "results").mkdir()
        for name, content in files.items():
            if isinstance(content, Path):
                (sub / name).symlink_to(content)
            else:
                (sub / name).write_text(content)
        (source / "seen.json").unlink(missing_ok=True)
        proc = _run([PY, "-c", f"import runpy; print('PASSED', runpy.run_path({str(bridge)!r})['passed']('1.1/x'))"],
                    ag, env={"DL_AUTOGRADER_SOURCE": str(source)}, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc, source / "seen.json"

    proc, seen = run_bridge({f"{AID}.py": secret})
    assert "PASSED False" in proc.stdout and "is a symbolic link" in proc.stdout and not seen.exists()
    proc, seen = run_bridge({f"{AID}.py": "x = 1\n", "data.txt": secret})
    assert "PASSED False" in proc.stdout and "data.txt is a symbolic link" in proc.stdout and not seen.exists()
    assert "TOP-SECRET-42" not in proc.stdout
    proc, seen = run_bridge({f"{AID}.py": "x = 1\n", "helper.py": "y = 2\n"})
    assert "PASSED True" in proc.stdout, proc.stdout
    assert json.loads(seen.read_text()) == [f"{AID}.py", "helper.py"]      # otter's tests/ and __init__.py left out


# ---- reproducibility -----------------------------------------------------------------
def test_same_tree_gives_byte_identical_zips(tmp_path):
    # two builds back to back (the tree must not change in between)
    first = build_release([AID], tmp_path / "one")
    second = build_release([AID], tmp_path / "two")
    assert [p.name for p in first] == [p.name for p in second]
    assert [_sha(p) for p in first] == [_sha(p) for p in second]
    with zipfile.ZipFile(first[1]) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in infos}
    assert modes["run_autograder"] == modes["setup.sh"] == 0o755
    assert {m for n, m in modes.items() if n not in ("run_autograder", "setup.sh")} == {0o644}
    assert all(i.extra == b"" for i in infos)


# ---- Gradescope ----------------------------------------------------------------------
_GS_CACHE: dict[str, dict] = {}


def gradescope_grade(built: Path, tmp: Path, kind: str) -> dict:
    """Grade one submission with run_autograder in a folder laid out like /autograder."""
    if kind in _GS_CACHE:
        return _GS_CACHE[kind]
    root = tmp / f"gs-{kind}" / "autograder"
    _unzip(built / f"{AID}-gradescope.zip", root / "source")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    source = {"reference": _a().solution_path, "stub": _a().stub_path}[kind]
    shutil.copy(source, root / "submission" / f"{AID}.py")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")    # as Gradescope does
    proc = _run(["bash", str(root / "run_autograder")], tmp,
                env={"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": PY})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "warning: grading with" not in proc.stderr          # the archive's engine, not the checkout's
    _GS_CACHE[kind] = json.loads((root / "results" / "results.json").read_text())
    return _GS_CACHE[kind]


@pytest.mark.slow
def test_gradescope_zip_grades_reference_full_and_stub_zero(built, tmp_path_factory):
    import jsonschema
    from autograder.results import RESULTS_SCHEMA
    with zipfile.ZipFile(built / f"{AID}-gradescope.zip") as zf:
        names = set(zf.namelist())
        reqs = zf.read("requirements.txt").decode()
    assert {"setup.sh", "run_autograder", "dl_run.py", f"solutions/{AID}/{AID}.py", "autograder/engine.py",
            f"autograder/suites/{AID}/assignment.toml", "shared/compare.py"} <= names
    assert "torch==2.13.0" in reqs.splitlines()
    assert not [n for n in names if "/mutants/" in n or (n.startswith("autograder/suites/") and n.count("/") > 2
                                                          and n.split("/")[2] != AID)]
    tmp = tmp_path_factory.mktemp("gradescope")
    ref, stub = gradescope_grade(built, tmp, "reference"), gradescope_grade(built, tmp, "stub")
    for res in (ref, stub):
        jsonschema.validate(res, RESULTS_SCHEMA)
        assert res["extra_data"]["assignment"] == AID
    assert ref["max_score"] > 0 and ref["score"] == ref["max_score"], ref["output"]
    assert stub["score"] == 0 and stub["max_score"] == ref["max_score"]


# ---- otter-grader --------------------------------------------------------------------
def _otter_total(zip_path: Path, submission: Path, out: Path) -> float:
    out.mkdir(parents=True, exist_ok=True)
    otter = Path(PY).parent / "otter"
    proc = _run([str(otter), "run", "-a", str(zip_path), "-o", str(out), "--no-logo", str(submission)],
                submission.parent)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.loads((out / "results.json").read_text())
    return round(sum(t.get("score", 0) or 0 for t in res["tests"] if "max_score" in t), 6)


@pytest.mark.slow
def test_otter_run_gives_the_same_totals_as_grade_submission(built, tmp_path_factory):
    pytest.importorskip("otter")
    pytest.importorskip("ipykernel", reason="otter run executes submissions in a Jupyter kernel")
    from autograder.engine import grade_submission
    tmp = tmp_path_factory.mktemp("otter")
    with zipfile.ZipFile(built / f"{AID}-otter.zip") as zf:
        names = set(zf.namelist())
    assert {"otter_config.json", release.BRIDGE_PATH} <= names and any(n.startswith("tests/task_") for n in names)
    subs = {}
    for kind, (text, suffix) in {"reference": (_a().solution_path.read_text(), ".py"),
                                 "stub": (_a().stub_path.read_text(), ".py"),
                                 "partial": (partial_notebook(built, tmp), ".ipynb")}.items():
        (tmp / kind).mkdir()
        subs[kind] = tmp / kind / f"{AID}{suffix}"
        subs[kind].write_text(text)
    engine = {"partial": grade_submission(AID, subs["partial"], tmp / "engine-partial" / "results.json")}
    gs = tmp_path_factory.mktemp("gradescope-for-otter")
    engine["reference"] = gradescope_grade(built, gs, "reference")      # run_autograder = grade_submission
    engine["stub"] = gradescope_grade(built, gs, "stub")
    assert 0 < engine["partial"]["score"] < engine["reference"]["score"]
    for kind, sub in subs.items():
        total = _otter_total(built / f"{AID}-otter.zip", sub, tmp / f"out-{kind}")
        assert total == pytest.approx(engine[kind]["score"]), kind


# ---- CI workflow ---------------------------------------------------------------------
def test_release_workflow_runs_the_local_release_command():
    import yaml
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    on = wf.get("on", wf.get(True))            # YAML 1.1 reads the key `on` as True
    assert "tags" in on["push"]
    steps = [s for job in wf["jobs"].values() for s in job["steps"]]
    text = "\n".join(s.get("run", "") for s in steps)
    assert any(s.get("uses", "").startswith("actions/setup-python") and str(s["with"]["python-version"]) == "3.11"
               for s in steps)
    assert "torch==2.13.0" in text and "install" in text and " -e . " in text
    assert "python grade.py release --out dist/" in text
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload and upload[0]["with"]["path"].rstrip("/") == "dist"
