"""Who may import whom, read from the source: Qt only in ui/, and ui/ never reaches back for the entry point."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "sniper_app"
QT = ("PySide6", "qasync")


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function, absolute names only."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(inside_ui: bool) -> list[Path]:
    ui = PACKAGE / "ui"
    return [p for p in sorted(PACKAGE.rglob("*.py")) if (ui in p.parents) == inside_ui]


def test_qt_is_imported_only_under_ui() -> None:
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(n for n in _imports(p) if n.split(".")[0] in QT)
        for p in _modules(inside_ui=False)
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_ui_does_not_import_the_entry_point() -> None:
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(
            n for n in _imports(p)
            if n in ("sniper_app.app", "sniper_app.cli") or n.startswith(("sniper_app.app.", "sniper_app.cli.")))
        for p in _modules(inside_ui=True)
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_checks_see_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from sniper_app.app import run_window\n    import qasync\n", encoding="utf-8")
    assert {"sniper_app.app", "sniper_app.app.run_window", "qasync"} <= _imports(sample)
