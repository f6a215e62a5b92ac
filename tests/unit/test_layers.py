"""The layers hold (docs/architecture.md): services get domain records from the
repositories and hand them plans, with no SQL of their own; the doors present
domain records, never ORM rows. Read from the source, so that a shortcut fails here
before it spreads."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "recur"
SERVICES = sorted((SRC / "services").glob("*.py"))
DOORS = sorted(path for door in ("api", "web", "cli", "pdf") for path in (SRC / door).rglob("*.py"))
# What a unit of work's session is for a service: a handle passed on to db/.
SESSION_METHODS = {
    "execute",
    "scalars",
    "scalar",
    "get",
    "get_one",
    "add",
    "add_all",
    "flush",
    "delete",
    "merge",
    "query",
    "refresh",
}


def _imports(tree: ast.Module) -> list[tuple[str, str]]:
    """(module, name) of every import of the module."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, "") for alias in node.names)
    return found


def _name(path: Path) -> str:
    return str(path.relative_to(SRC))


@pytest.mark.parametrize("path", SERVICES, ids=_name)
def test_a_service_builds_no_sql_and_touches_no_row(path: Path) -> None:
    tree = ast.parse(path.read_text())
    wrong = [
        f"{module}.{name}"
        for module, name in _imports(tree)
        if module == "recur.db.models"
        or (module.startswith("sqlalchemy") and (module, name) != ("sqlalchemy.orm", "Session"))
    ]
    assert wrong == [], f"{_name(path)} imports {wrong}"
    calls = sorted(
        {
            node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "session"
            and node.func.attr in SESSION_METHODS
        }
    )
    assert calls == [], f"{_name(path)} calls session.{calls}"


@pytest.mark.parametrize("path", DOORS, ids=_name)
def test_a_door_presents_domain_records(path: Path) -> None:
    tree = ast.parse(path.read_text())
    rows = [name for module, name in _imports(tree) if module == "recur.db.models"]
    assert rows == [], f"{_name(path)} imports ORM rows {rows}"
