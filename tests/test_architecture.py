"""The shape of the code, as DESIGN.md draws it, checked on every run: imports flow one way
between the layers, only the Stripe transport imports `stripe`, and no module imports itself
back through others (an import circle)."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KASSA = ROOT / "kassa"

# A package may import the packages of a lower layer, and any of its own layer but those named
# in SEPARATE; never one of a higher layer.
LAYERS: dict[str, int] = {
    "common": 0,
    "metrics": 0,
    "stripe_api": 1,
    "catalog": 1,
    "orders": 2,
    "payments": 3,
    "notifications": 3,
    "customers": 3,
    "promotions": 3,
    "giftcards": 3,
    "integrations": 3,
    "storefront": 4,
    "api": 4,
    "backoffice": 4,
    # The stand-in for Stripe: the far side of the transport, knowing nothing of the shop.
    "demo_stripe": 2,
}
# The transport knows no model, the catalog knows no payment.
SEPARATE = {
    ("stripe_api", "catalog"),
    ("catalog", "stripe_api"),
    ("orders", "stripe_api"),
    ("demo_stripe", "catalog"),
    ("demo_stripe", "orders"),
}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(KASSA.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


MODULES = dict(_modules())


def _imports(name: str, path: Path) -> set[str]:
    """The modules `name` imports, anywhere in it (a function-local import is an import)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            for alias in node.names:
                # `from kassa.orders import cart`: the module kassa.orders.cart if there is one.
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return found


GRAPH = {name: {i for i in _imports(name, path) if i in MODULES} for name, path in MODULES.items()}


def _app(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def test_only_the_stripe_transport_imports_stripe() -> None:
    importers = sorted(
        name
        for name, path in MODULES.items()
        if any(i == "stripe" or i.startswith("stripe.") for i in _imports(name, path))
    )
    assert importers
    assert [name for name in importers if _app(name) != "stripe_api"] == []


def test_imports_flow_down_the_layers() -> None:
    wrong = []
    for module, imported in GRAPH.items():
        mine = _app(module)
        for other in imported:
            theirs = _app(other)
            if theirs == mine or mine not in LAYERS or theirs not in LAYERS:
                continue
            if LAYERS[theirs] > LAYERS[mine] or (mine, theirs) in SEPARATE:
                wrong.append(f"{module} imports {other}")
    assert wrong == []


def _cycle_from(start: str) -> list[str] | None:
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        if module in on_path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        path.append(module)
        on_path.add(module)
        for other in sorted(GRAPH[module]):
            found = visit(other)
            if found:
                return found
        path.pop()
        on_path.discard(module)
        done.add(module)
        return None

    return visit(start)


done: set[str] = set()


def test_no_module_imports_itself_back() -> None:
    done.clear()
    cycles = [cycle for module in sorted(GRAPH) if (cycle := _cycle_from(module))]
    assert [" → ".join(cycle) for cycle in cycles] == []


@pytest.mark.parametrize("app", ["catalog", "orders", "payments"])
def test_the_domain_apps_have_no_views_or_urls(app: str) -> None:
    assert not (KASSA / app / "views.py").exists()
    assert not (KASSA / app / "urls.py").exists()
    assert not [m for m in MODULES if m.startswith(f"kassa.{app}.") and "views" in m]
