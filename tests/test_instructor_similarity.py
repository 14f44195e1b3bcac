"""The similarity check (autograder/instructor/similarity.py, `grade.py similarity`) and its
benchmark (benchmarks/similarity_speed.py)."""
from __future__ import annotations

import importlib.util
import random
import time

import pytest
from click.testing import CliRunner

from autograder import ROOT
from autograder.cli import main
from autograder.instructor.similarity import compare_batch, compare_sources, normalize, stub_source
from tests.test_instructor_common import a1_results, write_batch

STUB = stub_source("a1_cnn")
REFERENCE = (ROOT / "solutions" / "a1_cnn" / "a1_cnn.py").read_text()
EXAMPLES = ROOT / "examples" / "submissions" / "a1_cnn"


def _bench():
    spec = importlib.util.spec_from_file_location("similarity_speed", ROOT / "benchmarks" / "similarity_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ORIGINAL = '''
import torch


def scale(x, factor):
    """Multiply."""
    result = x * factor  # scale it
    return result


def total(values, start=0):
    acc = start
    for v in values:
        if v > 10:
            acc = acc + v * 2
        else:
            acc = acc - v
    return acc, len(values)
'''

RENAMED = '''
import torch

def total(nums, init=0):
    s = init
    for n in nums:
        if n > 99:
            s = s + n * 7
        else:
            s = (s - n)
    return (s, len(nums))

def scale(t, k):
    out = t * k
    return out
'''


def test_renaming_literals_comments_layout_and_parentheses_do_not_change_the_tokens():
    def function(src, name):
        start = src.index(f"def {name}(")
        end = src.find("\ndef ", start + 1)
        return src[start:end if end > 0 else None]
    assert normalize(function(ORIGINAL, "total"))[0] == normalize(function(RENAMED, "total"))[0]
    toks, lines = normalize("y = foo.bar(x, 3, 'a')  # note\n")
    assert toks == ["V", "=", "V", ".", "bar", "V", ",", "N", ",", "S", ";"]
    assert set(lines) == {1}
    assert normalize("def f(x:\n")[0][:3] == ["def", "V", "V"]          # not Python: still tokenised


def test_a_renamed_reordered_copy_scores_far_above_independent_work():
    bench = _bench()
    sources = {"original": REFERENCE, "copy": bench.vary(REFERENCE, random.Random(3)),
               "independent": (EXAMPLES / "correct.py").read_text(),
               "other_assignment": (ROOT / "solutions" / "a3_attention" / "a3_attention.py").read_text()}
    result = compare_sources(sources, STUB, top=10)
    first = result.pairs[0]
    assert {first.a, first.b} == {"original", "copy"} and first.score > 0.8
    others = [p.score for p in result.pairs[1:]]
    assert max(others) < 0.15


def test_the_stub_is_left_out():
    assert 'raise NotImplementedError("Task 1.3: receptive_field")' in STUB
    filled = STUB.replace('raise NotImplementedError("Task 1.3: receptive_field")',
                          "rf, jump = 1, 1\n    for layer in layers:\n        rf += (layer[0] - 1) * jump\n"
                          "        jump *= layer[1]\n    return rf")
    result = compare_sources({"stub_a": STUB, "stub_b": STUB, "filled": filled}, STUB)
    assert set(result.skipped) == {"stub_a", "stub_b"}                  # nothing of their own
    assert result.compared == ["filled"]
    assert result.pairs == []
    without_stub = compare_sources({"stub_a": STUB, "stub_b": STUB}, None)
    assert without_stub.pairs[0].score == 1.0                           # what the stub exclusion removes


def test_matching_lines_are_shown_side_by_side():
    a = ORIGINAL + "\n\ndef unique_a(q):\n    return [i ** 3 for i in range(q) if i % 5]\n"
    b = "import torch\n\n\ndef helper():\n    return None\n\n" + RENAMED
    result = compare_sources({"a": a, "b": b}, None, min_prints=1)
    pair = result.pairs[0]
    assert (pair.a, pair.b) == ("a", "b")
    total_a = next(i for i, line in enumerate(a.splitlines(), 1) if line.startswith("def total"))
    total_b = next(i for i, line in enumerate(b.splitlines(), 1) if line.startswith("def total"))
    block = next(blk for blk in pair.blocks if blk.a_start <= total_a + 2 <= blk.a_end)
    assert block.b_start <= total_b + 2 <= block.b_end                   # the same function, moved
    assert any("acc = acc + v * 2" in line for line in block.a_text)
    assert any("s = s + n * 7" in line for line in block.b_text)
    assert not any("i ** 3" in line for blk in pair.blocks for line in blk.a_text)    # a's own code
    facing = [(at.strip(), bt.strip(), same) for _, at, _, bt, same in block.rows if "acc = acc + v" in at]
    assert facing == [("acc = acc + v * 2", "s = s + n * 7", True)]          # renamed lines face each other
    numbered = [(an, bn) for an, _, bn, _, same in block.rows if same]
    assert all(a.splitlines()[an - 1].strip() and b.splitlines()[bn - 1].strip() for an, bn in numbered)


def test_compare_batch_reads_source_py_and_names_what_it_left_out(tmp_path):
    out = write_batch(tmp_path / "out", {n: a1_results({}) for n in ("ann", "ben", "cal", "dee")},
                      sources={"ann": REFERENCE, "ben": _bench().vary(REFERENCE, random.Random(1)),
                               "cal": (EXAMPLES / "partial.py").read_text()})
    result = compare_batch(out, top=2)
    assert result.skipped == {"dee": "no source.py"}
    assert {result.pairs[0].a, result.pairs[0].b} == {"ann", "ben"} and len(result.pairs) == 2
    cli = CliRunner().invoke(main, ["similarity", str(out), "--top", "2", "--show", "1"])
    assert cli.exit_code == 0, cli.output
    assert "ann <-> ben" in cli.output and "left out dee: no source.py" in cli.output
    assert "def conv2d" in cli.output                                    # --show prints matching lines
    empty = write_batch(tmp_path / "empty", {"x": a1_results({})})
    cli = CliRunner().invoke(main, ["similarity", str(empty)])
    assert cli.exit_code != 0 and "no submission with a source.py" in cli.output


def test_benchmark_batch_finds_its_families(tmp_path, capsys):
    bench = _bench()
    assert bench.main(["--n", "40", "--top", "10"]) == 0
    printed = capsys.readouterr().out
    assert "40 submissions, 780 pairs compared" in printed and "10 are variations of the same original" in printed


@pytest.mark.slow
def test_three_hundred_submissions_take_seconds(tmp_path):
    bench = _bench()
    bench.make_batch(tmp_path / "out", 300, seed=0)
    started = time.perf_counter()
    result = compare_batch(tmp_path / "out", top=20, assignment_id="a1_cnn")
    elapsed = time.perf_counter() - started
    assert len(result.compared) == 300 and len(result.pairs) == 20
    assert elapsed < 30, f"{elapsed:.1f} s for 300 submissions"            # about 2 s on 2 shared cores


def test_pair_scores_equal_set_arithmetic_in_one_block_or_many():
    from autograder.instructor.similarity import _top_pairs
    rng = random.Random(0)
    sets = [frozenset(rng.sample(range(200), rng.randint(5, 60))) for _ in range(37)]
    expected = sorted(((len(x & y) / len(x | y), len(x & y), i, j) for i, x in enumerate(sets)
                       for j, y in enumerate(sets) if i < j and x & y), key=lambda t: (-t[0], -t[1], t[2], t[3]))
    for block_cells in (20_000_000, 37 * 3):                 # one block; blocks of 3 rows
        got = sorted(_top_pairs(sets, 10, block_cells=block_cells), key=lambda t: (-t[0], -t[1], t[2], t[3]))
        assert [(i, j, shared) for _, shared, i, j in got[:10]] == [(i, j, s) for _, s, i, j in expected[:10]]
        assert [score for score, *_ in got[:10]] == pytest.approx([score for score, *_ in expected[:10]])
