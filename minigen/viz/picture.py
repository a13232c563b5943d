"""``draw``: the graph of a tensor as a PNG or SVG picture, with Graphviz's ``dot`` when it is
installed and with matplotlib (the ``train`` extra) when it is not.

The matplotlib picture places the boxes with layout.py and sizes everything in inches from
the text it holds (a monospaced font, so a label's width is its length), so a picture of any
graph reads at the same size as every other: the figure grows with the layers, not the text
shrinks. Boxes are ops (the output's op in green), ellipse-like rounded boxes are leaves:
parameters in orange, data inputs in grey.
"""
from __future__ import annotations

import io
import pathlib

from ..core.tensor import Tensor
from .dot import COLOURS, dot_text, render_with_graphviz
from .graph import Graph, collect
from .layout import Layout, layered

FORMATS = ('png', 'svg')
FONT_SIZE = 8                               # points
CHAR_WIDTH = 0.61 * FONT_SIZE / 72          # inches: DejaVu Sans Mono's advance is 0.6 em
LINE_HEIGHT = 1.3 * FONT_SIZE / 72
PAD_X, PAD_Y = 0.09, 0.06                   # inches of space inside a box
MARGIN = 0.25
ENTRY_GAP = 0.1                             # inches between edges arriving at one box
MAX_SIDE, MAX_AREA = 30000, 50e6           # pixels of a PNG, at most: a huge graph's is coarser


def draw(tensor: Tensor, path: str | pathlib.Path | None = None, *, show_data: bool = False,
         show_grad: bool = False, names: dict[str, Tensor] | None = None,
         title: str | None = None, format: str | None = None) -> bytes | None:
    """Draw the graph of ``tensor`` (as ``to_dot`` describes it) into ``path`` (.png or .svg),
    or, with ``path=None`` and ``format='png'`` or ``'svg'``, return the picture's bytes.

    ``show_data`` writes each value into its box (the numbers for at most 6 elements, else
    min/mean/max); ``show_grad`` the gradient of ``tensor`` with respect to it, computed for
    the picture (graph.py says how); ``names`` ({name: Tensor}) labels the leaves, e.g.
    ``names=dict(model.named_parameters(), x=x)``. Graphviz's ``dot`` draws it when it is on
    PATH, matplotlib otherwise (``pip install 'minigen[train]'``)::

        loss = model.loss(x).loss.mean()
        mg.viz.draw(loss, 'graph.png', show_data=True, show_grad=True,
                    names=dict(model.named_parameters(), x=x))
    """
    fmt = _format_of(path, format)
    graph = collect(tensor, title=title, show_data=show_data, show_grad=show_grad, names=names,
                    op_name='draw')
    picture = render_with_graphviz(dot_text(graph), fmt)
    if picture is None:
        picture = render_with_matplotlib(graph, fmt)
    if path is None:
        return picture
    pathlib.Path(path).write_bytes(picture)
    return None


def _format_of(path, format):
    if format is not None and format not in FORMATS:
        raise ValueError(f"draw: format must be 'png' or 'svg'; got {format!r}")
    if path is None:
        if format is None:
            raise ValueError("draw: give a path ending in .png or .svg, or format='png' or "
                             "'svg' to get the picture's bytes back")
        return format
    suffix = pathlib.Path(path).suffix.lower().lstrip('.')
    if suffix not in FORMATS:
        raise ValueError(f"draw: {str(path)!r} must end in .png or .svg (for DOT text, "
                         "use mg.to_dot)")
    if format is not None and format != suffix:
        raise ValueError(f"draw: format={format!r} but the path {str(path)!r} ends in .{suffix}")
    return suffix


# ------------------------------------------------------------------------ the matplotlib picture

def render_with_matplotlib(graph: Graph, fmt: str) -> bytes:
    """The picture of ``graph`` drawn by matplotlib alone, as PNG or SVG bytes."""
    _require_matplotlib()
    sizes = {k: box_size(node.lines, len(node.inputs)) for k, node in graph.nodes.items()}
    layout = layered({k: node.inputs for k, node in graph.nodes.items()}, sizes)
    figure, axes = _blank_page(layout, graph.title)
    _draw_edges(axes, layout)
    for key, node in graph.nodes.items():
        _draw_box(axes, node, layout.centres[key], sizes[key])
    return _save(figure, fmt)


def _require_matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("draw: drawing without Graphviz needs matplotlib; install it with "
                          "pip install 'minigen[train]' (or install Graphviz)") from None
    return matplotlib


def _blank_page(layout, title):
    """A figure the size of the layout (plus margins and the title), whose data coordinates
    are the layout's inches, y downwards."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    top = MARGIN + (LINE_HEIGHT * 1.6 if title else 0.0)
    figure = Figure(figsize=(layout.width + 2 * MARGIN, layout.height + top + MARGIN))
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(-MARGIN, layout.width + MARGIN)
    axes.set_ylim(layout.height + MARGIN, -top)
    axes.axis('off')
    if title:
        axes.text(layout.width / 2, -top / 2 - MARGIN / 4, title, ha='center', va='center',
                  fontsize=FONT_SIZE + 2, fontweight='bold')
    return figure, axes


def _save(figure, fmt):
    """The figure's bytes. A PNG is compressed lightly (zlib's default takes several times as
    long on a big picture, for a file a third smaller), and a huge one is made coarser. An SVG
    keeps its text as text and is the same bytes for the same graph (no date, fixed ids), so a
    notebook's saved output diffs cleanly."""
    from matplotlib import rc_context
    width, height = figure.get_size_inches()
    dpi = min(150, MAX_SIDE / max(width, height), (MAX_AREA / (width * height)) ** 0.5)
    if fmt == 'png':
        extra: dict = {'pil_kwargs': {'compress_level': 2}}
    else:
        extra = {'metadata': {'Date': None}}
    out = io.BytesIO()
    with rc_context({'svg.fonttype': 'none', 'svg.hashsalt': 'minigen'}):
        figure.savefig(out, format=fmt, dpi=dpi, facecolor='white', **extra)
    return out.getvalue()


def box_size(lines: list[str], inputs: int = 0) -> tuple[float, float]:
    """(width, height) in inches of a box holding ``lines``, tall enough for its ``inputs``
    edges to arrive apart (a fused LSTM takes seven)."""
    return (max(len(line) for line in lines) * CHAR_WIDTH + 2 * PAD_X,
            max(len(lines) * LINE_HEIGHT + 2 * PAD_Y, inputs * ENTRY_GAP + 2 * PAD_Y))


def _draw_box(axes, node, centre, size):
    from matplotlib.patches import FancyBboxPatch
    (x, y), (w, h) = centre, size
    leaf = node.kind not in ('op', 'output')
    rounding = min(h / 2, 0.12) if leaf else 0.04
    axes.add_patch(FancyBboxPatch((x - w / 2 + rounding, y - h / 2 + rounding),
                                  w - 2 * rounding, h - 2 * rounding,
                                  boxstyle=f'round,pad={rounding}', facecolor=COLOURS[node.kind],
                                  edgecolor='#555555', linewidth=0.8, zorder=2))
    first = y - (len(node.lines) - 1) * LINE_HEIGHT / 2         # the text centred
    for i, line in enumerate(node.lines):
        axes.text(x, first + i * LINE_HEIGHT, line, ha='center', va='center',
                  family='DejaVu Sans Mono', fontsize=FONT_SIZE, zorder=3,
                  fontweight='bold' if i == 0 else 'normal')


def _draw_edges(axes, layout: Layout):
    from matplotlib.patches import FancyArrowPatch
    for _, _, points in layout.routes:
        axes.add_patch(FancyArrowPatch(path=_curve(points), arrowstyle='-|>,head_length=4,'
                                       'head_width=2', color='#555555', linewidth=0.8,
                                       shrinkA=0, shrinkB=0, zorder=1))


def _curve(points):
    """A smooth path through the points: each step a cubic Bézier curve that leaves and
    arrives horizontally, as Graphviz's splines do in a left-to-right drawing."""
    from matplotlib.path import Path
    points = [p for i, p in enumerate(points)        # no empty steps: an arrowhead needs a
              if i == 0 or abs(p[0] - points[i - 1][0]) + abs(p[1] - points[i - 1][1]) > 1e-9]
    vertices, codes = [points[0]], [Path.MOVETO]     # direction to point in
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        middle = (x0 + x1) / 2
        vertices += [(middle, y0), (middle, y1), (x1, y1)]
        codes += [Path.CURVE4] * 3
    return Path(vertices, codes)
