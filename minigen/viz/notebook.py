"""A tensor in Jupyter: its repr, and under it the picture of the graph that made it."""
from __future__ import annotations

import html

from ..core.tensor import Tensor
from .graph import collect
from .picture import render_with_graphviz, render_with_matplotlib
from .dot import dot_text

MOST_NODES = 200            # a bigger graph is no picture to read inline: Jupyter shows the repr


def html_of_graph(tensor: Tensor) -> str | None:
    """HTML for Jupyter: ``repr(tensor)`` and an inline SVG of its graph; None (so Jupyter
    shows the plain repr) for a leaf, a freed graph, a graph too big to read, or where
    neither Graphviz nor matplotlib can draw."""
    if tensor.creator is None or tensor.creator.inputs is None:
        return None
    graph = collect(tensor)
    if len(graph.nodes) > MOST_NODES:
        return None
    svg = render_with_graphviz(dot_text(graph), 'svg')
    if svg is None:
        try:
            svg = render_with_matplotlib(graph, 'svg')
        except ImportError:
            return None
    text = svg.decode()
    return f'<pre>{html.escape(repr(tensor))}</pre>\n' + text[text.find('<svg'):]
