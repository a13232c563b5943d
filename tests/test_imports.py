"""Only the backend module may import numpy or cupy: everything else runs on either."""
import ast
import pathlib

import minigen

PACKAGE = pathlib.Path(minigen.__file__).parent


def _imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


# Host-only code, which never touches device arrays, may import numpy directly (DESIGN.md).
HOST_ONLY = {'train/report.py', 'bench/numpy_steps.py', 'bench/workloads.py'}


def test_only_the_backend_imports_numpy_or_cupy():
    offenders = []
    for path in sorted(PACKAGE.rglob('*.py')):
        if path.name == 'backend.py' and path.parent == PACKAGE:
            continue
        if path.relative_to(PACKAGE).as_posix() in HOST_ONLY:
            continue
        for line, module in _imported_modules(path):
            root = module.split('.')[0]
            if root in ('numpy', 'cupy', 'cupyx'):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    assert offenders == []


def test_the_scan_sees_the_backend_import():
    # guards the test above against scanning nothing
    modules = [m for _, m in _imported_modules(PACKAGE / 'backend.py')]
    assert 'numpy' in modules
