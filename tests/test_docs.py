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
