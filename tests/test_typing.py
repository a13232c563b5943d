"""The public API carries type hints, and says so: a ``py.typed`` marker ships beside the
package, so an editor and a type checker read minigen's hints as they read PyTorch's.

A new public function (or Tensor method) without a return annotation fails here, in minigen,
nn, optim and functional alike.
"""
import inspect
import pathlib

import pytest

import minigen as mg
from minigen import functional as F
from minigen import nn, optim


def _public_functions(namespace, names):
    """(name, function) for each name that is a function, skipping classes, modules and
    dtypes."""
    for name in names:
        obj = getattr(namespace, name)
        if inspect.isclass(obj) or inspect.ismodule(obj) or not callable(obj):
            continue
        yield name, obj


def _public_methods(cls):
    """(name, function) for each public method and property of ``cls`` (its own and inherited
    from minigen classes), names that do not start with '_'."""
    for name, member in inspect.getmembers(cls):
        if name.startswith('_'):
            continue
        member = inspect.getattr_static(cls, name)
        if isinstance(member, property):
            yield name, member.fget
        elif isinstance(member, (staticmethod, classmethod)):
            yield name, member.__func__
        elif inspect.isfunction(member) and member.__module__.startswith('minigen.'):
            yield name, member


def _has_return_annotation(fn):
    return inspect.signature(fn).return_annotation is not inspect.Signature.empty


def test_the_py_typed_marker_sits_beside_the_package():
    package = pathlib.Path(mg.__file__).parent
    assert (package / 'py.typed').is_file()


def test_the_public_functions_have_return_annotations():
    names = [*mg.__all__]
    found = dict(_public_functions(mg, names))
    assert {'tensor', 'zeros', 'grad', 'gradcheck', 'matmul', 'save'} <= set(found)
    missing = sorted(name for name, fn in found.items() if not _has_return_annotation(fn))
    assert missing == []


@pytest.mark.parametrize('cls', [mg.Tensor, mg.Function, nn.Module, nn.Parameter,
                                 optim.Optimizer, optim.SGD, optim.Adam, optim.AdamW],
                         ids=lambda cls: cls.__name__)
def test_the_public_methods_have_return_annotations(cls):
    methods = dict(_public_methods(cls))
    assert methods, f"no public methods found on {cls.__name__}"
    missing = sorted(name for name, fn in methods.items() if not _has_return_annotation(fn))
    assert missing == []


def test_the_layers_annotate_init_and_forward():
    missing = []
    for name in nn.__all__:
        cls = getattr(nn, name)
        if not (inspect.isclass(cls) and issubclass(cls, nn.Module)):
            continue
        for method in ('__init__', 'forward'):
            fn = inspect.getattr_static(cls, method, None)
            if inspect.isfunction(fn) and not _has_return_annotation(fn):
                missing.append(f'{name}.{method}')
    assert missing == []


def test_the_public_functions_of_nn_and_optim_have_return_annotations():
    found = {**{f'nn.{n}': f for n, f in _public_functions(nn, nn.__all__)},
             **{f'nn.init.{n}': f for n, f in _public_functions(nn.init, dir(nn.init))
                if not n.startswith('_') and f.__module__ == 'minigen.nn.init'},
             **{f'optim.{n}': f for n, f in _public_functions(optim, optim.__all__)}}
    assert 'optim.clip_grad_norm_' in found and 'nn.init.uniform_' in found
    missing = sorted(name for name, fn in found.items() if not _has_return_annotation(fn))
    assert missing == []


def test_the_functions_of_functional_have_return_annotations():
    found = dict(_public_functions(F, F.__all__))
    assert {'linear', 'rnn', 'cross_entropy', 'rnn_composed', 'dropout', 'relu'} <= set(found)
    assert len(found) == len(F.__all__)
    missing = sorted(name for name, fn in found.items() if not _has_return_annotation(fn))
    assert missing == []
