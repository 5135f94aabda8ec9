"""The house rules of CONTRIBUTING.md, held by a test (each checker is also shown a planted violation):

1. No cross-module ``_private`` access: a helpers module uses no other helpers module's private names,
   and what students read (notebooks, exercises, the lessons' code) uses none at all.
2. One loader signature: every ``load_pretrained`` is ``(name, quality=None)``.
3. Every error a coder raises on a bad stream is a ``container.StreamError``.
4. Every coder (a module that writes the container, and JPEG) is in tests/test_protocol.py and in the
   fuzz harness's default set.
5. Every MANIFEST family has a loader (``registry.LOADERS``).
6. No import cycle between helpers modules, counting the imports inside functions (an import moved
   into a function to dodge a cycle is still a cycle).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import re
import sys
from pathlib import Path

import pytest

from helpers import container, registry

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / "helpers"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(HELPERS.rglob("*.py")) if p.name != "__main__.py"}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _definitions() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module -> its private module-level names, private class member -> modules defining it)."""
    module_level, members = {}, {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        names = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(t.id for t in targets if isinstance(t, ast.Name))
        module_level[module] = {n for n in names if _is_private(n)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for item in ast.walk(node):
                    name = None
                    if (
                        isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and item is not node
                    ):
                        name = item.name
                    elif (
                        isinstance(item, ast.Attribute)
                        and isinstance(item.ctx, ast.Store)
                        and isinstance(item.value, ast.Name)
                        and item.value.id == "self"
                    ):
                        name = item.attr
                    if name and _is_private(name):
                        members.setdefault(name, set()).add(module)
    return module_level, members


MODULE_LEVEL, MEMBERS = _definitions()


def _resolve(module: str | None, level: int, own: str | None) -> str | None:
    """The absolute module an import names (relative imports resolved from ``own``)."""
    if level == 0:
        return module
    if own is None:
        return None
    package = own.split(".") if MODULES[own].name == "__init__.py" else own.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """module -> the helpers modules it imports anywhere in its source (``from . import x`` counts
    as importing ``x`` when ``x`` is a module)."""
    graph = {name: set() for name in sources}
    for own, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.ImportFrom):
                continue
            target = _resolve(node.module, node.level, own)
            if not target or not target.startswith("helpers"):
                continue
            for alias in node.names:  # ``from . import x``: the module x, else the package's x
                submodule = f"{target}.{alias.name}"
                name = submodule if submodule in sources else target
                if name in sources and name != own:
                    graph[own].add(name)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_import_cycle_between_helpers_modules():
    sources = {name: path.read_text() for name, path in MODULES.items()}
    assert import_cycles(import_graph(sources)) == []


def test_the_cycle_checker_catches_a_planted_cycle():
    sources = {name: path.read_text() for name, path in MODULES.items()}
    sources["helpers.config"] += "\n\ndef _late():\n    from . import data\n"
    assert ["helpers.config", "helpers.data"] in [
        [m for m in cycle if m in ("helpers.config", "helpers.data")]
        for cycle in import_cycles(import_graph(sources))
    ]


def private_access(source: str, own: str | None = None) -> list[str]:
    """The cross-module private names ``source`` uses. ``own``: the helpers module it belongs to
    (None for a notebook, an exercise or a lesson: then every helpers private name counts)."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}  # local name -> helpers module
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = _resolve(node.module, node.level, own)
            if base is None or not base.startswith("helpers"):
                continue
            for alias in node.names:
                if _is_private(alias.name) and base != own:
                    found.append(f"from {base} import {alias.name}")
                if f"{base}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("helpers"):
                    aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else "helpers"
                    )
    own_names = MODULE_LEVEL.get(own, set()) if own else set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not _is_private(node.attr):
            continue
        chain, value = [], node.value
        while isinstance(value, ast.Attribute):
            chain.insert(0, value.attr)
            value = value.value
        if not isinstance(value, ast.Name) or value.id in ("self", "cls"):
            continue
        target = aliases.get(value.id)
        if target is not None:
            dotted = ".".join([target, *chain])
            if dotted in MODULES and dotted != own:
                found.append(f"{value.id}.{'.'.join(chain + [node.attr])}")
                continue
        defined_in = MEMBERS.get(node.attr, set())
        if defined_in and own not in defined_in and node.attr not in own_names:
            found.append(f"{ast.unparse(node)} (a private member of {sorted(defined_in)})")
    return found


def _student_sources():
    for folder in ("notebooks", "exercises"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            for index, cell in enumerate(json.loads(path.read_text())["cells"]):
                if cell["cell_type"] == "code":
                    lines = "".join(cell["source"]).splitlines()
                    yield (
                        f"{folder}/{path.name} cell {index}",
                        "\n".join(
                            line for line in lines if not line.lstrip().startswith(("%", "!"))
                        ),
                    )
    for path in sorted((ROOT / "lessons").glob("*.md")):
        for index, match in enumerate(re.finditer(r"```python\n(.*?)```", path.read_text(), re.S)):
            yield f"lessons/{path.name} code block {index}", match.group(1)


def test_no_cross_module_private_access_in_helpers():
    problems = []
    for module, path in MODULES.items():
        problems += [f"{module}: {p}" for p in private_access(path.read_text(), own=module)]
    assert not problems, "\n".join(problems)


def test_students_read_no_private_name():
    problems = []
    for where, source in _student_sources():
        problems += [f"{where}: {p}" for p in private_access(source)]
    assert not problems, "\n".join(problems)


def test_the_private_access_checker_catches_planted_violations():
    assert private_access("from helpers import video\nvideo.toy._filter_kind(None)")
    assert private_access("from helpers.video import toy\ntoy._filter_kind(None)")
    assert private_access("from helpers.pixelcnn import _counts_table", own="helpers.multiscale")
    assert private_access("from .pixelcnn import _anything", own="helpers.multiscale")
    # an integer model's private method, called from another module
    assert private_access("x = model._y_fixed(y)", own="helpers.roi.learned")
    # allowed: a module's own private names, self, and third-party attributes (EfficientNet's blocks)
    assert not private_access("import numpy as np\nnp.random._x", own="helpers.metrics")
    assert not private_access("net._blocks[0]", own="helpers.compressed_domain")
    assert not private_access("self._float = 1", own="helpers.video.learned")


def loader_problems(function) -> list[str]:
    parameters = inspect.signature(function).parameters
    names = list(parameters)
    problems = []
    if names != ["name", "quality"]:
        problems.append(f"parameters {names}, not ['name', 'quality']")
    elif parameters["name"].default is not inspect.Parameter.empty:
        problems.append("name has a default")
    elif parameters["quality"].default is not None:
        problems.append(f"quality defaults to {parameters['quality'].default!r}, not None")
    return problems


def test_every_loader_has_the_one_signature():
    problems = []
    for module in MODULES:
        loaded = importlib.import_module(module)
        function = loaded.__dict__.get("load_pretrained")
        if function is not None and function.__module__ == module:
            problems += [f"{module}.load_pretrained: {p}" for p in loader_problems(function)]
    assert not problems, "\n".join(problems)

    def planted(quality):
        pass

    def planted_default(name="x", quality=None):
        pass

    assert loader_problems(planted) and loader_problems(planted_default)


def _coder_modules() -> list[str]:
    """Modules that write or read the course container, and the JPEG package (a standard format)."""
    found = [m for m, p in MODULES.items() if re.search(r"container\.(un)?pack\(", p.read_text())]
    return sorted(found + ["helpers.jpeg"])


def coder_error_problems(module) -> list[str]:
    problems = []
    errors = [
        c
        for c in vars(module).values()
        if inspect.isclass(c)
        and issubclass(c, Exception)
        and c.__module__.startswith(module.__name__)
    ]
    if not any(issubclass(c, container.StreamError) for c in errors):
        problems.append("defines no container.StreamError subclass")
    for error in errors:
        if not issubclass(error, container.StreamError):
            problems.append(f"{error.__name__} is not a container.StreamError")
    return problems


def _stream_errors(module) -> list[type]:
    return [
        c
        for c in vars(module).values()
        if inspect.isclass(c)
        and issubclass(c, container.StreamError)
        and c.__module__.startswith(module.__name__)
    ]


def test_every_coder_error_is_a_stream_error():
    problems = []
    for name in _coder_modules():
        problems += [f"{name}: {p}" for p in coder_error_problems(importlib.import_module(name))]
    assert not problems, "\n".join(problems)
    planted = type(sys)("planted")
    planted.PlantedError = type("PlantedError", (ValueError,), {"__module__": "planted"})
    assert coder_error_problems(planted)


def _fuzz_errors() -> set[str]:
    """The error class names of the fuzz harness's default decoders (read from its source)."""
    source = (ROOT / "scripts" / "fuzz_decoders.py").read_text()
    tree = ast.parse(source)
    defaults = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", "") == "DECODERS" for t in node.targets)
    )
    names = set(ast.literal_eval(defaults))
    coders = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_coders")
    table = next(n for n in ast.walk(coders) if isinstance(n, ast.Return)).value
    errors = set()
    for key, value in zip(table.keys, table.values):
        if ast.literal_eval(key) in names:
            errors.add(ast.unparse(value.elts[-1]).split(".")[-1])
    return errors


def coverage_problems(
    error_names: set[str], protocol_source: str, fuzz_errors: set[str]
) -> list[str]:
    problems = []
    for name in sorted(error_names):
        if not re.search(rf"\b{name}\b", protocol_source):
            problems.append(f"{name}: no coder raising it in tests/test_protocol.py")
        if name not in fuzz_errors:
            problems.append(f"{name}: no decoder raising it in the fuzz harness's default set")
    return problems


def test_every_coder_is_in_the_protocol_and_fuzz_tests():
    names = {
        e.__name__ for m in _coder_modules() for e in _stream_errors(importlib.import_module(m))
    }
    names -= {"LatentError"}  # chapter 8's reader of hyperprior files: not a coder of its own
    protocol = (ROOT / "tests" / "test_protocol.py").read_text()
    problems = coverage_problems(names, protocol, _fuzz_errors())
    assert not problems, "\n".join(problems)
    assert coverage_problems({"PlantedStreamError"}, protocol, _fuzz_errors())


def family_problems(families: set[str], loaders: dict[str, str]) -> list[str]:
    problems = []
    for family in sorted(families):
        if family not in loaders:
            problems.append(f"MANIFEST family {family!r} has no loader in registry.LOADERS")
            continue
        module = importlib.import_module(loaders[family])
        if not callable(getattr(module, "load_pretrained", None)):
            problems.append(f"{loaders[family]} has no load_pretrained for family {family!r}")
    return problems


def test_every_manifest_family_has_a_loader():
    families = {e["family"] for e in registry.manifest()["models"].values()}
    assert not family_problems(families, registry.LOADERS)
    assert family_problems({"planted"}, registry.LOADERS)
    for key in registry.shipped():  # and each loads by its own name through its family's loader
        entry = registry.manifest()["models"][key]
        assert registry.LOADERS[entry["family"]]


@pytest.mark.parametrize("family", sorted(registry.LOADERS))
def test_each_family_loader_refuses_an_unknown_name(family):
    module = importlib.import_module(registry.LOADERS[family])
    with pytest.raises((registry.WeightsError, ValueError)):
        module.load_pretrained("no-such-model")


def test_every_script_is_described_in_the_scripts_readme():
    readme = (ROOT / "scripts" / "README.md").read_text()
    missing = [
        p.name
        for p in sorted((ROOT / "scripts").iterdir())
        if p.is_file() and p.name != "README.md" and f"`{p.name}`" not in readme
    ]
    assert not missing, f"scripts/README.md does not say what these are for: {missing}"


def test_formatting_is_ruff_format_with_no_exceptions():
    # `make lint` runs ruff format --check; a "# fmt: skip" would exempt a line from it
    skipped = [
        f"{p.relative_to(ROOT)}:{i}"
        for folder in ("helpers", "tests", "scripts", "benchmarks", "browser_tests", "book")
        for p in sorted((ROOT / folder).rglob("*.py"))
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if line.rstrip().endswith("# fmt" + ": skip")
    ]
    assert not skipped, skipped
