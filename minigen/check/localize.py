"""Finding the node: which op of a whole graph has the wrong backward.

When a whole model's gradient is wrong, ``localize(fn, inputs)`` runs fn once, recording every
node and the line of the user's code that created it (``record.py``), then gradchecks each
node alone on the very inputs it saw, in the order they were created, and names the first that
disagrees. ``gradcheck(..., localize=True)`` appends its report to a failure's.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.tensor import Tensor
from .compare import check_gradients
from .numeric import prepare
from .record import recorded_ops, replay
from .report import name_of


@dataclass
class Localisation:
    """The first node (in the order the graph was built) whose backward disagrees with finite
    differences on the very inputs it saw; ``report`` says which, where, and how."""
    op: str | None = None
    created_at: str | None = None
    report: str = ''
    nodes_checked: int = 0


def localize(fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6, atol: float = 1e-5,
             rtol: float = 1e-3, nsample: int | None = 20,
             name: str | None = None) -> Localisation:
    """Run ``fn`` once, recording its graph, then gradcheck every node on its own inputs, in
    the order they were created. Returns a ``Localisation`` naming the first node that fails
    (``op`` None if every node passes: then the fault is in how the nodes are joined)."""
    name = name or name_of(fn)
    inputs = prepare(list(inputs), name)
    nodes = [n for n in recorded_ops(fn, inputs, name) if n.inputs is not None]  # in the graph
    for count, node in enumerate(nodes, 1):
        node_inputs = [Tensor(x.data.copy(), requires_grad=x.requires_grad) for x in node.inputs]
        result = check_gradients(replay(node), node_inputs, eps, atol, rtol, nsample,
                                 name=f'{node.name} (created at {node.created_at})')
        if not result.ok:
            return Localisation(node.name, node.created_at,
                                f"the first node whose backward disagrees: {node.name}, created "
                                f"at {node.created_at} (node {count} of {len(nodes)})\n"
                                + result.report, count)
    return Localisation(report=f"every one of the {len(nodes)} nodes passes on its own inputs: "
                               "the fault is between them (an op applied outside the graph, a "
                               "detach, a constant that should depend on an input)",
                        nodes_checked=len(nodes))
