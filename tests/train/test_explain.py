"""``minigen explain``: the walkthrough prints the forward ops in the order the graph recorded
them, the backward calls in a reverse topological order of the graph, Adam's update as its
formula gives it, and a page with every op; bad usage is one line and exit status 2."""
import re

import numpy as np
import pytest

from minigen import cli
from minigen.core.errors import UsageError
from minigen.train import explain

WALKS = [('vae', 'rnn'), ('gan', 'rnn'), ('wgan-gp', 'rnn'), ('charrnn', 'rnn'),
         ('charrnn', 'lstm'), ('charrnn', 'gru')]
LINE = re.compile(r'^\s+(?:⤷ )?#(\d+)\s+(\S+)\s+(gy )?')


@pytest.fixture(scope='module', params=WALKS, ids=[f'{k}-{c}' for k, c in WALKS])
def walk(request):
    kind, cell = request.param
    return explain.walk_step(kind, seed=0, cell=cell)


def printed_sections(walk):
    """For each part, the printed (number, op) of its forward ops that are in the loss's
    graph, and of its backward calls, read back from the text."""
    text = explain.format_text(walk)
    parts = text.split('\n== ')[1:]
    assert len(parts) == len(walk.parts)
    found = []
    for chunk in parts:
        forward_text, rest = chunk.split('\n2. backward')
        backward_text = rest.split('\n3. the optimizer')[0]
        forward = [(int(m[1]), m[2]) for m in map(LINE.match, forward_text.splitlines())
                   if m and not m[3] and 'outside' not in m.string and 'not recorded'
                   not in m.string]
        backward = [(int(m[1]), m[2]) for m in map(LINE.match, backward_text.splitlines())
                    if m]
        found.append((forward, backward))
    return found


def graph_nodes(loss):
    """The nodes of the loss's graph (the walk kept them: retain_graph), found afresh."""
    found, stack = {}, [loss.creator]
    while stack:
        fn = stack.pop()
        if fn is not None and id(fn) not in found:
            found[id(fn)] = fn
            stack.extend(x.creator for x in fn.inputs)
    return list(found.values())


def test_the_forward_ops_are_printed_in_the_order_the_graph_recorded_them(walk):
    for part, (forward, _) in zip(walk.parts, printed_sections(walk)):
        nodes = sorted(graph_nodes(part.loss), key=lambda fn: fn.seq)
        numbers = part.recorder.numbers
        assert forward == [(numbers[id(fn)], fn.name) for fn in nodes]
        assert len(forward) > 3


def test_the_backward_calls_are_printed_in_a_reverse_topological_order(walk):
    for part, (_, backward) in zip(walk.parts, printed_sections(walk)):
        by_number = {part.recorder.numbers[id(fn)]: fn for fn in graph_nodes(part.loss)}
        assert sorted(n for n, _ in backward) == sorted(by_number)   # each node once
        position = {number: i for i, (number, _) in enumerate(backward)}
        for number, name in backward:
            fn = by_number[number]
            assert fn.name == name
            for x in fn.inputs:         # a node's backward runs before its inputs' nodes'
                if x.creator is not None:
                    assert position[number] < position[part.recorder.numbers[id(x.creator)]]


def test_each_kind_of_op_gets_its_line_of_commentary_once(walk):
    text = explain.format_text(walk)
    names = {e.fn.name for part in walk.parts for e in part.recorder.events}
    assert names <= set(explain.COMMENTARY)        # no op falls back to the generic line
    for name in names:
        assert text.count(f'↳ {name}: ') == 1
    ran_backward = {e.fn.name for part in walk.parts for e in part.recorder.events
                    if e.kind == 'backward'}
    for name in ran_backward:
        assert text.count(f'↳ {name} backward: ') == 1


def test_the_update_shown_is_adams_first_step(walk):
    for part in walk.parts:
        u = part.update
        (beta1, beta2), g = u['betas'], u['grad'].astype(np.float64)
        assert u['t'] == 1 and np.any(g != 0)
        assert np.allclose(u['m'], (1 - beta1) * g, rtol=1e-5, atol=1e-12)
        assert np.allclose(u['v'], (1 - beta2) * g * g, rtol=1e-5, atol=1e-16)
        m_hat, v_hat = u['m'] / (1 - beta1), u['v'] / (1 - beta2)
        expected = u['before'] - u['lr'] * m_hat / (np.sqrt(v_hat) + u['eps'])
        assert np.allclose(u['after'], expected, rtol=1e-5, atol=1e-7)


def test_the_text_shows_the_parameters_by_name_and_the_data_by_its_name():
    walk = explain.walk_step('vae')
    text = explain.format_text(walk)
    assert 'x (4, 64), encoder.W (64, 16), encoder.b (16,) -> (4, 16)' in text
    assert "Adam's update of mu.b (2,)" in text and 'eps (4, 2) -> (4, 2)' in text


def test_the_html_page_shows_every_op_with_its_values_folded(tmp_path, capsys):
    page = tmp_path / 'step.html'
    assert cli.main(['explain', 'wgan-gp', '--html', str(page)]) == 0
    assert f'wrote {page}' in capsys.readouterr().out
    text = page.read_text(encoding='utf-8')
    walk = explain.walk_step('wgan-gp')
    events = [e for part in walk.parts for e in part.recorder.events]
    for event in events:
        assert f'#{event.number:<3} {event.fn.name}' in text
    assert text.count('<details') == text.count('</details>') == len(events)
    assert '<script' not in text and '<style>' in text
    assert text.count('<figure>') == len(walk.parts)


def run(argv, capsys):
    """The exit status and stderr of ``minigen ARGV``."""
    try:
        status = cli.main(argv)
    except SystemExit as exc:           # argparse's own errors exit from parse
        status = exc.code
    return status, capsys.readouterr().err


@pytest.mark.parametrize('argv, fragment', [
    (['explain', 'mlp'], "invalid choice: 'mlp'"),
    (['explain'], 'the following arguments are required: model'),
    (['explain', 'vae', '--html', '{tmp}/missing/page.html'], 'does not exist'),
    (['explain', 'vae', '--html', '{tmp}'], 'is a folder'),
    (['explain', 'gan', '--cell', 'lstm'], '--cell is for charrnn'),
    (['explain', 'charrnn', '--cell', 'transformer'], "invalid choice: 'transformer'"),
    (['explain', 'vae', '--seed', '-1'], 'a seed is a whole number'),
], ids=['unknown kind', 'no kind', 'html into a missing folder', 'html onto a folder',
        'cell of an image model', 'unknown cell', 'negative seed'])
def test_each_bad_usage_is_one_line_and_status_2(argv, fragment, tmp_path, capsys):
    status, err = run([a.format(tmp=tmp_path) for a in argv], capsys)
    assert status == 2 and err.count('\n') == 1 and fragment in err, (status, err)


def test_an_unknown_kind_raises_a_usage_error_from_the_library():
    with pytest.raises(UsageError, match="unknown model kind 'mlp'"):
        explain.walk_step('mlp')
