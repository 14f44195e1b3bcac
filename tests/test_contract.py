"""The registry owns the tasks; this one contract test holds every assignment to it.

For every assignment and every ``[[tasks]]`` entry of its assignment.toml: the stub raises
``NotImplementedError("Task N.M: name")``, the reference defines the same name with the
same signature, the hidden suite grades the task (and grades nothing else), and no student
name collides with a method of the adapters that tests call student code through.
"""
import inspect

import pytest

from autograder import engine, registry
from autograder.isolation.student import WorkerStudent
from shared.adapter import InProcessStudent, load_module

ASSIGNMENTS = [a.id for a in registry.all_assignments()]
TASKS = [(a.id, t.number) for a in registry.all_assignments() for t in a.tasks]


def _dummy_call(obj):
    params = [p for p in inspect.signature(obj).parameters.values()
              if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return obj(*[None] * len(params))


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def modules(request):
    a = registry.get(request.param)
    return a, load_module(a.stub_path), load_module(a.solution_path)


@pytest.mark.parametrize("aid, number", TASKS)
def test_every_stub_raises_with_its_task_number(aid, number):
    a = registry.get(aid)
    task = a.task(number)
    stub = load_module(a.stub_path)
    assert hasattr(stub, task.function), f"{a.stub_path.name} does not define {task.function}"
    with pytest.raises(NotImplementedError) as info:
        _dummy_call(getattr(stub, task.function))
    assert str(info.value) == f"Task {number}: {task.function}"


def test_reference_and_stub_define_every_task_with_the_same_signature(modules):
    a, stub, reference = modules
    def shape(obj):                   # names, kinds and defaults; annotations may differ
        return [(p.name, p.kind, p.default) for p in inspect.signature(obj).parameters.values()]
    for task in a.tasks:
        ours, theirs = getattr(reference, task.function), getattr(stub, task.function)
        assert shape(ours) == shape(theirs), task.function
        assert (task.kind == "class") == inspect.isclass(ours), task.function


@pytest.mark.slow
def test_the_suite_grades_every_declared_task_and_nothing_else(modules):
    a = modules[0]
    items = engine.inventory(a.id)
    graded = {i["task"] for i in items if i["points"] > 0}
    declared = {t.number for t in a.tasks}
    assert graded == declared, f"declared but not graded: {declared - graded}; graded but not declared: " \
                               f"{graded - declared}"
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)), "test ids must be unique: the gradebook and the otter bridge key on them"


def test_no_student_name_collides_with_an_adapter_method(modules):
    a = modules[0]
    reserved = {n for cls in (WorkerStudent, InProcessStudent) for n in dir(cls) if not n.startswith("__")}
    clashes = sorted((set(a.functions) | set(a.classes)) & reserved)
    assert not clashes, f"{a.id}: {clashes} would be shadowed by the adapter's own methods"


def test_a_registry_typo_is_an_error(tmp_path):
    text = registry.get("a1_cnn").suite_dir.joinpath("assignment.toml").read_text()
    bad = tmp_path / "assignment.toml"
    bad.write_text(text.replace("threads = 1", "thread = 1", 1))
    with pytest.raises(registry.RegistryError, match="thread"):
        registry.load(bad)
    bad.write_text(text + '\n[[tasks]]\nnumber = "9.9"\nfunction = "conv2d"\ntitle = "again"\n')
    with pytest.raises(registry.RegistryError, match="duplicate task functions"):
        registry.load(bad)
