"""``minigen explain vae|gan|wgan-gp|charrnn``: one training step of a real model, walked.

A small model of the kind is built (seeded) on one small batch of the default data, and one
training step runs under an observer of the engine (``core/mode.py``'s ``observing``, as
``mg.trace`` does). What the engine did is then told in order:

1. every op of the forward pass, numbered in the order it was recorded, with the shapes it
   took and gave (its inputs named: ``x``, ``eps``, a parameter's name, or ``#k``, the output
   of op k);
2. every backward call, in the order the walk runs them (reverse topological: an op's
   backward runs only after every op that used its output has handed back its share), with
   the incoming gradient ``gy`` and the gradient it returns for each input;
3. Adam's update of one named parameter: its value before, its gradient, the moments m and v,
   the step taken, its value after.

The first time a kind of op appears, one line of commentary (``COMMENTARY``) says what it
computes and what its backward gives. ``write_html`` writes the same as one page, with the
graph's picture and each op's values folded open. The GANs' step is two parts, the
discriminator's (critic's) update and then the generator's, as training runs them.
"""
from __future__ import annotations

import contextlib
import html
import inspect
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any

from .. import models, optim, viz
from ..core import backend, mode
from ..core.creation import manual_seed, rand, randn, tensor
from ..core.errors import UsageError
from ..core.graph import run_node_backward
from ..core.tensor import Tensor
from ..data import load_digits, load_text, text_windows
from ..models.gan import frozen
from .config import CONFIGS

EXPLAIN_KINDS = ('vae', 'gan', 'wgan-gp', 'charrnn')
BATCH = 4                   # examples in the batch (N)
HIDDEN = 16                 # hidden units (H): small, so each value fits on a line or two
LATENT = 2                  # latent size (Z) of the VAE and the GANs
CHARACTERS = 8              # characters a char-RNN window reads (T)

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


# -------------------------------------------------------------------------------- what happened

@dataclass
class Event:
    """One thing the engine did: an op recorded in forward, or one backward call."""
    kind: str                       # 'forward' or 'backward'
    fn: Any                         # the Function node
    number: int                     # the op's number, in the order forwards ran (1, 2, ...)
    nested: bool                    # a backward inside the forward pass (mg.grad), or its ops
    inputs: list                    # forward: [(label, shape)]; backward: [(label, gx shape)]
    output: tuple                   # forward: y's shape; backward: gy's shape
    values: list                    # [(label, host array or None)] to show folded open


class Recorder:
    """An observer of the engine: keeps an Event per forward op and backward call."""

    def __init__(self, names):
        self.labels = {id(t): name for name, t in names.items()}
        self.numbers: dict[int, int] = {}       # id(node) -> its op number
        self.nodes: list = []                   # keeps each node (and so its id) alive
        self.events: list[Event] = []
        self.phase = 'forward'

    def label(self, x):
        """How an input is named: its name in the user's code, ``#k`` for the output of op k,
        or 'const' for a tensor that needs no gradient."""
        if id(x) in self.labels:
            return self.labels[id(x)]
        if x.creator is not None and id(x.creator) in self.numbers:
            return f'#{self.numbers[id(x.creator)]}'
        return 'leaf' if x.requires_grad else 'const'

    def forward(self, fn, inputs, y):
        self.nodes.append(fn)
        number = self.numbers[id(fn)] = len(self.numbers) + 1
        labelled = [(self.label(x), tuple(x.shape)) for x in inputs]
        self.events.append(Event('forward', fn, number, _inside_a_backward(), labelled,
                                 tuple(y.shape), [('y', _host(y))]))

    def backward(self, fn, gy, gxs):
        data = [g.data if isinstance(g, Tensor) else g for g in (gy, *gxs)]
        labels = [self.label(x) for x in fn.inputs]
        shapes = [None if g is None else tuple(g.shape) for g in data[1:]]
        values = [('gy', data[0])] + [(f'g {label}', g) for label, g in zip(labels, data[1:])]
        self.events.append(Event('backward', fn, self.numbers.get(id(fn), 0),
                                 self.phase == 'forward', list(zip(labels, shapes)),
                                 tuple(data[0].shape),
                                 [(n, None if v is None else _host(v)) for n, v in values]))


@dataclass
class Part:
    """One update of the step: its loss, what the engine did, and the optimizer's change of
    one parameter."""
    title: str
    loss: Any
    recorder: Recorder
    names: dict
    in_graph: set                   # ids of the nodes the loss's graph reaches
    update: dict = field(default_factory=dict)
    picture: str | None = None      # the graph as HTML (inline SVG, or DOT text), if drawn


@dataclass
class Walkthrough:
    """A whole training step: what was built (``about``, lines of text) and its parts."""
    kind: str
    about: list
    parts: list


def _graph_of(loss):
    """ids of the nodes the loss's graph reaches (before backward frees their inputs)."""
    found, stack = set(), [loss.creator]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in found:
            continue
        found.add(id(fn))
        stack.extend(x.creator for x in fn.inputs)
    return found


def run_part(title, names, compute_loss, opt, shown, context=contextlib.nullcontext, clip=None,
             pictures=False):
    """Run one update under a Recorder: the loss, its backward, (clipping,) the optimizer's
    step; and keep the update of the parameter named ``shown`` (and, with ``pictures``, the
    graph drawn between backward and the step, while the values are still the step's own)."""
    recorder = Recorder(names)
    opt.zero_grad()
    with context(), mode.observing(recorder):
        loss = compute_loss()
        in_graph = _graph_of(loss)
        recorder.phase = 'backward'
        loss.backward(retain_graph=True)        # kept, so the picture can be drawn after
    part = Part(title, loss, recorder, names, in_graph)
    if pictures:
        part.picture = picture(part)
    params = [p for group in opt.param_groups for p in group['params']]
    norm = float(optim.clip_grad_norm_(params, clip)) if clip else None
    part.update = adam_update(opt, names[shown], shown)
    part.update['clipped'] = None if clip is None else (norm, clip)
    return part


def adam_update(opt, p, name):
    """Take the optimizer's step, and tell what it did to ``p``: host arrays of its value
    before and after, its gradient, Adam's moments m and v, and the step count t."""
    group = next(g for g in opt.param_groups if any(q is p for q in g['params']))
    before, gradient = backend.to_host(p.data).copy(), backend.to_host(p.grad.data).copy()
    opt.step()
    state = opt.state[p]
    return dict(name=name, before=before, grad=gradient, after=backend.to_host(p.data).copy(),
                m=backend.to_host(state['exp_avg'].data).copy(),
                v=backend.to_host(state['exp_avg_sq'].data).copy(), t=state['step'],
                lr=group['lr'], betas=group['betas'], eps=group['eps'])


# ----------------------------------------------------------------------------- the model kinds

def walk_step(kind, seed=0, cell='rnn', pictures=False):
    """One training step of a small model of ``kind`` on one batch of the default data,
    recorded: a Walkthrough (with ``pictures``, each part's graph drawn, for the page)."""
    if kind not in EXPLAIN_KINDS:
        raise UsageError(f"explain: unknown model kind {kind!r}; use one of "
                         f"{', '.join(EXPLAIN_KINDS)}")
    manual_seed(seed)
    if kind == 'vae':
        return _vae_step(pictures)
    if kind == 'charrnn':
        return _charrnn_step(seed, cell, pictures)
    return _gan_step(kind, pictures)


def _digits(kind):
    """The first BATCH training digits (N, 64) and the kind's config, fitted to them."""
    digits = load_digits()
    config = CONFIGS[kind]()
    config.fit_to(digits.image_shape)
    x = tensor(digits.train[:BATCH])
    about = f'x {_shape(x)} float32: the first {BATCH} training digits, pixels in [0, 1]'
    return x, config, about


def _vae_step(pictures):
    x, config, about = _digits('vae')
    model = models.VAE(x.shape[1], HIDDEN, LATENT)
    eps = randn(BATCH, LATENT)              # the noise, an input: z = mu + std · eps
    opt = optim.Adam(model.parameters(), lr=config.lr)
    names = {'x': x, 'eps': eps, **dict(model.named_parameters())}
    part = run_part('the VAE: one Adam step on the mean negative ELBO', names,
                    lambda: model.loss(x, eps).loss.mean(), opt, 'mu.b', pictures=pictures)
    return Walkthrough('vae', [f'VAE({x.shape[1]}, {HIDDEN}, {LATENT}): encoder '
                               f'{x.shape[1]}→{HIDDEN}→({LATENT}, {LATENT}), decoder '
                               f'{LATENT}→{HIDDEN}→{x.shape[1]}, tanh, Bernoulli pixels',
                               about, f'eps {_shape(eps)}: the noise of the '
                               'reparameterization, drawn once'], [part])


def _gan_step(kind, pictures):
    x, config, about = _digits(kind)
    model = models.GAN(LATENT, HIDDEN, x.shape[1], loss=kind)
    opt_d = optim.Adam(model.discriminator.parameters(), lr=config.lr, betas=config.betas)
    opt_g = optim.Adam(model.generator.parameters(), lr=config.lr, betas=config.betas)
    params = dict(model.named_parameters())
    z, z_again = randn(BATCH, LATENT), randn(BATCH, LATENT)
    draws = {'z': z, 'alpha': rand(BATCH, 1)} if kind == 'wgan-gp' else {'z': z}
    critic = 'critic' if kind == 'wgan-gp' else 'discriminator'
    d_part = run_part(f"the {critic}'s step: real digits against detached fakes",
                      {'x': x, **draws, **params},
                      lambda: model.discriminator_loss(x, **draws), opt_d,
                      # the critic's last bias gets no gradient: E[D(fake)] − E[D(real)]
                      # cancels it, and the penalty does not see it
                      f"discriminator.{len(model.discriminator) - 1}."
                      + ('W' if kind == 'wgan-gp' else 'b'), pictures=pictures)
    g_part = run_part(f"the generator's step: fresh fakes through the frozen {critic}",
                      {'z': z_again, **params}, lambda: model.generator_loss(z=z_again),
                      opt_g, 'generator.0.b', context=lambda: frozen(model.discriminator),
                      pictures=pictures)
    sizes = f'{LATENT}→{HIDDEN}→{HIDDEN}→{x.shape[1]}'
    return Walkthrough(kind, [f'GAN({LATENT}, {HIDDEN}, {x.shape[1]}, loss={kind!r}): '
                              f'generator {sizes} (LeakyReLU, sigmoid), {critic} '
                              f'{x.shape[1]}→{HIDDEN}→{HIDDEN}→1', about,
                              f'z {_shape(z)}: the generator\'s noise'
                              + (f'; alpha {_shape(draws["alpha"])}: where each interpolate '
                                 'x_hat lies between a real and a fake'
                                 if kind == 'wgan-gp' else ''),
                              _schedule(kind, config.critic_steps, critic)], [d_part, g_part])


def _schedule(kind, critic_steps, critic):
    """How training interleaves the two updates, of which the walkthrough shows one each."""
    steps = f'{critic_steps} {critic} steps' if critic_steps > 1 else f'one {critic} step'
    return (f'training takes {steps} for each generator step; one of each is shown, the '
            'generator\'s on fresh noise' + (' (the training loop reuses the discriminator\'s '
                                              'fakes instead: the same ops)'
                                              if kind == 'gan' else ''))


def _charrnn_step(seed, cell, pictures):
    corpus = load_text()
    config = CONFIGS['charrnn']()
    model = models.CharRNN(corpus.vocab, HIDDEN, cell=cell)
    inputs, targets = text_windows(corpus.train, 2, CHARACTERS,
                                   generator=backend.numpy_rng(seed))
    opt = optim.Adam(model.parameters(), lr=config.lr)
    names = {'inputs': inputs, 'targets': targets, **dict(model.named_parameters())}
    shown = min(model.named_parameters(), key=lambda item: item[1].data.size)[0]
    part = run_part(f'the char-RNN ({cell}): one clipped Adam step on next-character '
                    'cross-entropy', names, lambda: model.loss(inputs, targets), opt, shown,
                    clip=config.clip, pictures=pictures)
    windows = ', '.join(repr(corpus.decode(row)) for row in inputs.data)
    return Walkthrough('charrnn', [f'CharRNN({corpus.vocab_size} characters, {HIDDEN}, '
                                   f'cell={cell!r}): one-hot → {cell} → linear head',
                                   f'inputs {_shape(inputs)}: two windows of the Python '
                                   f'standard library\'s source, {windows}; targets: the '
                                   'same shifted by one character'], [part])


def _shape(t):
    return str(tuple(t.shape))


def _host(array):
    """A host copy of an array (or of a NumPy scalar): the engine may write into the array
    later (a leaf's .grad accumulates in place), and the Event must keep what it was."""
    return backend.to_host(backend.as_array(array)).copy()


def _inside_a_backward():
    """Whether the op being applied runs inside a backward call: under create_graph=True
    (mg.grad in the gradient penalty) backward's lines are ops that record a graph too."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code is run_node_backward.__code__:
            return True
        frame = frame.f_back
    return False


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
    recorded = sum(1 for e in forward if e.kind == 'forward' and id(e.fn) in part.in_graph)
    return [(f'1. forward: {recorded} ops in the order they ran (#k: the output of op k); '
             f'loss = {part.loss.item():.6g}', forward),
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


def picture(part):
    """The loss's graph with values and gradients, as inline SVG (viz.draw); where draw is
    not there, the DOT text, to render with Graphviz. Drawn before the optimizer's step: the
    gradients are worked out again from the graph, which the step's writes would invalidate."""
    draw = getattr(viz, 'draw', None)
    if draw is not None:
        svg = draw(part.loss, format='svg', show_data=True, show_grad=True, names=part.names,
                   title=part.title).decode('utf-8')
        return f'<figure>{svg[svg.index("<svg"):]}</figure>'
    keywords = {'names': part.names} if 'names' in inspect.signature(viz.to_dot).parameters \
        else {}
    dot = viz.to_dot(part.loss, title=part.title, **keywords)
    return (f'<figure><pre class="dot">{html.escape(dot)}</pre><figcaption>The graph in '
            "Graphviz's DOT language: dot -Tsvg renders it.</figcaption></figure>")
