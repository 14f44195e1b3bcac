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


# ---- hostile uploads (issue: batches that never stop) -------------------------------------------
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _zip_bytes(members) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("name, make, expected", [
    ("deep.py", lambda p: p.write_text("x = " + " + ".join(["1"] * 200_000) + "\n"), "nested too deeply"),
    ("brackets.ipynb", lambda p: p.write_text("[" * 100_000), "brackets.ipynb"),
    ("clash.zip", lambda p: p.write_bytes(_zip_bytes([("x", "1"), ("x/a1_cnn.py", "y = 2\n")])), "as both a file"),
    ("deflate.zip", lambda p: p.write_bytes(_corrupt_deflate()), "corrupt"),
])
def test_the_four_uploads_that_crashed_a_batch_are_load_errors(tmp_path, name, make, expected):
    path = tmp_path / name
    make(path)
    with pytest.raises(LoadError) as info:
        materialize(path, "a1_cnn", tmp_path / "sub")
    assert expected in str(info.value)


def _corrupt_deflate() -> bytes:
    data = bytearray(_zip_bytes([("a1_cnn.py", "def f():\n    return 1\n" * 200)]))
    start = data.index(b"a1_cnn.py") + len("a1_cnn.py")
    data[start + 2:start + 30] = bytes(range(1, 29))              # garbage deflate data, CRC untouched
    return bytes(data)


def test_links_are_never_followed(tmp_path):
    secret = tmp_path / "secret_reference.py"
    secret.write_text("SECRET = 1\n")
    folder = tmp_path / "linked"
    folder.mkdir()
    (folder / "a1_cnn.py").symlink_to(secret)
    with pytest.raises(LoadError, match="symbolic link"):
        materialize(folder, "a1_cnn", tmp_path / "sub")
    other = tmp_path / "helper_link"
    other.mkdir()
    (other / "a1_cnn.py").write_text("x = 1\n")
    (other / "notes.py").symlink_to(secret)
    with pytest.raises(LoadError, match="symbolic link"):
        materialize(other, "a1_cnn", tmp_path / "sub2")
    direct = tmp_path / "direct.py"
    direct.symlink_to(secret)
    with pytest.raises(LoadError, match="symbolic link"):
        materialize(direct, "a1_cnn", tmp_path / "sub3")
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("a1_cnn.py")
        info.create_system = 3
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, str(secret))
    with pytest.raises(LoadError, match="symbolic link"):
        materialize(archive, "a1_cnn", tmp_path / "sub4")


notebooks = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(
        ["cells", "cell_type", "source", "metadata", "tags", "nbformat", "worksheets", "input"]), children, max_size=4),
    max_leaves=30)


@pytest.mark.filterwarnings("ignore:Duplicate name")
@settings(max_examples=150, deadline=None, derandomize=True)
@given(kind=st.sampled_from(["py", "ipynb", "zip", "folder"]), raw=st.binary(max_size=400), nb=notebooks,
       members=st.lists(st.tuples(st.sampled_from(["a1_cnn.py", "x", "x/a1_cnn.py", "a/b.py", "../up.py",
                                                   "a1_cnn.ipynb", "/abs.py", "a/", "__init__.py"]),
                                  st.binary(max_size=60)), max_size=5),
       corrupt=st.integers(min_value=0, max_value=300))
def test_the_loader_only_ever_raises_its_own_error(tmp_path_factory, kind, raw, nb, members, corrupt):
    """Random bytes, random zips (some corrupted) and random notebooks: materialize either
    returns a module file or raises LoadError, nothing else."""
    tmp = tmp_path_factory.mktemp("fuzz")
    if kind == "py":
        path = tmp / "s.py"
        path.write_bytes(raw)
    elif kind == "ipynb":
        path = tmp / "s.ipynb"
        path.write_text(json.dumps(nb) if corrupt % 2 else raw.decode("latin-1"))
    elif kind == "zip":
        data = bytearray(_zip_bytes(members))
        if corrupt and data:
            data[corrupt % len(data)] ^= 0xFF
        path = tmp / "s.zip"
        path.write_bytes(bytes(data))
    else:
        path = tmp / "folder"
        path.mkdir()
        for name, data in members:
            target = (path / name.strip("/")).resolve()
            if path.resolve() in target.parents and not name.endswith("/"):
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                except OSError:
                    pass
    try:
        out = materialize(path, "a1_cnn", tmp / "sub")
        assert out.is_file() and os.path.basename(out) == "a1_cnn.py"
    except LoadError as exc:
        assert str(exc)
