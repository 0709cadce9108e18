"""The layer rules of DEVELOPERS.md, enforced: the import-linter contracts in pyproject.toml must hold."""

import functools
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "import-linter is part of the [test] extra"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and " 0 broken" in result.stdout


LAYERED_PACKAGES = ("mixnet", "engine", "wire", "server", "client", "gui")  # under mixscope, below the command
# Cycles that exist today and are being taken apart; each must go from here once it is gone from the code (the
# test fails on a listed cycle that no longer exists, so this list only shrinks).
KNOWN_CYCLES: list[set[str]] = []  # none left


@functools.cache
def import_graph():
    """Every import between our modules, also those under `if TYPE_CHECKING:` and inside functions."""
    import grimp  # import-linter's graph builder, part of the [test] extra with it

    return grimp.build_graph("mixscope", cache_dir=None)


def test_nothing_below_the_command_imports_it():
    graph = import_graph()
    layered = {f"mixscope.{top}" for top in LAYERED_PACKAGES}
    upward = sorted(f"{module} -> {imported}" for module in graph.modules
                    if ".".join(module.split(".")[:2]) in layered
                    for imported in graph.find_modules_directly_imported_by(module)
                    if imported.split(".")[0] == "mixscope" and ".".join(imported.split(".")[:2]) not in layered)
    assert not upward, f"the command modules (mixscope.cli, mixscope.demo, ...) sit on top: {upward}"


def import_cycles() -> list[set[str]]:
    """The strongly connected components (more than one module) of the module import graph of our packages."""
    graph = import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for start in sorted(graph.modules):  # Tarjan's algorithm, iteratively: the graph is a few hundred modules
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return components


def test_no_import_cycles_between_modules():
    cycles = import_cycles()
    new = [sorted(c) for c in cycles if c not in KNOWN_CYCLES]
    assert not new, f"modules that import each other (directly or around a loop): {new}"
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in cycles]
    assert not gone, f"these cycles are gone: remove them from KNOWN_CYCLES: {gone}"
