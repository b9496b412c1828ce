"""No import circles in generation.images: tasks import services (never the reverse), and the
two make_shots backends share ``candidate`` instead of importing each other."""
from functools import partial

from tests.imports import module_imports

_imports = partial(module_imports, "generation.images")


def test_services_never_import_tasks():
    assert "generation.images.services" in _imports("tasks")
    assert not any(name.startswith("generation.images.tasks") for name in _imports("services"))


def test_shot_backends_do_not_import_each_other():
    assert not any(name.startswith("generation.images.shots") for name in _imports("dit_shots"))
    assert "generation.images.candidate" in _imports("dit_shots") and "generation.images.candidate" in _imports("shots")
