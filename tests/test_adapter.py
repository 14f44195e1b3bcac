"""The in-process adapter: failures of student code become feedback; forbidden APIs are
seen whatever alias reached them; one timeout per function; a budget per submission."""
import pytest
import torch

from shared.adapter import Guard, InProcessStudent
from shared.feedback import (BudgetSpent, ForbiddenAPI, MissingFunction, NotImplementedYet, StudentRaised,
                             StudentTimeout, Tampering, TimedOutEarlier)

RELU = ("torch.nn.functional.relu", "torch.relu")


@pytest.fixture
def module(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "import torch\n"
        "import torch.nn.functional as F\n"
        "from torch.nn.functional import relu as my_relu\n"
        "_IMPL = {'r': F.relu}\n"
        "def stub(x):\n    raise NotImplementedError('Task 1.1: stub')\n"
        "def broken(x):\n    return x[10]\n"
        "def uses_relu(x):\n    return my_relu(x)\n"
        "def via_container(x):\n    return _IMPL['r'](x)\n"
        "def via_aten(x):\n    return torch.ops.aten.relu(x)\n"
        "def via_variable_functions(x):\n    return torch._C._VariableFunctions.relu(x)\n"
        "def by_hand(x):\n    return x.clamp_min(0)\n"
        "def swallow(x):\n    try:\n        return torch.relu(x)\n    except Exception:\n        return x.clamp_min(0)\n"
        "def spin(x):\n    while True:\n        pass\n"
        "def draw(x):\n    return torch.rand(3)\n"
        "def twice(x):\n    return helper(x) * 2\n"
        "def helper(x):\n    return x + 1\n")
    return InProcessStudent(path, "m", timeout=1.0)


def test_ladder_of_student_failures(module):
    with pytest.raises(MissingFunction, match="nope is not defined in your m.py"):
        module.nope(1)
    with pytest.raises(NotImplementedYet, match="Task 1.1"):
        module.stub(1)
    with pytest.raises(StudentRaised) as info:
        module.broken(torch.ones(2))
    assert "IndexError" in str(info.value) and "line 8 of your m.py" in str(info.value)


@pytest.mark.parametrize("fn", ["uses_relu", "via_container", "via_aten", "via_variable_functions", "swallow"])
def test_a_forbidden_api_is_seen_whatever_alias_reached_it(module, fn):
    with pytest.raises(ForbiddenAPI, match=f"{fn} uses .*relu"):
        with module.forbid(fn, *RELU):
            getattr(module, fn)(torch.tensor([-1.0, 2.0]))
    assert torch.equal(getattr(module, fn)(torch.tensor([-1.0, 2.0])), torch.tensor([0.0, 2.0]))  # not blocked


def test_by_hand_passes_and_a_forbid_block_only_judges_the_call(module):
    with module.forbid("by_hand", *RELU):
        module.by_hand(torch.tensor([-1.0, 2.0]))


def test_static_findings_decide_even_without_a_call(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("def f(x):\n    return x\n")
    student = InProcessStudent(path, "m", static={"f": [{"api": "conv2d", "where": "line 3 of your helper.py"}],
                                                  "*": []})
    with pytest.raises(ForbiddenAPI, match="line 3 of your helper.py"):
        with student.forbid("f", "torch.nn.functional.conv2d"):
            student.f(1)
    tampering = InProcessStudent(path, "m", static={"*": [{"what": "imports ctypes", "where": "line 1"}]})
    with pytest.raises(Tampering, match="imports ctypes"):
        with tampering.forbid("f"):
            tampering.f(1)


def test_one_timeout_per_function_then_it_fails_at_once(module):
    with pytest.raises(StudentTimeout, match="timed out after 1 s in spin"):
        module.spin(1)
    with pytest.raises(TimedOutEarlier, match="timed out after 1 s in spin earlier"):
        module.spin(1)
    assert module.by_hand(torch.ones(1)).item() == 1.0           # the other functions still run


def test_budget_for_the_whole_submission(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("import time\ndef slow(x):\n    time.sleep(0.3)\n    return x\n")
    student = InProcessStudent(path, "m", timeout=5.0, guard=Guard(budget=0.5))
    student.slow(1)
    student.slow(2)
    with pytest.raises(BudgetSpent, match="used up its grading time"):
        student.slow(3)


def test_global_seed_is_reseeded_before_each_call(module):
    first, again = module.draw(0), module.draw(0)
    assert torch.equal(first, again)                             # the default seed, every call
    with module.global_seed(1234):
        other = module.draw(0)
    assert not torch.equal(first, other)


def test_substitute_replaces_a_callee_for_the_calls_inside(module):
    assert module.twice(torch.tensor(1.0)).item() == 4.0
    with module.substitute({"helper": lambda x: x * 10}):
        assert module.twice(torch.tensor(1.0)).item() == 20.0
    assert module.twice(torch.tensor(1.0)).item() == 4.0


def test_seed_everything_leaves_the_state_of_a_full_torch_manual_seed():
    # the cheap seeding (no lazy CUDA/XPU/MTIA seeding without a GPU) must draw the same numbers
    import random

    import numpy as np
    import torch

    from shared.seeding import seed_everything

    def draws():
        return random.random(), float(np.random.rand()), torch.rand(3).tolist(), torch.randint(0, 1000, (2,)).tolist()

    for seed in (0, 7, 2**31 + 5):
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)
        expected = draws()
        random.seed(seed + 1)
        torch.rand(5)                            # move every generator away first
        np.random.rand(4)
        seed_everything(seed)
        assert draws() == expected
