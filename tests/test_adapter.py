"""The in-process adapter: failures of student code become feedback, forbidden APIs raise."""
import pytest
import torch

from shared.adapter import InProcessStudent
from shared.feedback import ForbiddenAPI, MissingFunction, NotImplementedYet, StudentRaised, StudentTimeout


@pytest.fixture
def module(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "import torch\n"
        "from torch.nn.functional import relu as my_relu\n"
        "def stub(x):\n    raise NotImplementedError('Task 1.1: stub')\n"
        "def broken(x):\n    return x[10]\n"
        "def uses_relu(x):\n    return my_relu(x)\n"
        "def swallow(x):\n    try:\n        return torch.relu(x)\n    except Exception:\n        return x.clamp_min(0)\n"
        "def spin(x):\n    while True:\n        pass\n")
    return InProcessStudent(path, "m", timeout=1.0)


def test_ladder_of_student_failures(module):
    with pytest.raises(MissingFunction, match="nope is not defined in your m.py"):
        module.nope(1)
    with pytest.raises(NotImplementedYet, match="Task 1.1"):
        module.stub(1)
    with pytest.raises(StudentRaised) as info:
        module.broken(torch.ones(2))
    assert "IndexError" in str(info.value) and "line 6 of your m.py" in str(info.value)


def test_forbidden_api_raises_even_through_an_alias(module):
    with pytest.raises(ForbiddenAPI, match="torch.nn.functional.relu"):
        with module.forbid("uses_relu", "torch.nn.functional.relu"):
            module.uses_relu(torch.ones(2))
    assert torch.equal(module.uses_relu(torch.tensor([-1.0, 2.0])), torch.tensor([0.0, 2.0]))  # restored


def test_swallowed_forbidden_call_still_fails(module):
    with pytest.raises(ForbiddenAPI, match="torch.relu"):
        with module.forbid("swallow", "torch.relu"):
            module.swallow(torch.ones(2))


def test_in_process_timeout(module):
    with pytest.raises(StudentTimeout, match="timed out after 1 s in spin"):
        module.spin(1)
