"""The README's and docs' Python snippets run as written."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]


def python_blocks(path):
    return re.findall(r'```python\n(.*?)```', path.read_text(), flags=re.S)


@pytest.mark.parametrize('path', DOCS, ids=[p.name for p in DOCS])
def test_python_snippets_run(path):
    namespace = {}
    for block in python_blocks(path):
        exec(compile(block, str(path), 'exec'), namespace)


def test_readme_has_snippets():
    assert len(python_blocks(ROOT / 'README.md')) >= 2


@pytest.mark.parametrize('name', ['how-it-works.md', 'gradient-checking.md', 'backends.md'])
def test_printed_outputs_in_the_docs_are_what_the_code_prints(name):
    import doctest
    import minigen as mg
    mg.manual_seed(0)
    path = ROOT / 'docs' / name
    if not path.exists():
        pytest.skip(f'{name} is not written')
    failures, tried = doctest.testfile(str(path), module_relative=False,
                                       optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0 and (tried > 0 or '>>>' not in path.read_text())
