"""The notebooks in notebooks/ run top to bottom: each percent-format source is turned into a
notebook in memory (jupytext) and executed in a fresh kernel (nbclient) with
MINIGEN_NOTEBOOK_FAST=1, which picks each notebook's small settings; a cell that raises fails
the test and names the cell.

The kernel is this interpreter (``sys.executable``), through a kernelspec written into a
temporary folder, so the notebooks import the minigen under test and nothing is installed
outside the test's own files. Needs the ``test`` extra (jupytext, nbclient, ipykernel).
"""
import json
import pathlib
import sys

import pytest

jupytext = pytest.importorskip('jupytext')
nbclient = pytest.importorskip('nbclient')
pytest.importorskip('ipykernel')
from jupyter_client import KernelManager  # noqa: E402  (after the skips)
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / 'notebooks').glob('[0-9]*.py'))
KERNEL = 'minigen-under-test'
CELL_TIMEOUT = 120      # seconds: a cell that hangs fails instead of stalling the suite


def test_the_series_has_five_chapters():
    assert [p.name[:2] for p in NOTEBOOKS] == ['01', '02', '03', '04', '05']


@pytest.fixture(scope='module')
def kernel_dir(tmp_path_factory):
    """A folder holding one kernelspec that starts an IPython kernel on this interpreter."""
    folder = tmp_path_factory.mktemp('kernels')
    (folder / KERNEL).mkdir()
    spec = {'argv': [sys.executable, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
            'display_name': 'minigen under test', 'language': 'python'}
    (folder / KERNEL / 'kernel.json').write_text(json.dumps(spec))
    return folder


def run_notebook(path, kernel_dir):
    """Execute the notebook built from ``path``; return it with its outputs."""
    notebook = jupytext.read(path)
    manager = KernelManager(kernel_name=KERNEL,
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)]))
    client = nbclient.NotebookClient(notebook, km=manager, timeout=CELL_TIMEOUT,
                                     resources={'metadata': {'path': str(path.parent)}})
    client.execute()
    return notebook


@pytest.mark.parametrize('path', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, kernel_dir, monkeypatch):
    monkeypatch.setenv('MINIGEN_NOTEBOOK_FAST', '1')      # the kernel inherits this
    try:
        notebook = run_notebook(path, kernel_dir)
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f'{path.name}: a cell raised\n{error}', pytrace=False)
    code = [cell for cell in notebook.cells if cell.cell_type == 'code']
    assert code and all(cell.execution_count for cell in code)   # every cell ran
    assert any(cell.outputs for cell in code)                     # and something was shown


def test_every_notebook_has_one_settings_cell_reading_the_fast_switch():
    for path in NOTEBOOKS:
        text = path.read_text()
        assert text.count("os.environ.get('MINIGEN_NOTEBOOK_FAST') == '1'") == 1, path.name
        assert text.startswith('# ---\n# jupyter:'), path.name   # jupytext's header
