"""Seeing the graph and tracing the engine."""
import io
import shutil

import pytest

import minigen as mg
from minigen import viz
from minigen.cli import main


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


def test_graph_command_png_without_graphviz_fails_and_says_how_to_render(tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setattr(shutil, 'which', lambda name: None)
    assert main(['graph', 'vae', '--out', str(tmp_path / 'g.png')]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and 'apt-get install graphviz' in err
    assert f"dot -Tpng {tmp_path / 'g.dot'} -o {tmp_path / 'g.png'}" in err
    assert (tmp_path / 'g.dot').exists() and not (tmp_path / 'g.png').exists()
