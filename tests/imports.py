"""What a module imports, read from its source (for the tests that keep import circles out)."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path


def module_imports(package: str, module: str) -> set[str]:
    """Every module ``package.module`` imports, at any depth in the file (lazy imports count
    too), as dotted names; ``from x import y`` adds both ``x`` and ``x.y``."""
    folder = Path(importlib.import_module(package).__file__).parent
    found = set()
    for node in ast.walk(ast.parse((folder / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = package + ("." + base if base else "")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found
