"""See the graph and watch the engine.

``to_dot(tensor)`` writes the graph behind a tensor in Graphviz's DOT language; ``draw(tensor,
'graph.png')`` draws it (Graphviz when installed, else matplotlib), with ``show_data`` and
``show_grad`` putting the values and the gradients in the boxes; ``with trace():`` prints every
op recorded in forward and every backward call, in the order the engine makes them. In
Jupyter, a tensor made by an op shows its graph under its value (``Tensor._repr_html_``).

    graph.py    the graph as plain data: nodes, labels, names, values, gradients
    dot.py      DOT text, and Graphviz's dot program when present
    layout.py   a layered layout in plain Python (Sugiyama's steps)
    picture.py  draw(): the picture, by Graphviz or matplotlib
    trace.py    trace(): the engine's events as they happen
"""
from ..core.tensor import use_picture
from .dot import to_dot
from .notebook import html_of_graph
from .picture import draw
from .trace import Tracer, trace

use_picture(html_of_graph)      # Tensor._repr_html_ draws with it (see core/tensor.py's slots)

__all__ = ['to_dot', 'draw', 'trace', 'Tracer']
