"""Submission loading: every kind a student can hand in, and every way it can be broken."""
import zipfile

import pytest

from autograder.submission import LoadError, materialize, notebook_to_source


def test_py_file_is_copied_as_the_module(tmp_path):
    src = tmp_path / "alice.py"
    src.write_text("def f():\n    return 1\n")
    out = materialize(src, "a1_cnn", tmp_path / "sub")
    assert out.name == "a1_cnn.py" and out.read_text() == src.read_text()


def test_folder_with_helper_module(tmp_path):
    folder = tmp_path / "bob" / "nested"
    folder.mkdir(parents=True)
    (folder / "a1_cnn.py").write_text("from helpers import k\n")
    (folder / "helpers.py").write_text("k = 3\n")
    (tmp_path / "bob" / "__MACOSX").mkdir()
    out = materialize(tmp_path / "bob", "a1_cnn", tmp_path / "sub")
    assert out.read_text() == "from helpers import k\n"
    assert (out.parent / "helpers.py").read_text() == "k = 3\n"


def test_zip_is_unpacked_and_never_escapes(tmp_path):
    archive = tmp_path / "carol.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("carol/a1_cnn.py", "x = 1\n")
        zf.writestr("../evil.py", "boom = 1\n")
    out = materialize(archive, "a1_cnn", tmp_path / "sub")
    assert out.read_text() == "x = 1\n"
    assert not (tmp_path / "evil.py").exists()


def test_notebook_code_cells_without_magics(tmp_path, notebook_factory):
    nb = notebook_factory(tmp_path / "dave.ipynb", [
        "%matplotlib inline\n!pip install numpy\nimport math",
        "%%time\nslow()",
        "files = !ls\ndef f():\n    return math.pi",
    ])
    source = notebook_to_source(nb)
    assert "import math" in source and "def f():" in source
    assert "%matplotlib" not in source and "!pip" not in source and "slow()" not in source and "!ls" not in source
    out = materialize(nb, "a1_cnn", tmp_path / "sub")
    namespace = {}
    exec(compile(out.read_text(), "nb", "exec"), namespace)
    assert namespace["f"]() == pytest.approx(3.14159, rel=1e-5)


@pytest.mark.parametrize("name, content, expected", [
    ("syntax.py", "def f(:\n    pass\n", "syntax error in syntax.py at line 1"),
    ("notjson.ipynb", "this is not json", "not a valid notebook: it is not JSON"),
    ("corrupt.zip", "PK\x03\x04 definitely not a zip", "not a valid zip file"),
    ("report.pdf", "%PDF-1.4", "unsupported submission type '.pdf'"),
])
def test_bad_submissions_name_the_problem(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(LoadError) as info:
        materialize(path, "a1_cnn", tmp_path / "sub")
    assert expected in str(info.value)


def test_missing_file_and_folder_without_module(tmp_path):
    with pytest.raises(LoadError, match="does not exist"):
        materialize(tmp_path / "nope.py", "a1_cnn", tmp_path / "sub")
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.txt").write_text("hi")
    (folder / "a.py").write_text("")
    (folder / "b.py").write_text("")
    with pytest.raises(LoadError, match="no a1_cnn.py found in the submission"):
        materialize(folder, "a1_cnn", tmp_path / "sub2")


def test_zip_with_a_bad_member_is_reported(tmp_path):
    archive = tmp_path / "truncated.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a1_cnn.py", "x = 1\n" * 1000)
    data = bytearray(archive.read_bytes())
    start = data.index(b"a1_cnn.py") + len("a1_cnn.py")
    data[start + 5:start + 40] = b"\x00" * 35          # damage the compressed stream
    archive.write_bytes(bytes(data))
    with pytest.raises(LoadError) as info:
        materialize(archive, "a1_cnn", tmp_path / "sub")
    assert "truncated.zip" in str(info.value)
