"""The worker protocol: deadlines on every read and write, a reply format read without
trusting it, and a malformed reply failing only the call that received it."""
import json
import os
import struct
import time

import pytest
import torch

from autograder import registry
from autograder.isolation.student import WorkerStudent
from shared import protocol, wire
from shared.feedback import StudentCrashed, StudentTimeout

A1 = registry.get("a1_cnn")


def _frame(header: dict, *buffers: bytes) -> bytes:
    data = json.dumps(header).encode()
    return struct.pack("<Q", len(data)) + data + b"".join(buffers)


@pytest.mark.parametrize("header, buffers, problem", [
    ({"v": {"T": [0, "float32", [2], "hpu"]}, "b": [8]}, [b"\0" * 8], "unknown device"),
    ({"v": {"T": [0, "float32", [1e999], "cpu"]}, "b": [4]}, [b"\0" * 4], "bad dimension"),
    ({"v": [{"T": [0, "float64", [4], "cpu"]}] * 128, "b": [32]}, [b"\0" * 32], "referenced twice"),
    ({"v": {"T": [0, "float64", [1 << 20], "cpu"]}, "b": [8]}, [b"\0" * 8], "does not match"),
    ({"v": {"T": [0, "object", [1], "cpu"]}, "b": [8]}, [b"\0" * 8], "not allowed"),
    ({"v": {"Z": [1]}, "b": []}, [], "unknown tag"),
    ({"v": 1, "b": [10]}, [b"\0" * 4], "do not match"),
])
def test_malformed_replies_are_wire_errors(header, buffers, problem):
    with pytest.raises(wire.WireError, match=problem):
        wire.loads(_frame(header, *buffers))


def test_cuda_device_is_refused_without_a_gpu():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: 'cuda' is a real device here")
    with pytest.raises(wire.WireError, match="does not exist"):
        wire.loads(_frame({"v": {"T": [0, "float32", [1], "cuda"]}, "b": [4]}, b"\0" * 4))


def test_deep_nesting_and_garbage_are_wire_errors():
    deep = "[" * 5000 + "]" * 5000
    data = ('{"v": ' + deep + ', "b": []}').encode()
    with pytest.raises(wire.WireError):
        wire.loads(struct.pack("<Q", len(data)) + data)
    with pytest.raises(wire.WireError):
        wire.loads(b"\xff" * 40)


def test_round_trip_of_every_kind():
    value = {"t": torch.arange(6.0).reshape(2, 3), "i": 3, "f": float("nan"), "c": 1 + 2j, "s": "x",
             "u": (torch.tensor([True]), [None]), "d": torch.float64, "g": torch.Generator().manual_seed(3)}
    back = wire.loads(wire.dumps(value))
    assert torch.equal(back["t"], value["t"]) and back["i"] == 3 and back["f"] != back["f"] and back["c"] == 1 + 2j
    assert back["d"] is torch.float64 and torch.equal(back["g"].get_state(), value["g"].get_state())


def test_a_write_nobody_reads_has_a_deadline():
    r, w = os.pipe()
    chan = protocol.Channel(r, w, nonblocking=True)
    started = time.monotonic()
    with pytest.raises(protocol.Deadline):
        chan.send(b"x" * (4 << 20), time.monotonic() + 0.5)       # larger than any pipe buffer
    assert time.monotonic() - started < 2
    with pytest.raises(protocol.Deadline):
        chan.recv(time.monotonic() + 0.3)
    chan.close()


def _worker(tmp_path, source: str, timeout: float = 5.0) -> WorkerStudent:
    (tmp_path / "a1_cnn.py").write_text(source)
    return WorkerStudent(tmp_path / "a1_cnn.py", module="a1_cnn", functions=A1.functions, classes=A1.classes,
                         timeout=timeout, limits={"memory_mb": 4096, "nproc": 64})


def test_a_worker_that_stops_reading_is_killed_at_the_deadline(tmp_path):
    # after returning, a thread holds the GIL in a regular expression that never ends, so
    # the worker never reads the next request
    worker = _worker(tmp_path, "import re, threading, time\n"
                               "def _hold():\n    time.sleep(0.2)\n    re.match(r'(a+)+$', 'a' * 64 + 'b')\n"
                               "def receptive_field(x):\n"
                               "    threading.Thread(target=_hold, daemon=True).start()\n"
                               "    return 1\n"
                               "def conv_output_size(x):\n    return 2\n"
                               "def separable_conv_params():\n    return 3\n", timeout=2.0)
    try:
        assert worker.receptive_field(0) == 1
        time.sleep(0.5)                                              # the worker no longer reads
        started = time.monotonic()
        with pytest.raises(StudentTimeout):
            worker.conv_output_size(torch.zeros(1 << 20))            # 4 MiB: more than the pipe holds
        assert time.monotonic() - started < 10
        assert worker.separable_conv_params() == 3                   # a fresh worker took over
    finally:
        worker.close()


def test_a_malformed_reply_fails_that_call_only(tmp_path):
    """Student code can reach the worker's own writer at run time: what it sends is checked
    on the grader's side, and only that call fails."""
    worker = _worker(tmp_path, "import sys, json, struct\n"
                               "_wire = sys.modules['shared.wire']\n"
                               "_real = _wire.dumps\n"
                               "def _evil(obj):\n"
                               "    if obj.get('value') == 'EVIL':\n"
                               "        h = json.dumps({'v': {'D': [['id', obj['id']], ['ok', True], ['value',"
                               " {'T': [0, 'float32', [2], 'hpu']}]]}, 'b': [8]}).encode()\n"
                               "        return struct.pack('<Q', len(h)) + h + bytes(8)\n"
                               "    return _real(obj)\n"
                               "_wire.dumps = _evil\n"
                               "def receptive_field(x):\n    return 'EVIL'\n"
                               "def conv_output_size(x):\n    return x + 1\n")
    try:
        with pytest.raises(StudentCrashed, match="could not read what your code sent back.*unknown device"):
            worker.receptive_field(0)
        generation = worker.generation
        assert worker.conv_output_size(1) == 2
        assert worker.generation == generation                        # the same worker goes on
    finally:
        worker.close()


def test_a_substituted_callee_keeps_the_gradient_flowing(tmp_path):
    """The reference substituted for a student's callee runs in the grader; gradients still
    flow through it (the grader keeps the graph and answers the backward pass)."""
    worker = _worker(tmp_path, "import torch\n"
                               "def helper(x):\n    return x * 100\n"
                               "def conv_output_size(x, w):\n    return (helper(x) * w).sum() + x.pow(2).sum()\n")
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([3.0, -1.0], dtype=torch.float64, requires_grad=True)
    try:
        with worker.substitute({"helper": lambda t: t.sin()}):
            out = worker.conv_output_size(x, w)
        out.backward()
    finally:
        worker.close()
    expected_x = w.detach() * x.detach().cos() + 2 * x.detach()
    assert torch.allclose(out.detach(), (x.detach().sin() * w.detach()).sum() + x.detach().pow(2).sum())
    assert torch.allclose(x.grad, expected_x) and torch.allclose(w.grad, x.detach().sin())
