"""PyTorch's style of custom Function, run by the engine's own.

minigen's own style (function.py) gives ``forward`` and ``backward`` raw arrays and calls an
instance: ``Cube().apply(x)``. PyTorch's gives them Tensors and a ``ctx``, as static methods,
and calls the class::

    class Cube(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    y = Cube.apply(x)

A class written this way gets, when it is defined, an ``apply`` that records one node of the
engine (``CtxNode``, in function.py, whose two methods are ``run_forward`` and
``run_backward`` below): its forward runs the user's forward on Tensors that record nothing,
its backward runs the user's backward. Because that backward is written with Tensor
operations, it is differentiable too: under ``create_graph=True`` the saved tensors are the
node's real inputs and output, so a gradient of the gradient flows (gradgradcheck works).
"""
from __future__ import annotations

from typing import Any

from collections.abc import Callable

from .errors import GraphError
from .mode import no_grad
from .tensor import Tensor


def is_pytorch_style(cls: type) -> bool:
    """Whether a Function subclass writes forward as PyTorch does: a staticmethod taking ctx."""
    for klass in cls.__mro__:
        if 'forward' in klass.__dict__:
            return isinstance(klass.__dict__['forward'], staticmethod)
    return False


def install_apply(cls: type, make_node: Callable[..., Any]) -> None:
    """Give a PyTorch-style Function class its class-level ``apply`` (called on definition);
    ``make_node(cls, args, positions, ctx)`` makes the engine's node."""
    backward = next(k.__dict__['backward'] for k in cls.__mro__ if 'backward' in k.__dict__)
    if not isinstance(backward, staticmethod):
        raise TypeError(f"{cls.__name__}: forward is a staticmethod (PyTorch's style), so "
                        "backward must be one too: @staticmethod def backward(ctx, grad)")
    if 'setup_context' in cls.__dict__:
        raise TypeError(f"{cls.__name__}: setup_context is not supported; take ctx as "
                        "forward's first argument and save there (forward(ctx, *args))")
    def apply(cls, *args: Any) -> Tensor:
        """``MyFunction.apply(*args)``: the Tensors among args become the node's inputs."""
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not positions:
            raise TypeError(f"{cls.__name__}.apply: no argument is a Tensor; got "
                            f"{', '.join(type(a).__name__ for a in args) or 'no arguments'}")
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        node = make_node(cls, args, positions, Context(needs))
        return node.apply(*(args[i] for i in positions))
    cls.apply = classmethod(apply)


class Context:
    """The ``ctx`` a PyTorch-style forward and backward share."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._saved: tuple = ()
        self._resolve = None        # set by the node's backward: saved tensor -> what to hand

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward: argument {i} is a {type(t).__name__}; it "
                                "saves Tensors (keep other values as attributes of ctx)")
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._resolve is None:
            return self._saved
        return tuple(self._resolve(t) for t in self._saved)

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Accepted for PyTorch's sake: minigen's nodes have one output, and an integer or bool
        output never carries a gradient anyway."""

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch's sake: the gradient handed to backward is always a Tensor."""


def run_forward(node, arrays):
    """CtxNode.forward: the user's forward on Tensors over the input arrays, recording
    nothing; the output's array."""
    node.inner = [Tensor(a) for a in arrays]
    args = list(node.args)
    for i, t in zip(node.positions, node.inner):
        args[i] = t
    # the node keeps its inputs in ``inputs`` (freed after backward); the other arguments stay
    node.args = tuple(None if i in node.positions else a for i, a in enumerate(node.args))
    with no_grad():
        out = node.cls.forward(node.ctx, *args)
    if not isinstance(out, Tensor):
        raise TypeError(
            f"{node.name}.forward returned a {type(out).__name__}; a minigen node has one "
            "output, a Tensor (split a Function with several outputs into several)")
    node.inner_out = out
    return out.data


def run_backward(node, gy, inputs_and_y):
    """CtxNode.backward: the user's backward, on Tensors. Under create_graph (gy, the inputs
    and y are Tensors) the saved tensors are the node's real inputs and output, so the
    gradient it returns is differentiable."""
    graph = isinstance(gy, Tensor)
    if graph:
        inputs, y = inputs_and_y[:-1], inputs_and_y[-1]
        real = {id(t): x for t, x in zip(node.inner, inputs)}
        real[id(node.inner_out)] = y
        node.ctx._resolve = lambda t: real.get(id(t), t)
    try:
        grads = node.cls.backward(node.ctx, gy if graph else Tensor(gy))
    finally:
        node.ctx._resolve = None
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != len(node.args):
        raise GraphError(
            f"{node.name}.backward returned {len(grads)} gradients; it must return one per "
            f"argument of forward ({len(node.args)}), None for those that need none")
    picked = [grads[i] for i in node.positions]
    for i, g in zip(node.positions, picked):
        if g is not None and not isinstance(g, Tensor):
            raise GraphError(f"{node.name}.backward returned a {type(g).__name__} for "
                             f"argument {i}; return a Tensor or None")
    return tuple(picked) if graph else tuple(None if g is None else g.data for g in picked)
