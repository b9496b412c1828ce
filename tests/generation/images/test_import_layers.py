"""No import circles in generation.images: tasks import services (never the reverse), and the
two make_shots backends share ``candidate`` instead of importing each other."""
import ast
from pathlib import Path

import generation.images

PACKAGE = Path(generation.images.__file__).parent


def _imports(module: str) -> set[str]:
    """Every module ``module`` imports, at any depth in the file (lazy imports count too)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = "generation.images" + ("." + base if base else "")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_services_never_import_tasks():
    assert "generation.images.services" in _imports("tasks")
    assert not any(name.startswith("generation.images.tasks") for name in _imports("services"))


def test_shot_backends_do_not_import_each_other():
    assert not any(name.startswith("generation.images.shots") for name in _imports("dit_shots"))
    assert "generation.images.candidate" in _imports("dit_shots") and "generation.images.candidate" in _imports("shots")
