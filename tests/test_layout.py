"""The layout is the table of contents: each layer imports only the layers before it, nothing
imports in a cycle, and only the backend chooses between NumPy and CuPy.

The layers, from DESIGN.md (a module may import its own package's modules and any earlier
layer, at module level or inside a function, never a later one):

    core → ops → functional → nn, optim, distributions → check, viz, io, data → models
         → the public API (minigen/__init__.py) → train, bench → cli, __main__
"""
import ast
import pathlib

import minigen

PACKAGE = pathlib.Path(minigen.__file__).parent
LAYERS = [('core',), ('ops',), ('functional',), ('nn', 'optim', 'distributions'),
          ('check', 'viz', 'io', 'data'), ('models',), ('',), ('train', 'bench'),
          ('cli', '__main__')]
LAYER_OF = {part: i for i, parts in enumerate(LAYERS) for part in parts}
# Host-only code, which never touches device arrays, may import numpy directly (DESIGN.md).
HOST_ONLY = {'io/container.py', 'data/idx.py', 'train/report.py', 'train/pictures.py',
             'bench/numpy_steps.py',
             'bench/workloads.py', 'bench/numpy_lstm.py'}


def modules():
    """{dotted name: path} for every module of the package (a package is its __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob('*.py')):
        parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
        if parts[-1] == '__init__':
            parts = parts[:-1]
        found['.'.join(parts)] = path
    return found


def imports(name, path, known):
    """(line, module imported) for every import in the file, relative ones resolved, and
    ``from package import submodule`` counted as an import of the submodule."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == '__init__.py' else name.rpartition('.')[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                sub = f'{target}.{alias.name}'
                yield node.lineno, sub if sub in known else target


def layer(name):
    parts = name.split('.')
    return LAYER_OF['' if len(parts) == 1 else parts[1]]


def internal_imports():
    known = modules()
    for name, path in known.items():
        for line, target in imports(name, path, known):
            if target == 'minigen' or target.startswith('minigen.'):
                yield name, path, line, target


def test_no_module_imports_a_later_layer():
    upward = []
    for name, path, line, target in internal_imports():
        same_package = name.split('.')[:2] == target.split('.')[:2]
        if not same_package and layer(target) > layer(name):
            upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert upward == []


def test_the_modules_import_each_other_in_no_cycle():
    graph = {}
    for name, _, _, target in internal_imports():
        if target != name:
            graph.setdefault(name, set()).add(target)
    cycles = []
    state = {}                          # name -> 'open' while on the stack, 'done' after

    def visit(start):
        stack = [(start, iter(sorted(graph.get(start, ()))))]
        state[start], path = 'open', [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 'done'
            elif state.get(child) == 'open':
                cycles.append(' → '.join(path[path.index(child):] + [child]))
            elif child not in state:
                state[child] = 'open'
                path.append(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert cycles == []


def test_every_module_has_a_layer():
    for name in modules():
        assert layer(name) is not None, name


def test_only_the_backend_imports_numpy_or_cupy():
    offenders = []
    known = modules()
    for name, path in known.items():
        relative = path.relative_to(PACKAGE).as_posix()
        if relative == 'core/backend.py' or relative in HOST_ONLY:
            continue
        for line, module in imports(name, path, known):
            if module.split('.')[0] in ('numpy', 'cupy', 'cupyx'):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    assert offenders == []


def test_the_scans_see_what_they_look_for():
    # guards the tests above against scanning nothing
    known = modules()
    backend = [m for _, m in imports('minigen.core.backend', known['minigen.core.backend'],
                                     known)]
    assert 'numpy' in backend
    found = {(n, t) for n, _, _, t in internal_imports()}
    assert ('minigen.nn.layers', 'minigen.functional') in found
    assert ('minigen.core.function', 'minigen.core.tensor') in found
