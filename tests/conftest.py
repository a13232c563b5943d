"""One fixture runs a test on every backend: NumPy always, CuPy where a GPU is present."""
import os
import sys

import pytest
from hypothesis import settings

import minigen as mg

# tests/helpers.py is shared by the test folders (which mirror minigen/'s)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

settings.register_profile('default', max_examples=100, deadline=None)
settings.register_profile('slow', max_examples=1000, deadline=None)
settings.load_profile(os.environ.get('MINIGEN_HYPOTHESIS', 'default'))


@pytest.fixture(params=['numpy', 'cupy'])
def device(request):
    """'cpu' or 'cuda'; new tensors go to that device for the length of the test."""
    name = request.param
    if name == 'cupy':
        status = mg.backend.available()['cupy']
        if status is not True:
            pytest.skip(f"cupy backend unavailable: {status}")
    previous = mg.backend.current()
    mg.backend.use(name)
    yield 'cpu' if name == 'numpy' else 'cuda'
    mg.backend.use(previous)


@pytest.fixture(autouse=True)
def _seeded():
    mg.manual_seed(0)
