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


@pytest.mark.parametrize('record', sorted((ROOT / 'docs' / 'results').glob('*.json')),
                         ids=lambda p: p.stem)
def test_each_results_table_is_its_sweep_s_output(record):
    """docs/results.md pastes what each sweep printed; docs/results/NAME.json is that sweep's
    sweep.json. Its tables, rendered again, appear in the page word for word, under the
    command that made them."""
    import json
    from minigen.train.sweep_report import table
    summary = json.loads(record.read_text())
    page = (ROOT / 'docs' / 'results.md').read_text()
    assert table(summary) in page
    command = ' '.join(summary['command'].split()[:-2])           # but for its --out
    assert f"python -m {command} --out results/{record.stem}" in ' '.join(page.split())
