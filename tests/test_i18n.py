"""Korean and English: the feedback in both languages, catalogues that match the sources,
bilingual handouts, and a grading run in Korean.

The catalogues (docs/authoring.md, "Translations"): ``shared`` (``shared/`` and the public
tests; ships to students) and ``autograder`` (the results lines and the hidden suites'
hints).  Each is extracted here exactly as the documented ``pybabel extract`` does it.
"""
from __future__ import annotations

import ast
import html
import json
import math
import os
import re
import string
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from autograder import ROOT, registry, results, runspec
from autograder.mutants import build_file
from autograder.release.archive import zip_bytes
from autograder.release.notebook import heading_levels, make_notebook, readme_sections
from autograder.release.student import student_entries
from shared import feedback, i18n
from shared.compare import assert_close
from shared.feedback import Feedback
from shared.fingerprint import checksum
from shared.timing import SpeedReport, check_speed

HANGUL = re.compile(r"[\uac00-\ud7a3]")
PY = sys.executable

# domain -> (its folder, the paths `pybabel extract` reads); the same commands as docs/authoring.md
DOMAINS = {"shared": (ROOT / "shared" / "locale", ["shared", "assignments"]),
           "autograder": (ROOT / "autograder" / "locale", ["autograder"])}


@pytest.fixture(autouse=True)
def english_afterwards():
    """Every test here leaves the process-wide language as it found it (English)."""
    before = i18n.get_language()
    yield
    i18n.set_language(before)


def both(render) -> tuple[str, str]:
    """``render()`` in English and in Korean (a Feedback is rendered as its text)."""
    out = []
    for lang in ("en", "ko"):
        with i18n.language(lang):
            try:
                value = render()
            except Feedback as exc:
                value = exc
            out.append(str(value))
    return out[0], out[1]


def check_pair(en: str, ko: str, *values: str, english: str = "") -> None:
    assert english in en, en
    assert not HANGUL.search(en), en
    assert ko != en and HANGUL.search(ko), ko
    for value in values:
        assert value in en and value in ko, (value, en, ko)


# ---- every kind of message, in both languages ------------------------------------------------
FEEDBACK_KINDS = [
    (lambda: feedback.MissingFunction("conv2d", "a1_cnn"), ["conv2d", "a1_cnn.py"], "is not defined"),
    (lambda: feedback.NotImplementedYet("conv2d", "Task 1.4: conv2d"), ["conv2d", "Task 1.4: conv2d"], "stub"),
    (lambda: feedback.NotImplementedYet("conv2d"), ["conv2d"], "still the stub"),
    (lambda: feedback.StudentRaised("conv2d", "IndexError", "index 7 is out of bounds",
                                    "(line 12 of your a1_cnn.py: y = x[7])"),
     ["conv2d", "IndexError", "index 7 is out of bounds", "12", "a1_cnn.py", "y = x[7]"], "raised IndexError"),
    (lambda: feedback.StudentTimeout("conv2d", 12.5), ["conv2d", "12.5"], "timed out"),
    (lambda: feedback.StudentCrashed("conv2d", "killed by SIGKILL"), ["conv2d", "killed by SIGKILL"], "crashed"),
    (lambda: feedback.ForbiddenAPI("conv2d", "torch.nn.functional.conv2d", "line 30 of your a1_cnn.py"),
     ["conv2d", "torch.nn.functional.conv2d", "30", "a1_cnn.py"], "re-implement"),
    (lambda: feedback.Tampering("conv2d", "imports ctypes", "line 3 of your a1_cnn.py"),
     ["conv2d", "imports ctypes", "3", "a1_cnn.py"], "tamper"),
    (lambda: feedback.BadReturn("conv2d", "a generator"), ["conv2d", "a generator"], "cannot read"),
    (lambda: feedback.TimedOutEarlier("conv2d", 10), ["conv2d", "10"], "timed out after 10 s"),
    (lambda: feedback.TimedOutEarlier("conv2d"), ["conv2d"], "earlier in this grading"),
    (lambda: feedback.BudgetSpent(60), ["60"], "grading time"),
]


@pytest.mark.parametrize("make, values, english", FEEDBACK_KINDS,
                         ids=[f"{k[0]().__class__.__name__}-{i}" for i, k in enumerate(FEEDBACK_KINDS)])
def test_each_feedback_kind_speaks_both_languages(make, values, english):
    en, ko = both(make)
    check_pair(en, ko, *values, english=english)
    assert "\nHint: " in en and "\n힌트: " in ko


def _ladder_cases():
    flat = torch.zeros(2, 3, dtype=torch.float64)
    off = flat.clone()
    off[1, 2] = 0.5
    nan = flat.clone()
    nan[0, 1] = math.nan
    return [
        ("type", [1.0, 2.0], torch.ones(2), ["list", "torch.Tensor"], "is a list; expected a torch.Tensor"),
        ("length", (1,), (1, 2), ["1", "2"], "has 1 elements; expected 2"),
        ("int", 5, 6, ["5", "6"], "is 5; expected 6"),
        ("float", 1.5, 2.0, ["1.5", "2", "0.5"], "abs error 0.5"),
        ("dtype", flat.float(), flat, ["torch.float32", "torch.float64"], "has dtype torch.float32"),
        ("shape", torch.zeros(3, 2, dtype=torch.float64), flat, ["(3, 2)", "(2, 3)"], "has shape (3, 2)"),
        ("device", torch.zeros(2, 3, dtype=torch.float64, device="meta"), flat, ["meta", "cpu"], "is on meta"),
        ("nan", nan, flat, ["1", "(0, 1)"], "NaN value(s)"),
        ("inf", flat + math.inf, flat, ["6"], "infinite value(s)"),
        ("values", off, flat, ["1", "6", "0.5", "(1, 2)"], "differs from the expected values"),
        ("int tensor", torch.tensor([1, 2, 4]), torch.tensor([1, 2, 3]), ["1", "3", "(2)", "4"], "at 1 of 3"),
    ]


@pytest.mark.parametrize("rung, actual, expected, values, english", _ladder_cases(),
                         ids=[c[0] for c in _ladder_cases()])
def test_each_ladder_rung_speaks_both_languages(rung, actual, expected, values, english):
    hint = i18n.N_("look for 0/0, log(0) or exp overflow")          # a catalogued hint, translated lazily
    en, ko = both(lambda: assert_close(actual, expected, name="conv2d output", hint=hint))
    check_pair(en, ko, "conv2d output", *values, english=english)
    assert "Hint: look for 0/0" in en and "힌트: 0/0" in ko


class _Timer:
    """A timer of the speed check that reports fixed times and a fixed result."""

    def __init__(self, seconds, result=(1.0, 2.0)):
        self.seconds, self.result = seconds, checksum(torch.tensor(result))

    def run(self, args, kwargs, timeout):
        return self.seconds, self.result

    def frozen(self):
        import contextlib
        return contextlib.nullcontext()

    def close(self):
        pass


def test_speed_messages_speak_both_languages():
    report = SpeedReport("conv2d", [0.002, 0.003], [0.0125, 0.013], 4.0)
    en, ko = both(report.summary)
    check_pair(en, ko, "conv2d", "12.50", "2.00", "6.25", "4", english="ms vs the reference's")
    en, ko = both(lambda: check_speed("conv2d", _Timer(0.05), _Timer(0.001), threshold=4.0, confirm=False))
    check_pair(en, ko, "conv2d", "50.00", "1.00", english="is too slow")
    wrong = _Timer(0.001, result=(1.0, 3.0))
    en, ko = both(lambda: check_speed("conv2d", wrong, _Timer(0.001), threshold=4.0, see='"2.1 conv2d matches"'))
    check_pair(en, ko, "conv2d", '"2.1 conv2d matches"', english="not timed")


def test_results_lines_speak_both_languages():
    a = registry.get("a2_lstm")
    tests = [{"name": "2.1 lstm_cell matches nn.LSTMCell", "score": 0.0, "max_score": 2.0, "status": "failed",
              "output": "your lstm_cell differs", "visibility": "after_due_date",
              "extra_data": {"task": "2.1", "kind": "correctness"}},
             {"name": "2.1 lstm_cell keeps the dtype", "score": 1.0, "max_score": 1.0, "status": "passed",
              "output": "", "visibility": "after_due_date", "extra_data": {"task": "2.1", "kind": "correctness"}}]
    en, ko = both(lambda: json.dumps(results._summaries(tests, a, "visible"), ensure_ascii=False))
    check_pair(en, ko, "2.1 lstm_cell", "2.1 lstm_cell matches nn.LSTMCell", "your lstm_cell differs",
               english="Task 2.1 lstm_cell: 1 of 3 points")
    tests[0]["visibility"] = "hidden"                       # never quoted
    en, ko = both(lambda: results._summaries(tests, a, "visible")[0]["output"])
    check_pair(en, ko, "1", "2", english="1 of 2 tests failed (their details are not shown)")
    en, ko = both(lambda: results.feedback_text(ValueError("too many values to unpack")))
    check_pair(en, ko, "ValueError", "too many values to unpack", english="could not use your result")
    en, ko = both(lambda: results.failure_results("a2_lstm", "bad zip", lang=i18n.get_language())["output"])
    check_pair(en, ko, "bad zip", english="could not be graded")
    with i18n.language("ko"):                  # the engine's language per submission, not the process's
        assert results.failure_results("a2_lstm", "bad zip", lang="en")["output"] == en
    assert results.failure_results("a2_lstm", "bad zip", lang="ko")["output"] == ko


def test_hints_are_translated_where_they_are_used():
    """A hint constant is defined at import (in English) and translated each time it is shown."""
    from autograder.suites.a2_lstm import hints
    from autograder.suites.a6_xai.test_pdp_lime import CENTERED_HINT
    for hint, term in ((hints.GATE_ORDER, "gate order"), (CENTERED_HINT, "c-ICE")):
        assert isinstance(hint, i18n.LazyText)
        en, ko = both(lambda: Feedback("your lstm_cell differs", hint))
        check_pair(en, ko, "lstm_cell", term, english=f"Hint: {str(hint)}")
    with i18n.language("ko"):
        assert "망각 게이트" in str(hints.GATE_ORDER) and "망각 게이트" in f"{hints.GATE_ORDER}"
        assert str(hints.GATE_ORDER + "!").endswith("!") and "망각 게이트" in hints.GATE_ORDER + "!"
    assert "forget gate" in str(hints.GATE_ORDER)


def test_language_is_checked():
    with pytest.raises(ValueError, match="unknown feedback language"):
        i18n.set_language("fr")
    assert i18n.get_language() == "en"


# ---- the catalogues match the sources ------------------------------------------------------
def _extract(domain: str, out: Path) -> dict[str, object]:
    _, inputs = DOMAINS[domain]
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "babel.cfg", "--no-wrap", "--sort-by-file",
                                    "--add-location=file", "-o", str(out), *inputs])
    finally:
        os.chdir(cwd)
    with out.open("rb") as fh:
        return {m.id: m for m in read_po(fh) if m.id}


def _fields(text: str) -> list[tuple[str, str]]:
    return sorted((name, spec or "") for _, name, spec, _ in string.Formatter().parse(text) if name is not None)


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_every_message_has_a_korean_translation(domain, tmp_path):
    localedir, _ = DOMAINS[domain]
    extracted = _extract(domain, tmp_path / f"{domain}.pot")
    assert extracted, "nothing extracted: is babel.cfg there?"
    with (localedir / f"{domain}.pot").open("rb") as fh:
        committed_pot = {m.id for m in read_po(fh) if m.id}
    assert committed_pot == set(extracted), (
        f"{domain}.pot is out of date: run the extract/update/compile commands of docs/authoring.md "
        f"(new: {sorted(set(extracted) - committed_pot)[:5]}, gone: {sorted(committed_pot - set(extracted))[:5]})")
    with (localedir / "ko" / "LC_MESSAGES" / f"{domain}.po").open("rb") as fh:
        catalog = read_po(fh)
    po = {m.id: m for m in catalog if m.id}
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems, f"Babel's checks (the ones pybabel compile runs) fail: {problems[:3]}"
    untranslated = [i for i in extracted if i not in po or not po[i].string or po[i].fuzzy]
    assert not untranslated, f"{len(untranslated)} messages without a Korean translation, e.g. {untranslated[:5]}"
    for msgid in extracted:
        assert _fields(po[msgid].string) == _fields(msgid), (msgid, po[msgid].string)   # same placeholders


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_compiled_catalogue_matches_the_po(domain):
    localedir, _ = DOMAINS[domain]
    folder = localedir / "ko" / "LC_MESSAGES"
    with (folder / f"{domain}.po").open("rb") as fh:
        po = {m.id: m.string for m in read_po(fh) if m.id and m.string and not m.fuzzy}
    with (folder / f"{domain}.mo").open("rb") as fh:
        mo = {m.id: m.string for m in read_mo(fh) if m.id}
    assert mo == po, f"{domain}.mo is not compiled from {domain}.po: run pybabel compile (docs/authoring.md)"


def _python_files():
    for top in ("shared", "autograder", "assignments"):
        yield from (p for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts)


def test_messages_are_literal_lazy_at_import_and_underscore_is_never_shadowed():
    """``_()`` / ``N_()`` take one literal (an f-string's text is not a catalogue key); code
    that runs at import time translates nothing yet (no ``_()``, no ``N_(...).format()``: the
    warm grader imports the suites before it knows the language); and a function that calls
    ``_()`` never binds ``_`` itself (``x, _ = ...`` would shadow it)."""
    problems = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: _() at import time (use N_())")
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and isinstance(node.func.value, ast.Call) and isinstance(node.func.value.func, ast.Name) \
                        and node.func.value.func.id == "N_":
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: N_(...).{node.func.attr}() at import time")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_"):
                if len(node.args) != 1 or not (isinstance(node.args[0], ast.Constant)
                                               and isinstance(node.args[0].value, str)):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.func.id}() of a non-literal")
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_"
                            for n in ast.walk(node))
                binds = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)
                            for n in ast.walk(node))
                if calls and binds:
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name} binds _ and calls _()")
    assert not problems, "\n".join(problems)


# ---- bilingual handouts ------------------------------------------------------------------
def _fences(text: str) -> list[str]:
    return re.findall(r"^```.*?^```", text, flags=re.M | re.S)


@pytest.mark.parametrize("aid", [a.id for a in registry.all_assignments()])
def test_korean_handout_has_the_english_sections(aid):
    a = registry.get(aid)
    english = (a.handout_dir / "README.md").read_text(encoding="utf-8")
    path = a.handout_dir / "README.ko.md"
    assert path.is_file(), f"{aid} has no README.ko.md"
    korean = path.read_text(encoding="utf-8")
    en, ko = readme_sections(english), readme_sections(korean)
    assert heading_levels(ko) == heading_levels(en), "README.ko.md: not the same sections (levels, order)"
    for e, k in zip(en, ko):
        assert HANGUL.search(k), f"a section of README.ko.md is not in Korean: {k[:80]!r}"
        # signatures in headings, formulas and code blocks stay as they are
        assert re.findall(r"`[^`]+`", e.splitlines()[0]) == re.findall(r"`[^`]+`", k.splitlines()[0]), k[:80]
        assert _fences(e) == _fences(k), f"a code block differs in README.ko.md: {k[:80]!r}"


def test_notebook_pairs_each_korean_section_with_its_english_one():
    a = registry.get("a2_lstm")
    nb = json.loads(make_notebook(a))
    texts = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    english = readme_sections((a.handout_dir / "README.md").read_text(encoding="utf-8"))
    korean = readme_sections((a.handout_dir / "README.ko.md").read_text(encoding="utf-8"))
    for ko, en in zip(korean, english):
        i = texts.index(ko)
        assert texts[i + 1] == en
    assert HANGUL.search(texts[0]) and "How to use this notebook" in texts[1]


@pytest.mark.slow
def test_student_zip_gives_feedback_in_korean(tmp_path):
    """The student archive carries README.ko.md and the compiled catalogue, and its checks
    speak Korean with DL_LANG=ko (English otherwise)."""
    a = registry.get("a2_lstm")
    entries = student_entries(a)
    names = {e.arcname for e in entries}
    assert {f"{a.id}/README.ko.md", f"{a.id}/shared/i18n.py", f"{a.id}/shared/locale/ko/LC_MESSAGES/shared.mo"} <= names
    assert not [n for n in names if n.endswith((".po", ".pot")) or "autograder" in n]
    (tmp_path / "s.zip").write_bytes(zip_bytes(entries))
    with zipfile.ZipFile(tmp_path / "s.zip") as zf:
        zf.extractall(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("DL_LANG", "PYTHONPATH")}
    runs = {}
    for lang in ("ko", "en"):
        proc = subprocess.run([PY, "run_checks.py", "clip_grad_norm"], cwd=tmp_path / a.id, capture_output=True,
                              text=True, timeout=300, env={**env, "DL_LANG": lang})
        runs[lang] = proc.stdout + proc.stderr
        assert proc.returncode == 1, runs[lang][-2000:]
    assert "clip_grad_norm에서 NotImplementedError가 발생했습니다" in runs["ko"], runs["ko"][-2000:]
    assert "clip_grad_norm raised NotImplementedError" in runs["en"] and not HANGUL.search(runs["en"])


# ---- a grading run in Korean --------------------------------------------------------------
@pytest.mark.slow
def test_grading_with_lang_ko_writes_korean_feedback(tmp_path):
    """The a2_lstm suite on a submission with the LSTM gates in the wrong order, graded with
    ``"lang": "ko"`` in the run spec: results.json is in Korean and still carries the values."""
    a = registry.get("a2_lstm")
    submission = tmp_path / "a2_lstm.py"
    submission.write_text(build_file(a, a.suite_dir / "mutants" / "gate_order.py").source, encoding="utf-8")
    spec = runspec.make(a, str(submission), device="cpu", lang="ko", results=str(tmp_path / "results.json"))
    proc = subprocess.run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "autograder/suites/a2_lstm",
                           "-p", "autograder.plugin", "--ag-run", str(spec.write(tmp_path / "run.json")),
                           "-k", "lstm_cell and not speed"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert res["output"].startswith("점수: ") and "채점한 테스트" in res["output"]
    summary = next(t for t in res["tests"] if t["extra_data"]["kind"] == "summary")
    assert summary["name"].startswith("문제 2.1 lstm_cell: ") and "개가 실패했습니다" in summary["output"]
    failed = [t for t in res["tests"] if t["status"] == "failed" and t["extra_data"]["kind"] != "summary"]
    assert failed
    order = next(t for t in failed if "gate order" in t["tags"])
    assert "제출한 lstm_cell (h_next, c_next)" in order["output"] and "힌트: 게이트 순서(gate order)" in order["output"]
    assert "기대값과 다릅니다" in order["output"] and re.search(r"인덱스 \(\d+, \d+\): 제출한 값 -?\d", order["output"])
    assert not [t["output"] for t in failed if "Hint:" in t["output"]]


# ---- messages made outside the translated modules: load errors, crashes, pages ------------------
def test_load_errors_speak_the_language_of_the_batch(tmp_path):
    """A submission that cannot be loaded: the problem comes out in the run's language, which the
    engine passes in (its threads share one process-wide language), whatever the process's."""
    from autograder import engine
    from autograder.submission import LoadError, materialize
    a = registry.get("a1_cnn")
    broken = tmp_path / "a1_cnn.py"
    broken.write_text("import torch\n\ndef conv2d(x, w:\n    return x\n", encoding="utf-8")
    corrupt = tmp_path / "work.zip"
    corrupt.write_bytes(b"this is not a zip archive")
    odd = tmp_path / "a1_cnn.txt"
    odd.write_text("x = 1\n", encoding="utf-8")
    cases = [(broken, ["a1_cnn.py", "3", "'(' was never closed", "def conv2d(x, w:"],
              "syntax error in a1_cnn.py at line 3: '(' was never closed: def conv2d(x, w:"),
             (corrupt, ["work.zip", "File is not a zip file"], "work.zip is not a valid zip file"),
             (odd, ["a1_cnn.txt", "'.txt'"], "unsupported submission type '.txt'"),
             (tmp_path / "gone.py", ["gone.py"], "gone.py does not exist")]
    for i, (path, values, english) in enumerate(cases):
        with i18n.language("ko"):                   # the process's language is not the run's
            en, static = engine.load(a, path, tmp_path / f"en-{i}", lang="en")
        ko, static = engine.load(a, path, tmp_path / f"ko-{i}", lang="ko")
        check_pair(en, ko, *values, english=english)
        assert static == {}
    # LoadError itself: str() in the process's language (English unless set), text(lang) in any
    with pytest.raises(LoadError) as info:
        materialize(corrupt, "a1_cnn", tmp_path / "m")
    assert str(info.value) == info.value.text("en") and str(info.value).startswith("work.zip is not a valid zip")
    with i18n.language("ko"):
        assert str(info.value) == info.value.text("ko") != info.value.text("en")
    # threads of one process grading in different languages at once
    from concurrent.futures import ThreadPoolExecutor
    langs = ["en", "ko"] * 4
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda job: engine.load(a, broken, tmp_path / f"t{job[0]}", lang=job[1])[0],
                            enumerate(langs)))
    assert [bool(HANGUL.search(g)) for g in got] == [lang == "ko" for lang in langs], got


def test_tampering_findings_speak_the_language_of_the_batch(tmp_path):
    """The static check's findings are worded in the language it is given (the engine's: the
    batch's), else the process's (the in-process path of the plugin, which set it)."""
    from autograder.static_check import analyze
    (tmp_path / "m.py").write_text("import ctypes\n\n\ndef f(x):\n    return eval('x')\n", encoding="utf-8")
    with i18n.language("ko"):
        en = analyze(tmp_path, "m", [], lang="en")["*"]
    ko = analyze(tmp_path, "m", [], lang="ko")["*"]
    with i18n.language("ko"):
        assert analyze(tmp_path, "m", [])["*"] == ko
    assert sorted(f["what"] for f in en) == ["calls eval()", "imports ctypes"]
    assert sorted(f["where"] for f in ko) == sorted(f["where"] for f in en) == ["line 1 of your m.py",
                                                                              "line 5 of your m.py"]
    for e, k in zip(en, ko):
        check_pair(e["what"], k["what"], "ctypes" if "ctypes" in e["what"] else "eval()")
    first_en, first_ko = (next(f for f in found if "ctypes" in f["what"]) for found in (en, ko))
    with i18n.language("ko"):                       # as the grading process shows it
        shown = str(feedback.Tampering("f", first_ko["what"], first_ko["where"]))
    assert first_ko["what"] in shown and "제출한 m.py의 1번째 줄" in shown
    assert "your code imports ctypes (line 1 of your m.py)" in str(feedback.Tampering("f", first_en["what"],
                                                                                      first_en["where"]))


def test_crash_details_speak_the_language_of_the_run():
    """How a worker ended (shown in "your code crashed in ...") and a refused call-back, in the
    grading process's language."""
    import signal
    from autograder.isolation import process
    worker = process.WorkerProcess(ROOT / "m.py", "m", limits={}, slot=0, copy_folder=False, import_timeout=1.0)
    en, ko = both(worker.exit_detail)                               # never started
    check_pair(en, ko, english="the worker is gone")
    worker.pid, worker.returncode = 1, -int(signal.SIGKILL)         # no zygote: the status is taken as it is
    en, ko = both(lambda: feedback.StudentCrashed("conv2d", worker.exit_detail()))
    check_pair(en, ko, "conv2d", "SIGKILL", english="killed by SIGKILL (memory or process limit?)")
    worker.returncode = 3
    check_pair(*both(worker.exit_detail), "3", english="exited with code 3")
    too_many = np.zeros(process.CALLBACK_MAX_ELEMENTS + 1, dtype=bool)

    def refused():
        try:
            process._check_callback_args(((too_many,), {}))
        except ValueError as exc:
            return str(exc)
        return "accepted"
    en, ko = both(refused)
    check_pair(en, ko, str(process.CALLBACK_MAX_ELEMENTS + 1), str(process.CALLBACK_MAX_ELEMENTS),
               english=f"the grader refused to call back with {process.CALLBACK_MAX_ELEMENTS + 1} values in one call")


def test_feedback_page_speaks_its_own_language(tmp_path):
    """The page's words in the page's language, not the process's (one batch may serve courses in
    both); a hidden test quoted by a summary is replaced by a mark in that language too."""
    from autograder.instructor.feedback_page import write_feedback_page
    from tests.test_instructor_common import make_results, make_test
    hidden_output = "your conv2d output has shape (2, 2, 6, 6); expected (2, 2, 3, 5)."
    tests = [make_test("Task 1.4 conv2d: 2 of 7 points", "1.4", 0, 0, tags=("summary",),
                       output="1 of 3 tests failed. The first: 1.4 conv2d with dilation HIDDEN\n" + hidden_output,
                       extra={"kind": "summary", "task": "1.4"}),
             make_test("1.1 conv_output_size with int arguments", "1.1.1", 2, 2),
             make_test("1.4 conv2d matches F.conv2d", "1.4.2", 0, 2, "failed", output="your conv2d differs"),
             make_test("1.4 conv2d with dilation HIDDEN", "1.4.3", 0, 3, "failed", visibility="hidden",
                       output=hidden_output)]
    results = make_results(tests, output="Score: 2 / 7.")
    with i18n.language("en"):
        ko = write_feedback_page(results, tmp_path / "ko.html", lang="ko").read_text(encoding="utf-8")
    with i18n.language("ko"):
        en = write_feedback_page(results, tmp_path / "en.html", lang="en").read_text(encoding="utf-8")
    assert '<html lang="ko">' in ko and '<html lang="en">' in en
    for english, korean in (("<h1>Feedback</h1>", "<h1>피드백</h1>"),
                            ('class="passed">passed<', 'class="passed">통과<'),
                            ('class="failed">failed<', 'class="failed">실패<'),
                            ("[a test not shown]", "[공개되지 않은 테스트]"),
                            ("1 more test(s) are not shown here", "테스트가 1개 더 있습니다")):
        assert english in en and korean in ko, (english, korean)
    assert not HANGUL.search(en)
    for page in (en, ko):
        assert "HIDDEN" not in page and "(2, 2, 3, 5)" not in page
        assert "1.4 conv2d matches F.conv2d" in page and "your conv2d differs" in page
    results["visibility"] = "after_due_date"            # not yet visible: the page says so, in its language
    ko = write_feedback_page(results, tmp_path / "later.html", lang="ko").read_text(encoding="utf-8")
    assert "마감 후에 공개됩니다" in ko and 'id="tests"' not in ko and "your conv2d differs" not in ko


@pytest.mark.slow
def test_engine_grades_threads_of_one_batch_each_in_its_language(tmp_path):
    """Two submissions that cannot load, graded at once in threads of one process, one run in
    Korean and one in English: each results.json and feedback.html in its own language."""
    from concurrent.futures import ThreadPoolExecutor
    from autograder.engine import grade_submission
    broken = tmp_path / "a1_cnn.py"
    broken.write_text("import torch\n\ndef conv2d(x, w:\n    return x\n", encoding="utf-8")

    def grade(lang):
        return grade_submission("a1_cnn", broken, tmp_path / lang / "results.json", lang=lang, isolation="inprocess")
    with ThreadPoolExecutor(2) as pool:
        res = dict(zip(("ko", "en"), pool.map(grade, ("ko", "en"))))
    assert res["en"]["output"].startswith("Your submission could not be loaded: syntax error in a1_cnn.py at line 3")
    assert res["ko"]["output"].startswith("제출물을 불러올 수 없습니다: a1_cnn.py의 3번째 줄에 문법 오류")
    assert not HANGUL.search(json.dumps(res["en"], ensure_ascii=False))
    for lang in ("ko", "en"):
        assert res[lang]["score"] == 0 and res[lang]["max_score"] > 0
        failed = [t for t in res[lang]["tests"] if t["status"] == "failed"]
        assert failed and all(res[lang]["extra_data"]["load_error"] in t["output"] for t in failed)
        page = (tmp_path / lang / "feedback.html").read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in page and res[lang]["extra_data"]["load_error"] in html.unescape(page)
    assert "<h1>피드백</h1>" in (tmp_path / "ko" / "feedback.html").read_text(encoding="utf-8")
