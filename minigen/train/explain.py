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

The first time a kind of op appears, one line of commentary (``COMMENTARY``, in
``explain_format.py``, which tells the step as text and as a page) says what it computes and
what its backward gives. ``write_html`` writes the same as one page, with the graph's picture
and each op's values folded open. The GANs' step is two parts, the discriminator's (critic's)
update and then the generator's, as training runs them.
"""
from __future__ import annotations

import contextlib
import html
import inspect
import sys
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
from .explain_format import COMMENTARY, GENERIC, format_html, format_text, write_html

__all__ = ['EXPLAIN_KINDS', 'COMMENTARY', 'GENERIC', 'walk_step', 'format_text', 'format_html',
           'write_html', 'Walkthrough', 'Part', 'Event', 'Recorder']

EXPLAIN_KINDS = ('vae', 'gan', 'wgan-gp', 'charrnn')
BATCH = 4                   # examples in the batch (N)
HIDDEN = 16                 # hidden units (H): small, so each value fits on a line or two
LATENT = 2                  # latent size (Z) of the VAE and the GANs
CHARACTERS = 8              # characters a char-RNN window reads (T)


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
