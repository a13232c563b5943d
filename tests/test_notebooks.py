"""The notebooks in notebooks/ run top to bottom: each percent-format source is turned into a
notebook in memory (jupytext) and executed in a fresh kernel (nbclient) with
MINIGEN_NOTEBOOK_FAST=1, which picks each notebook's small settings; a cell that raises fails
the test and names the cell.

The kernel is this interpreter (``sys.executable``) through a kernelspec in a temporary folder
(notebooks/build.py, whose ``execute`` this test uses), so the notebooks import the minigen under
test and nothing is installed. Needs the ``test`` extra (jupytext, nbclient, ipykernel).
"""
import importlib.util
import pathlib

import pytest

jupytext = pytest.importorskip('jupytext')
nbclient = pytest.importorskip('nbclient')
pytest.importorskip('ipykernel')

FOLDER = pathlib.Path(__file__).resolve().parent.parent / 'notebooks'
NOTEBOOKS = sorted(FOLDER.glob('[0-9][0-9]_*.py'))


def load_build_script():
    """notebooks/build.py as a module: the tests run the notebooks as the build does."""
    spec = importlib.util.spec_from_file_location('build_notebooks', FOLDER / 'build.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = load_build_script()


def test_the_series_has_five_chapters():
    assert [p.name[:2] for p in NOTEBOOKS] == ['01', '02', '03', '04', '05']
    assert build.sources() == NOTEBOOKS


@pytest.mark.parametrize('path', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path):
    try:
        notebook = build.execute(path, fast=True)
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f'{path.name}: a cell raised\n{error}', pytrace=False)
    code = [cell for cell in notebook.cells if cell.cell_type == 'code']
    assert code and all(cell.execution_count for cell in code)   # every cell ran
    assert any(cell.outputs for cell in code)                     # and something was shown


@pytest.mark.parametrize('path', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_built_notebook_holds_the_cells_of_its_source(path):
    """notebooks/NN_*.ipynb is built from NN_*.py (notebooks/build.py): an edit to the source
    without a rebuild leaves the two apart, and this test says which cell differs."""
    built = path.with_suffix('.ipynb')
    assert built.exists(), f'{built.name} is missing: python notebooks/build.py {path.name}'
    source = [(c.cell_type, c.source) for c in jupytext.read(path).cells]
    shown = [(c.cell_type, c.source) for c in jupytext.read(built).cells]
    for i, (want, have) in enumerate(zip(source, shown)):
        assert want == have, (f'{built.name} cell {i} differs from {path.name}: rebuild it '
                              f'with python notebooks/build.py {path.name}')
    assert len(source) == len(shown), f'{built.name}: rebuild it from {path.name}'
    assert any(c.get('outputs') for c in jupytext.read(built).cells), f'{built.name} unexecuted'


def test_every_notebook_has_one_settings_cell_reading_the_fast_switch():
    for path in NOTEBOOKS:
        text = path.read_text()
        assert text.count("os.environ.get('MINIGEN_NOTEBOOK_FAST') == '1'") == 1, path.name
        assert text.startswith('# ---\n# jupyter:'), path.name   # jupytext's header
