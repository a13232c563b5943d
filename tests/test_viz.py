"""Seeing the graph and tracing the engine."""
import io
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

import minigen as mg
from minigen import viz
from minigen.cli import main
from minigen.viz import dot as dot_module, layout
from minigen.viz.graph import collect, summary


def small_graph():
    a = mg.tensor([[0.1, 0.2]], requires_grad=True, name='a')
    b = mg.tensor([[0.3], [0.4]], requires_grad=True, name='b')
    c = mg.tensor([[2.0]])
    return a, b, ((a @ b) * c).tanh().sum()


def test_to_dot_draws_a_box_per_op_and_an_ellipse_per_leaf_in_data_flow_order():
    a, b, y = small_graph()
    dot = viz.to_dot(y, title='tiny')
    assert dot.startswith('digraph minigen {') and dot.rstrip().endswith('}')
    assert dot.count('shape=box') == 4                          # matmul, mul, tanh, sum
    assert dot.count('shape=ellipse') == 3                      # a, b and the constant c
    assert 'label="a\\n(1, 2) float32\\nrequires grad"' in dot
    assert 'label="matmul\\n(1, 1) float32"' in dot and 'label="sum\\n() float32"' in dot
    assert dot.count(' -> ') == 6                               # 2 + 2 + 1 + 1 edges


def test_to_dot_after_backward_says_the_graph_was_freed():
    _, _, y = small_graph()
    y.backward()
    assert 'freed by backward' in viz.to_dot(y)


def test_trace_reports_forward_then_backward_in_the_engines_order():
    out = io.StringIO()
    a, b, y = None, None, None
    with viz.trace(file=out) as tracer:
        a, b, y = small_graph()
        y.backward()
    kinds = [(e[0], e[1]) for e in tracer.events]
    assert kinds == [('forward', 'matmul'), ('forward', 'mul'), ('forward', 'tanh'),
                     ('forward', 'sum'), ('backward', 'sum'), ('backward', 'tanh'),
                     ('backward', 'mul'), ('backward', 'matmul')]
    # the incoming gradient of the root is 1; matmul hands a gradient to each of its inputs
    assert tracer.events[4][2:4] == ((), 1.0)
    assert [shape for shape, _ in tracer.events[-1][4]] == [(1, 2), (2, 1)]
    text = out.getvalue().splitlines()
    assert text[0].startswith('forward   matmul') and '(1, 2), (2, 1) -> (1, 1)' in text[0]
    assert text[-1].startswith('backward  matmul')


def test_trace_ends_with_its_block():
    with viz.trace(file=False):
        pass
    from minigen.core import mode
    assert mode.observers.active == []


@pytest.mark.parametrize('model', ['vae', 'gan', 'charrnn'])
def test_graph_command_writes_dot(model, tmp_path, capsys):
    out = tmp_path / 'g.dot'
    assert main(['graph', model, '--out', str(out)]) == 0
    text = out.read_text()
    assert text.startswith('digraph') and 'requires grad' in text


def no_graphviz(monkeypatch):
    monkeypatch.setattr(dot_module.shutil, 'which', lambda name: None)


def labels_of(y, **keywords):
    return {node.lines[0]: node.lines for node in collect(y, **keywords).nodes.values()}


# ------------------------------------------------------------------------------ names and numbers

def test_leaves_are_named_from_names_then_their_own_name_then_by_their_place():
    model = mg.nn.Linear(3, 2)
    x, target = mg.rand(4, 3), mg.tensor(mg.rand(4, 2).numpy(), name='target')
    loss = mg.nn.functional.mse_loss(model(x.detach()), target) * 0.5
    labels = labels_of(loss, names=dict(model.named_parameters(), x=x))
    assert {'W', 'b', 'x', 'target', 'constant'} <= set(labels)    # x reached as x.detach()
    assert labels['constant'][-1] == '0.5'                  # a constant always shows its value
    unnamed = labels_of(loss)
    assert 'linear input 0' in unnamed and 'leaf' in unnamed


@pytest.mark.parametrize('bad, message', [(['x'], 'names must be a dict'),
                                          ({'x': 1.0}, "names['x'] must be a Tensor")])
def test_names_that_are_not_a_dict_of_tensors_raise(bad, message):
    _, _, y = small_graph()
    with pytest.raises(TypeError, match=r"to_dot: " + message.replace('[', r'\[')):
        viz.to_dot(y, names=bad)


@pytest.mark.parametrize('values, expected', [
    ([1.5], '[1.5]'), ([[1, 2, 3], [4, 5, 6]], '[[1, 2, 3], [4, 5, 6]]'),
    ([0.123456789], '[0.1235]'), (list(range(7)), 'min 0 mean 3 max 6'),
    ([True] * 3 + [False] * 5, '3 of 8 true')])
def test_a_summary_shows_small_tensors_whole_and_big_ones_by_min_mean_max(values, expected):
    assert summary(mg.tensor(values)) == expected


def test_show_grad_gives_the_gradient_of_the_output_at_every_node_and_leaf():
    a = mg.tensor([1.0, 2.0], requires_grad=True, name='a')
    b = mg.tensor([3.0, -1.0], requires_grad=True, name='b')
    y = ((a * b).tanh() * 2).sum()
    labels = labels_of(y, show_data=True, show_grad=True)
    ga, gb = mg.grad(y, [a, b], retain_graph=True)
    assert labels['sum'][2:] == ['data ' + summary(y), 'grad 1']
    assert labels['tanh'][3] == 'grad [2, 2]'       # tanh's output t goes on as 2t, summed
    assert labels['a'][-1] == 'grad ' + summary(ga) and labels['b'][-1] == 'grad ' + summary(gb)
    with viz.trace(file=False) as tracer:           # the picture's own walk is not traced
        viz.to_dot(y, show_grad=True)
    assert tracer.events == []
    assert a.grad is None and b.grad is None        # the picture leaves .grad alone ...
    y.backward()                                    # ... and the graph as it was
    assert summary(a.grad) == summary(ga)


def test_show_grad_on_a_graph_freed_by_backward_says_to_draw_before_it():
    _, _, y = small_graph()
    y.backward()
    with pytest.raises(mg.GraphError, match=r'to_dot\(show_grad=True\).*retain_graph=True'):
        viz.to_dot(y, show_grad=True)


# -------------------------------------------------------------------------------------- the layout

@st.composite
def dags(draw):
    """Random graphs with a node's inputs among the earlier nodes, and one sink at the end."""
    count = draw(st.integers(2, 14))
    inputs = {f'n{i}': [f'n{j}' for j in draw(st.lists(st.integers(0, i - 1), max_size=3))]
              if i else [] for i in range(count)}
    used = {u for us in inputs.values() for u in us}
    inputs[f'n{count}'] = [v for v in inputs if v not in used]
    sizes = {v: (draw(st.floats(0.3, 2.0)), draw(st.floats(0.2, 1.0))) for v in inputs}
    return inputs, sizes


def assert_reads_well(inputs, sizes, result):
    """No two boxes overlap; every edge runs left to right, from its source to its target,
    and it passes between boxes, never through one."""
    boxes = {v: (x - sizes[v][0] / 2, y - sizes[v][1] / 2, x + sizes[v][0] / 2,
                 y + sizes[v][1] / 2) for v, (x, y) in result.centres.items()}
    keys = list(boxes)
    for i, u in enumerate(keys):
        for v in keys[i + 1:]:
            (l1, t1, r1, b1), (l2, t2, r2, b2) = boxes[u], boxes[v]
            assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1, (u, v)
    assert len(result.routes) == sum(len(us) for us in inputs.values())
    for source, target, points in result.routes:
        assert points[0][0] == pytest.approx(boxes[source][2])
        assert points[-1][0] == pytest.approx(boxes[target][0])
        assert all(p[0] <= q[0] + 1e-9 for p, q in zip(points, points[1:]))
        assert boxes[target][1] <= points[-1][1] <= boxes[target][3]
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            x0, x1 = x0 + 1e-9, x1 - 1e-9           # touching a box's side is fine
            if y0 == y1:        # a straight stretch, through a layer: between its boxes
                assert not any(l < x1 and x0 < r and t < y0 < b for l, t, r, b in boxes.values())
            else:               # a bend: only between layers, where no box is
                assert not any(l < x1 and x0 < r for l, t, r, b in boxes.values())


@settings(max_examples=40, deadline=None)
@given(dags())
def test_the_layout_of_any_graph_has_no_overlapping_boxes_and_edges_flow_rightwards(graph):
    inputs, sizes = graph
    assert_reads_well(inputs, sizes, layout.layered(inputs, sizes))


@pytest.mark.parametrize('model', ['vae', 'gan', 'charrnn'])
def test_the_tiny_models_graphs_lay_out_with_no_overlaps(model):
    from minigen.cli.tools import _tiny_loss
    from minigen.viz.picture import box_size
    loss, names = _tiny_loss(model)
    graph = collect(loss, show_data=True, show_grad=True, names=names)
    inputs = {k: node.inputs for k, node in graph.nodes.items()}
    sizes = {k: box_size(node.lines, len(node.inputs)) for k, node in graph.nodes.items()}
    assert_reads_well(inputs, sizes, layout.layered(inputs, sizes))
    assert {'x', 'eps', 'real', 'fake', 'encoder.W', 'head.W'} & {
        node.lines[0] for node in graph.nodes.values()}


# --------------------------------------------------------------------------------------- pictures

def test_draw_without_graphviz_draws_with_matplotlib(monkeypatch, tmp_path):
    no_graphviz(monkeypatch)
    a, b, y = small_graph()
    png = viz.draw(y, format='png', show_data=True)
    assert png.startswith(b'\x89PNG')
    viz.draw(y, tmp_path / 'g.svg', show_grad=True, names={'first': a}, title='tiny')
    svg = (tmp_path / 'g.svg').read_text()
    for text in ('matmul', 'tanh', 'first', 'b', 'grad 1', 'tiny'):
        assert f'>{text}<' in svg or f'{text} ' in svg, text


def test_draw_uses_graphviz_when_present_and_falls_back_when_it_fails(monkeypatch):
    _, _, y = small_graph()
    calls = []

    def fake_dot(command, input, capture_output, timeout):
        calls.append((command, input.decode()))
        return subprocess.CompletedProcess(command, 0, b'<svg>from dot</svg>', b'')
    monkeypatch.setattr(dot_module.shutil, 'which', lambda name: '/usr/bin/dot')
    monkeypatch.setattr(dot_module.subprocess, 'run', fake_dot)
    assert viz.draw(y, format='svg') == b'<svg>from dot</svg>'
    assert calls[0][0] == ['/usr/bin/dot', '-Tsvg'] and calls[0][1].startswith('digraph')
    monkeypatch.setattr(dot_module.subprocess, 'run', lambda *a, **k: subprocess.CompletedProcess(
        a, 1, b'', b'syntax error'))
    with pytest.warns(UserWarning, match='status 1.*syntax error.*matplotlib'):
        assert viz.draw(y, format='png').startswith(b'\x89PNG')


@pytest.mark.parametrize('path, format, message', [
    (None, None, 'give a path ending in .png or .svg'), ('g.pdf', None, "'g.pdf' must end in .png"),
    (None, 'jpg', "format must be 'png' or 'svg'"), ('g.png', 'svg', "format='svg' but")])
def test_draw_says_what_it_can_write(path, format, message):
    _, _, y = small_graph()
    with pytest.raises(ValueError, match='draw: ' + message):
        viz.draw(y, path, format=format)


def test_draw_without_matplotlib_says_how_to_install_it(monkeypatch):
    no_graphviz(monkeypatch)
    monkeypatch.setitem(sys.modules, 'matplotlib', None)
    _, _, y = small_graph()
    with pytest.raises(ImportError, match=r"pip install 'minigen\[train\]'"):
        viz.draw(y, format='png')


def test_jupyter_shows_an_ops_output_with_its_graph_and_a_leaf_as_its_repr(monkeypatch):
    no_graphviz(monkeypatch)
    a, _, y = small_graph()
    page = y._repr_html_()
    assert page.startswith('<pre>tensor(') and '<svg' in page and '<?xml' not in page
    assert a._repr_html_() is None
    y.backward()
    assert y._repr_html_() is None                  # the graph is gone: the repr alone


@pytest.mark.parametrize('model', ['vae', 'gan', 'charrnn'])
def test_graph_command_draws_a_picture_without_graphviz(model, tmp_path, monkeypatch, capsys):
    no_graphviz(monkeypatch)
    out = tmp_path / 'g.svg'
    assert main(['graph', model, '--out', str(out), '--values', '--grads']) == 0
    svg = out.read_text()
    named = {'vae': ['x', 'eps', 'encoder.W'], 'gan': ['real', 'fake', 'discriminator.0.W'],
             'charrnn': ['head.W', 'rnn.weight_ih_l0']}[model]
    for name in named + ['grad 1']:
        assert f'>{name}<' in svg or f'{name} ' in svg, name


def test_graph_command_png_is_a_png(tmp_path, monkeypatch, capsys):
    no_graphviz(monkeypatch)
    assert main(['graph', 'vae', '--out', str(tmp_path / 'g.png')]) == 0
    assert (tmp_path / 'g.png').read_bytes().startswith(b'\x89PNG')
    assert main(['graph', 'vae', '--out', str(tmp_path / 'g.jpg')]) == 2
    assert 'must end in .dot, .png or .svg' in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, 'matplotlib', None)      # the core install alone
    assert main(['graph', 'vae', '--out', str(tmp_path / 'h.png')]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "pip install 'minigen[train]'" in err
    assert f"--out {tmp_path / 'h'}.dot writes the DOT text" in err


def test_an_edge_ends_in_a_step_with_a_direction_so_its_arrowhead_shows():
    from minigen.viz.picture import _curve
    path = _curve([(0, 0), (1, 0), (1, 0), (2, 1), (2, 1)])    # repeated points: empty steps
    vertices = [tuple(v) for v in path.vertices]
    assert vertices[-1] == (2, 1) and vertices[-2] != (2, 1)
    assert len(vertices) == 1 + 3 * 2                           # two real steps, three points each


def test_the_same_graph_gives_the_same_svg_bytes(monkeypatch):
    no_graphviz(monkeypatch)                        # (a notebook's saved output diffs cleanly)
    pictures = [viz.draw(small_graph()[2], format='svg') for _ in range(2)]
    assert pictures[0] == pictures[1] and b'<dc:date>' not in pictures[0]
