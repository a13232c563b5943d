"""How ``minigen explain`` tells a recorded training step (``explain.py`` records it): as text,
one line per forward op and backward call with one line of commentary the first time each kind
of op appears, and as a self-contained HTML page (inline CSS, no script) with each op's values
in a fold. It reads only the host arrays the Recorder kept.
"""
from __future__ import annotations

import html
import textwrap

# One line per kind of op: what forward computes, and what backward gives.
COMMENTARY = {
    'linear': ('y = x W + b, one fused node for the whole layer',
               'gx = gy Wᵀ, gW = xᵀ gy, gb = Σ_N gy (b was broadcast over the rows)'),
    'tanh': ('y = tanh(x), elementwise', 'gx = gy (1 − y²), from the saved output y'),
    'sigmoid': ('y = 1 / (1 + e⁻ˣ), elementwise', 'gx = gy y (1 − y)'),
    'leaky_relu': ('y = x where x > 0, else 0.2 x', 'gx = gy where x > 0, else 0.2 gy'),
    'reparameterize': ('z = mu + exp(½ log_var) · eps: the noise is an input, so z is a '
                       'differentiable function of mu and log_var',
                       'gmu = gz, glog_var = gz · ½ std · eps'),
    'gaussian_kl': ('KL(N(mu, σ²) ‖ N(0, 1)) = ½ Σ_Z (σ² + mu² − 1 − log_var), per example',
                    'gmu = gy mu, glog_var = ½ gy (σ² − 1)'),
    'bce_with_logits': ('binary cross-entropy on logits: max(l, 0) − l t + log(1 + e^−|l|), '
                        'stable for large |l|', 'gl = gy (sigmoid(l) − t)'),
    'cross_entropy': ('−log softmax(logits)[target], averaged over the rows (N·T of them)',
                      'glogits = gy (softmax(logits) − one_hot(target)) / rows'),
    'rnn': ('Elman RNN over the whole sequence: h_t = tanh(x_t W_ih + h_{t−1} W_hh + b)',
            'backpropagation through time: from t = T down to 1, gh flows back through '
            'W_hh and tanh, and the weights\' gradients add up over the steps'),
    'lstm': ('LSTM over the whole sequence: gates i, f, g, o; c_t = f c_{t−1} + i g, '
             'h_t = o tanh(c_t)', 'BPTT through both h and c, from t = T down to 1'),
    'gru': ('GRU over the whole sequence: gates r, z; h_t = (1 − z) n + z h_{t−1}',
            'BPTT through h, from t = T down to 1'),
    'add': ('y = a + b (broadcasting)', 'ga = gy, gb = gy, each summed over the axes it '
            'was broadcast along: a tensor used twice gets both shares added up'),
    'sub': ('y = a − b (broadcasting)', 'ga = gy, gb = −gy (reduced to their shapes)'),
    'mul': ('y = a · b, elementwise', 'ga = gy · b, gb = gy · a (reduced to their shapes)'),
    'neg': ('y = −x', 'gx = −gy'),
    'pow': ('y = xᵖ', 'gx = gy p xᵖ⁻¹'),
    'sqrt': ('y = √x', 'gx = gy / (2 y)'),
    'sum': ('y = Σ x over the axes named', 'gx = gy broadcast back over the summed axes'),
    'mean': ('y = mean of x over the axes named', 'gx = gy / n broadcast back'),
    'matmul': ('y = a @ b', 'ga = gy bᵀ, gb = aᵀ gy'),
    'reshape': ('the same values in a new shape', 'gx = gy reshaped back'),
    'permute': ('the axes reordered (a transpose)', 'gx = gy with the axes put back'),
    'broadcast_to': ('x repeated along new or size-1 axes', 'gx = gy summed over them'),
    'maximum': ('y = max(a, b), elementwise', 'the gradient goes to the larger input'),
    'cast': ('the same values in another dtype', 'gx = gy cast back'),
    'getitem': ('y = x[index], a slice', 'gx = zeros with gy written at the index'),
    'cat': ('y = the inputs joined along an axis', 'each input gets its slice of gy'),
}
GENERIC = ('an op of the engine (see its docstring)', 'its hand-written backward maps gy to '
           'one gradient per input')


# ------------------------------------------------------------------------------------ as text

SMALL = 8                   # a value of at most this many elements is shown in full


def summary(array):
    """A value on one line: the numbers themselves when few, else mean, std, min and max."""
    if array is None:
        return 'none'
    if array.size <= SMALL:
        return '[' + ', '.join(f'{v:.4g}' for v in array.ravel().tolist()) + ']' \
            if array.ndim else f'{array.item():.4g}'
    flat = array.astype('float64')
    return (f'{tuple(array.shape)} mean {flat.mean():.4g}, std {flat.std():.4g}, '
            f'min {flat.min():.4g}, max {flat.max():.4g}')


def event_line(part, event):
    """The line of one forward op or backward call: '#k op  inputs -> output'."""
    shapes = (', '.join(f'{label} {shape}' for label, shape in event.inputs)
              if event.kind == 'forward' else
              ', '.join(f'{label}: none' if shape is None else f'{label} {shape}'
                        for label, shape in event.inputs))
    head = f"{'   ⤷ ' if event.nested else ''}#{event.number:<3} {event.fn.name:<15}"
    if event.kind == 'forward':
        return f'{head} {shapes} -> {event.output}{_off_graph(part, event.fn)}'
    return f'{head} gy {event.output} -> {shapes}'


def _off_graph(part, fn):
    if fn.seq == 0:
        return '   (not recorded: no input needs a gradient)'
    if id(fn) not in part.in_graph:
        return "   (outside the loss's graph)"
    return ''


OUTSIDE_NOTE = ("outside the loss's graph: recorded, but the loss does not reach it (its output "
                'was detached, or the loss does not use it), so backward will not visit it')
NESTED_NOTE = ('mg.grad(..., create_graph=True) runs here, inside the forward pass: the '
               'backward calls marked ⤷ record their own arithmetic as ops (listed just before '
               "each backward line), so the penalty on the gradient's norm is part of the "
               "graph, and the loss's backward below differentiates a gradient (a double "
               'backward)')


def notes_for(part, event, noted):
    """The commentary the event brings the first time its kind of op (forward or backward)
    appears in the walkthrough: the lines not yet in ``noted``, which gets them."""
    notes = []
    if event.nested and 'nested' not in noted:
        noted.add('nested')
        notes.append(NESTED_NOTE)
    if event.kind == 'forward' and event.fn.seq and id(event.fn) not in part.in_graph \
            and 'outside' not in noted:
        noted.add('outside')
        notes.append(OUTSIDE_NOTE)
    key = (event.fn.name, event.kind)
    if key not in noted:
        noted.add(key)
        forward, backward = COMMENTARY.get(event.fn.name, GENERIC)
        notes.append(f"{event.fn.name}{' backward' if event.kind == 'backward' else ''}: "
                     f"{forward if event.kind == 'forward' else backward}")
    return notes


def sections(part):
    """The part's events in its two sections, each with its heading."""
    forward = [e for e in part.recorder.events if not (e.kind == 'backward' and not e.nested)]
    backward = [e for e in part.recorder.events if e.kind == 'backward' and not e.nested]
    ran = [e for e in forward if e.kind == 'forward']
    outside = sum(1 for e in ran if id(e.fn) not in part.in_graph)
    aside = f', {outside} of them outside the loss\'s graph' if outside else ''
    return [(f'1. forward: {len(ran)} ops in the order they ran{aside} (#k: the output of op '
             f'k); loss = {part.loss.item():.6g}', forward),
            ('2. backward: loss.backward() calls each op\'s backward, from the loss back to '
             'the leaves', backward)]


def update_lines(update):
    """Adam's update of one parameter, line by line."""
    (beta1, beta2), t = update['betas'], update['t']
    step = update['after'] - update['before']
    lines = [f"3. the optimizer: Adam's update of {update['name']} {update['before'].shape}",
             f"   before          p = {summary(update['before'])}",
             f"   gradient        g = {summary(update['grad'])}"]
    if update['clipped']:
        norm, clip = update['clipped']
        lines.append(f'   (the gradients were clipped first: their total norm {norm:.4g} '
                     + (f'was scaled down to {clip})' if norm > clip else f'≤ {clip}, kept)'))
    lines += [f"   m = β1·m + (1 − β1)·g   = {summary(update['m'])}   (β1 = {beta1}, m "
              f"started at 0)",
              f"   v = β2·v + (1 − β2)·g²  = {summary(update['v'])}   (β2 = {beta2})",
              f"   step t = {t}: m̂ = m / (1 − β1ᵗ), v̂ = v / (1 − β2ᵗ) undo the start at 0",
              f"   −lr·m̂ / (√v̂ + eps)     = {summary(step)}   (lr = {update['lr']:g}, "
              f"eps = {update['eps']:g})"]
    if t == 1:
        lines.append('   (at t = 1, m̂ / √v̂ = g / |g|: every element moves by lr, against '
                     'its gradient\'s sign)')
    lines.append(f"   after           p = {summary(update['after'])}")
    return lines


def format_text(walk):
    """The whole walkthrough as text, as ``minigen explain`` prints it."""
    lines = [f'minigen explain {walk.kind}: one training step, every op of it'] + \
        [textwrap.fill(line, 100, initial_indent='  ', subsequent_indent='    ')
         for line in walk.about]
    noted: set = set()
    for part in walk.parts:
        lines += ['', f'== {part.title} ==']
        for heading, events in sections(part):
            lines.append(heading)
            for event in events:
                lines.append('   ' + event_line(part, event))
                lines += [textwrap.fill(note, 100, initial_indent=' ' * 9 + '↳ ',
                                        subsequent_indent=' ' * 11)
                          for note in notes_for(part, event, noted)]
        lines += update_lines(part.update)
    return '\n'.join(lines) + '\n'


# ------------------------------------------------------------------------------------ as a page

STYLE = """
body { font-family: Helvetica, Arial, sans-serif; max-width: 70em; margin: 2em auto;
       padding: 0 1em; color: #222; }
h2 { border-bottom: 1px solid #bbb; margin-top: 2em; }
summary { cursor: pointer; white-space: pre; font-family: Menlo, Consolas, monospace;
          font-size: 0.85em; }
details.nested summary { color: #6a3d9a; }
details pre { background: #f4f4f4; padding: 0.5em; margin: 0.2em 0 0.6em 2em;
              font-size: 0.8em; }
p.note { margin: 0.1em 0 0.4em 3em; color: #2f6f3f; font-size: 0.9em; }
pre.update, pre.dot { background: #f4f4f4; padding: 0.6em; font-size: 0.85em; }
figure { margin: 1em 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
"""


def write_html(walk, path):
    """Write the walkthrough as one self-contained page (inline CSS, no script)."""
    with open(path, 'w', encoding='utf-8') as file:
        file.write(format_html(walk))


def format_html(walk):
    """The walkthrough as HTML: per part, the graph's picture, then each op's line, its
    values folded in a <details>, the commentary, and the optimizer's update."""
    title = f'minigen explain {walk.kind}: one training step'
    body = [f'<h1>{html.escape(title)}</h1>', '<ul>'] + \
        [f'<li>{html.escape(line)}</li>' for line in walk.about] + ['</ul>']
    noted: set = set()
    for part in walk.parts:
        body += [f'<h2>{html.escape(part.title)}</h2>', part.picture or
                 '<p>(no picture: walk_step(..., pictures=True) draws the graph)</p>']
        for heading, events in sections(part):
            body.append(f'<h3>{html.escape(heading)}</h3>')
            for event in events:
                body.append(event_html(part, event, noted))
        update = update_lines(part.update)
        body += [f'<h3>{html.escape(update[0])}</h3>',
                 f'<pre class="update">{html.escape(chr(10).join(update[1:]))}</pre>']
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n'
            + '\n'.join(body) + '\n</body></html>\n')


def event_html(part, event, noted):
    """One op's line, with its values (its output; or gy and the gradients) folded."""
    values = '\n\n'.join(f'{label}: none' if array is None else
                         f'{label} {tuple(array.shape)} {array.dtype}\n{_full(array)}'
                         for label, array in event.values)
    notes = ''.join(f'<p class="note">↳ {html.escape(note)}</p>'
                    for note in notes_for(part, event, noted))
    kind = 'nested' if event.nested else event.kind
    return (f'<details class="{kind}"><summary>{html.escape(event_line(part, event))}'
            f'</summary><pre>{html.escape(values)}</pre></details>{notes}')


def _full(array):
    """An array's values as NumPy prints them (long ones abbreviated), 4 decimals."""
    return str(array.round(4) if array.dtype.kind == 'f' else array)
