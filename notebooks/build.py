"""Build the notebooks: each percent-format source notebooks/NN_*.py becomes NN_*.ipynb beside
it, executed top to bottom so that its outputs (printed text, pictures) are saved inline.

The kernel is this interpreter (``sys.executable``), through a kernelspec written into a
temporary folder: nothing is installed into Jupyter's own folders, and the notebooks import
the minigen this interpreter imports. tests/test_notebooks.py runs the notebooks with the same
``execute``.

    pip install -e '.[notebooks]'
    python notebooks/build.py                  # all five, full settings (about a minute each
                                               # at most on 2 cores)
    python notebooks/build.py 03_the_vae.py    # one
    python notebooks/build.py --fast           # the small settings the test suite uses
"""
import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

import jupytext
import nbclient
import nbformat
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

HERE = pathlib.Path(__file__).resolve().parent
KERNEL = 'minigen-notebooks'
CELL_TIMEOUT = 300      # seconds: a cell that hangs fails instead of stalling the build


def sources():
    """The notebooks' sources, in reading order."""
    return sorted(HERE.glob('[0-9][0-9]_*.py'))


def write_kernelspec(folder):
    """A kernelspec in ``folder`` that starts an IPython kernel on this interpreter."""
    spec = {'argv': [sys.executable, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
            'display_name': 'Python 3 (minigen)', 'language': 'python'}
    (pathlib.Path(folder) / KERNEL).mkdir(exist_ok=True)
    (pathlib.Path(folder) / KERNEL / 'kernel.json').write_text(json.dumps(spec))


def execute(path, fast=False):
    """The notebook built from the source ``path``, executed in a fresh kernel whose working
    folder is the source's; ``fast`` sets MINIGEN_NOTEBOOK_FAST=1 (the small settings).
    Raises nbclient's CellExecutionError, naming the cell, if a cell raises."""
    notebook = jupytext.read(path)
    with tempfile.TemporaryDirectory() as folder:
        write_kernelspec(folder)
        specs = KernelSpecManager(kernel_dirs=[folder])
        manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)
        env = dict(os.environ, MINIGEN_NOTEBOOK_FAST='1' if fast else '0')
        client = nbclient.NotebookClient(notebook, km=manager, timeout=CELL_TIMEOUT,
                                         resources={'metadata': {'path': str(path.parent)}})
        client.execute(env=env)
    notebook.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3',
                                       'language': 'python'}   # what readers' Jupyter has
    return notebook


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('names', nargs='*', help='sources to build (default: all)')
    parser.add_argument('--fast', action='store_true', help='the small settings of the tests')
    args = parser.parse_args()
    paths = [HERE / name for name in args.names] or sources()
    for path in paths:
        began = time.perf_counter()
        notebook = execute(path, fast=args.fast)
        nbformat.write(notebook, path.with_suffix('.ipynb'))
        print(f'wrote {path.with_suffix(".ipynb").relative_to(HERE.parent)} '
              f'({time.perf_counter() - began:.0f} s, the kernel\'s start included)')


if __name__ == '__main__':
    main()
