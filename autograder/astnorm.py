"""The normal form of Python code for "did it change behaviour?": the AST dump without
docstrings and type annotations (comments and layout are not in the AST at all).  Used by
the mutant builder (a mutant must change behaviour) and its ``compact`` command."""
from __future__ import annotations

import ast
import copy
import functools

__all__ = ["normalised", "normalised_source"]


class _Normaliser(ast.NodeTransformer):
    """Drops what does not change behaviour: docstrings and type annotations."""

    def _strip_docstring(self, node):
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        return node

    def visit_Module(self, node):
        self.generic_visit(node)
        return self._strip_docstring(node)

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        node.returns = None
        return self._strip_docstring(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self.generic_visit(node)
        return self._strip_docstring(node)

    def visit_arg(self, node):
        node.annotation = None
        return node

    def visit_AnnAssign(self, node):
        self.generic_visit(node)
        if node.value is None:
            return node
        return ast.Assign(targets=[node.target], value=node.value)


def normalised(node: ast.AST, *, in_place: bool = False) -> str:
    """The dump of ``node`` without docstrings and annotations (``in_place``: a tree of our
    own, which may be changed, so no copy is made)."""
    return ast.dump(_Normaliser().visit(node if in_place else copy.deepcopy(node)), include_attributes=False)


@functools.lru_cache(maxsize=32)
def normalised_source(source: str) -> str:
    return normalised(ast.parse(source), in_place=True)
