"""The trusted half of the forbidden-API checks: a static look at the submission's source.

It runs in the grader, on the files of the submission (the module and any helper module
of a folder or zip), before any student code runs, so nothing the student's code does at
run time can change its verdict.  Two kinds of finding:

* per task: a forbidden API (``[[tasks]] forbidden`` / ``forbidden_ops`` in
  assignment.toml) referenced by the task's function or by anything it reaches: helper
  functions, module-level aliases and containers (``_IMPL = {"c": F.conv2d}``), helper
  modules, string constants naming the operator (``getattr(F, "conv2d")``,
  ``torch.ops.aten.convolution``);
* for the whole submission: the means to tamper with the grader's run-time trace (ctypes,
  gc, frame and ``sys.modules`` access, ``eval``/``exec``/``__import__``/``importlib``,
  torch's dispatch and ``_C`` internals, the grader's own packages).  Such a submission
  loses the forbidden-API points of every task.

The run-time op trace (:mod:`shared.optrace`) catches the aliases no static look can
resolve; this check keeps the student's code from reaching that trace.  Both are best
effort against code written to defeat them (see the README, "Isolation").

A tampering finding's ``what`` is shown to the student (``shared.feedback.Tampering``): it
is written in the language :func:`analyze` is given (the engine's threads share one
process-wide language, so the batch's language is passed in).
"""
from __future__ import annotations

import ast
from pathlib import Path

from autograder import PACKAGE_DIR
from shared.i18n import N_, add_domain, gettext, translator
from shared.apinames import op_names

add_domain("autograder", PACKAGE_DIR / "locale")          # idempotent (autograder.results does it too)

TAMPER_MODULES = {"ctypes", "gc", "importlib", "inspect", "builtins", "_ctypes", "cffi", "sys_monitoring",
                  "autograder", "solutions", "shared", "agsandbox", "pytest", "_pytest"}
TAMPER_SUBMODULES = ("torch.overrides", "torch.utils._python_dispatch", "torch._C", "torch.library",
                     "torch._dynamo", "torch._ops")
TAMPER_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint"}
TAMPER_ATTRS = {"f_back", "f_globals", "f_locals", "f_builtins", "tb_frame", "gi_frame", "cr_frame", "ag_frame",
                "__globals__", "__closure__", "__code__", "__subclasses__", "__builtins__", "_getframe",
                "settrace", "setprofile", "addaudithook", "_C", "__torch_function__", "__torch_dispatch__",
                "_python_dispatch", "overrides", "_pop_mode", "_push_mode", "_get_current_dispatch_mode",
                "_set_torch_function_mode", "DisableTorchFunction", "DisableTorchFunctionSubclass", "library",
                "__loader__", "__spec__"}
MODULE_ROOTS = {"torch", "nn", "F", "np", "numpy", "sys", "os", "functional", "math"}


def static_names(apis, ops=()) -> set[str]:
    """Names that betray a forbidden API in source: ``torch.nn.functional.conv2d`` ->
    ``conv2d``; ``torch.nn.Conv2d.forward`` -> ``Conv2d``; ``aten::convolution`` -> ``convolution``."""
    names = set()
    for api in apis:
        parts = api.split(".")
        names.add(parts[-2] if parts[-1] in ("forward", "__call__") and len(parts) > 1 else parts[-1])
    return names | op_names(ops)


def _where(path: Path, node) -> str:
    return f"line {getattr(node, 'lineno', '?')} of your {path.name}"


class Source:
    """The parsed files of a submission folder: dotted module name -> (path, tree)."""

    def __init__(self, folder: Path, module: str):
        self.module = module
        self.files: dict[str, tuple[Path, ast.Module]] = {}
        for path in sorted(Path(folder).rglob("*.py")):
            if path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(folder).with_suffix("")
            dotted = ".".join(rel.parts).removesuffix(".__init__")
            try:
                self.files[dotted] = (path, ast.parse(path.read_text(encoding="utf-8", errors="replace")))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue

    def local(self, dotted: str) -> str | None:
        """The submission's own module an import names, if any."""
        for name in (dotted, dotted.split(".")[0]):
            if name in self.files:
                return name
        return None


def tampering(source: Source, lang: str | None = None) -> list[dict]:
    """The means to tamper with the trace, ``{"what", "where"}``; ``what`` in ``lang`` (None:
    the process's language)."""
    tr = gettext if lang is None else translator(lang)
    found = []
    for dotted, (path, tree) in source.files.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.module:
                    names += [f"{node.module}.{a.name}" for a in node.names]
                for name in names:
                    if source.local(name) and (node.level if isinstance(node, ast.ImportFrom) else 0) == 0 \
                            and name.split(".")[0] in source.files:
                        continue
                    if name.split(".")[0] in TAMPER_MODULES or name.startswith(TAMPER_SUBMODULES):
                        found.append({"what": tr(N_("imports {module}")).format(module=name),
                                      "where": _where(path, node)})
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in TAMPER_CALLS:
                    found.append({"what": tr(N_("calls {function}()")).format(function=node.func.id),
                                  "where": _where(path, node)})
                elif node.func.id in ("getattr", "setattr", "delattr") and len(node.args) >= 2 \
                        and not isinstance(node.args[1], ast.Constant) and isinstance(node.args[0], ast.Name) \
                        and node.args[0].id in MODULE_ROOTS:
                    found.append({"what": tr(N_("reads an attribute of {name} by a computed name")).format(
                                      name=node.args[0].id), "where": _where(path, node)})
            elif isinstance(node, ast.Attribute):
                if node.attr in TAMPER_ATTRS or (node.attr == "modules" and isinstance(node.value, ast.Name)
                                                 and node.value.id == "sys"):
                    found.append({"what": tr(N_("uses .{attribute}")).format(attribute=node.attr),
                                  "where": _where(path, node)})
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in TAMPER_ATTRS \
                    and node.value.startswith("_"):
                found.append({"what": tr(N_("names {name}")).format(name=node.value), "where": _where(path, node)})
    return found


def _top_level(tree: ast.Module) -> dict[str, list[ast.AST]]:
    defs: dict[str, list[ast.AST]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs.setdefault(node.name, []).append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        defs.setdefault(name.id, []).append(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                defs.setdefault((alias.asname or alias.name).split(".")[0], []).append(node)
        else:                                    # if/try/with blocks at module level: everything they bind
            for sub in ast.walk(node):
                if isinstance(sub, (ast.FunctionDef, ast.ClassDef)):
                    defs.setdefault(sub.name, []).append(node)
                elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    defs.setdefault(sub.id, []).append(node)
    return defs


def reachable(source: Source, function: str, stop: set[str]) -> list[tuple[Path, ast.AST]]:
    """The nodes ``function`` of the main module may run: its definition, the module-level
    definitions it names (transitively, but not through the functions in ``stop``), and
    every helper module of the submission it imports."""
    if source.module not in source.files:
        return []
    path, tree = source.files[source.module]
    defs = _top_level(tree)
    seen_nodes: set[int] = set()
    seen_modules: set[str] = set()
    out: list[tuple[Path, ast.AST]] = []
    queue = [(path, node) for node in defs.get(function, [])]
    while queue:
        p, node = queue.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        out.append((p, node))
        for sub in ast.walk(node):
            names = []
            if isinstance(sub, ast.Name):
                names.append(sub.id)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in sub.names] if isinstance(sub, ast.Import) else \
                    [sub.module or ""] + [f"{sub.module}.{a.name}" if sub.module else a.name for a in sub.names]
                for mod in mods:
                    local = source.local(mod)
                    if local and local not in seen_modules:
                        seen_modules.add(local)
                        mod_path, mod_tree = source.files[local]
                        queue.append((mod_path, mod_tree))
            for name in names:
                if name in stop or p != path:
                    continue
                queue += [(path, d) for d in defs.get(name, [])]
    return out


def forbidden_references(nodes, names: set[str]) -> list[dict]:
    found = []
    for path, node in nodes:
        for sub in ast.walk(node):
            hit = None
            if isinstance(sub, ast.Attribute) and sub.attr in names:
                hit = sub.attr
            elif isinstance(sub, ast.ImportFrom) and (sub.module or "").split(".")[0] == "torch":
                hit = next((a.name for a in sub.names if a.name in names), None)
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                text = sub.value.replace("::", ".").split(".")[-1]
                if text in names and (sub.value == text or sub.value.startswith(("aten", "torch"))):
                    hit = sub.value
            if hit:
                found.append({"api": hit, "where": _where(path, sub)})
    return found


def analyze(folder: Path, module: str, tasks, lang: str | None = None) -> dict[str, list[dict]]:
    """``{function: [{"api", "where"}]}`` for the tasks with forbidden APIs, and
    ``{"*": [{"what", "where"}]}``: tampering that voids every forbidden-API check (``what``
    in ``lang``; None: the process's language)."""
    source = Source(folder, module)
    result: dict[str, list[dict]] = {}
    tamper = tampering(source, lang)
    if tamper:
        result["*"] = tamper[:3]
    for task in tasks:
        names = static_names(task.forbidden, task.forbidden_ops)
        if not names:
            continue
        nodes = reachable(source, task.function, set(task.calls) - {task.function})
        found = forbidden_references(nodes, names)
        if found:
            result[task.function] = found[:3]
    return result
