"""No import cycles inside a package: each module's imports form a graph without loops (imports made only for
type checking included), so any module can be read, tested and changed from the ones below it."""

import grimp
import pytest

PACKAGES = ("server", "client", "mixnet", "engine")  # gui/ joins once its controller no longer imports the window


def cycles(graph, package: str) -> list[list[str]]:
    """The package's strongly connected components of more than one module (Tarjan's algorithm)."""
    modules = {m for m in graph.modules if m.split(".")[0] == package}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in modules:
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside(graph, package):
    assert cycles(graph, package) == []


def test_the_check_finds_a_cycle():
    graph = grimp.build_graph("server", exclude_type_checking_imports=False)  # its own: this one is changed
    graph.add_import(importer="server.election.common", imported="server.election.coordinator")
    assert any("server.election.common" in component for component in cycles(graph, "server"))
