"""Whole training runs of the mission's models, minigen against PyTorch, the same threads.

    python benchmarks/whole_runs.py                          # every model, 1 thread, 3 rounds
    python benchmarks/whole_runs.py --only gan vae28 --threads 2 --repeats 5 --json out.json
    python benchmarks/whole_runs.py --scale 0.05 --repeats 1 # a smoke run: 5% of each run
    python benchmarks/whole_runs.py --python /tmp/torchvenv/bin/python   # workers' Python

Each model is the DEFAULT configuration of ``minigen train <kind>`` (minigen/train/config.py),
on the data ``minigen train`` reads: vae8, gan and wgan-gp on the 8×8 digits, vae28 (the
784-400-20 VAE) on the digits upscaled to 28×28, charrnn on the standard-library text.

What is timed is the training loop only: every epoch (or step) of the run, from the first batch
to the last optimizer step, with the data already in memory. Not timed: imports, loading the
data, building the model, and what ``minigen train`` adds around the loop (the test −ELBO after
each VAE epoch, the GANs' Fréchet distances, checkpoints, pictures). The minigen side runs the
loop's own per-epoch and per-step functions (minigen/train/loops.py), so it times what the
app's loop runs; the PyTorch side is the same computation written as a PyTorch user would: the
same layer sizes and activations, losses, optimizers and hyperparameters, batches and steps
(initial weights and random draws differ). PyTorch takes its batches by indexing the in-memory
tensor with a random permutation, as minigen's DataLoader does for an array; torch's own
DataLoader would collate sample by sample and be slower, which would flatter minigen. Its Adam
is what ``torch.optim.Adam(params, lr)`` gives a user (on the CPU, a loop over the tensors);
``--torch-adam fused`` (or ``foreach``) measures PyTorch's faster implementations.

Each (framework, model) run is a process of its own, started with OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set to --threads before anything is imported; minigen
also limits BLAS with threadpoolctl (as ``minigen train --threads`` does) and sets glibc's
malloc thresholds (as ``minigen train`` does at start); PyTorch calls torch.set_num_threads
and keeps the process's malloc, as a user's script does.
The frameworks alternate within each of --repeats rounds (so a change in the machine's load
hits both), and the table reports each one's median and minimum seconds and the ratio of the
medians. Each run's final training loss is printed beside its time, so that a reader sees both
frameworks trained to about the same point. PyTorch is not a dependency: without it the
PyTorch side is skipped, with a message. A benchmark, not a test: it asserts nothing.

The parent process loads the data (scikit-learn's digits need scikit-learn), saves it to a
temporary .npz, and passes it with the resolved configuration to the workers, so a worker's
Python (--python) needs only NumPy, threadpoolctl and PyTorch besides minigen.
"""
import argparse
import functools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

MODELS = {                      # name -> (minigen train kind, its --data)
    'vae28': ('vae', 'digits28'),
    'gan': ('gan', 'digits'),
    'wgan-gp': ('wgan-gp', 'digits'),
    'charrnn': ('charrnn', 'stdlib'),
    'vae8': ('vae', 'digits'),
}
FRAMEWORKS = ('minigen', 'torch')
GP_WEIGHT = 10.0                # WGAN-GP's λ, mg.models.GAN's default (minigen train keeps it)
TORCH_ADAMS = {                 # --torch-adam: PyTorch's default (a loop over the tensors on
    'default': {},              # the CPU), or its multi-tensor or fused implementation
    'foreach': {'foreach': True},
    'fused': {'fused': True},
}
LOSS_WINDOW = 100               # the char-RNN's final loss: the mean of its last steps' losses


# ----------------------------------------------------------------------------- the parent process

def resolved_config(name, scale):
    """The default config of model ``name`` as ``minigen train`` would run it, as a plain dict
    (the image models' sizes chosen from their data), its length scaled by ``scale``."""
    from minigen.train import config as configs
    kind, data = MODELS[name]
    config = configs.CONFIGS[kind](data=data)
    if kind != 'charrnn':
        config.fit_to(loaded(data).image_shape)
    length = config.length_name                           # 'epochs' or 'steps'
    setattr(config, length, max(1, round(getattr(config, length) * scale)))
    return configs.to_dict(config) | {'kind': kind}


@functools.cache
def loaded(data):
    """The data ``minigen train --data DATA`` reads (a Split of images, or a TextCorpus)."""
    from minigen.train.runs import image_data, text_data
    return text_data(data) if data == 'stdlib' else image_data(data)


def save_data(names, path):
    """The training arrays the models ``names`` read, into the .npz ``path``."""
    import numpy as np
    arrays = {}
    for name in names:
        data = MODELS[name][1]
        arrays[data] = loaded(data).train
        if data == 'stdlib':
            arrays['stdlib_vocab'] = np.array(loaded(data).vocab)
    np.savez(path, **arrays)


def run_worker(python, framework, name, config, data_path, threads):
    """One timed run in a fresh process; its result dict (seconds, losses, versions)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), MINIGEN_NUM_THREADS=str(threads))
    argv = [python, os.path.abspath(__file__), '--worker', framework, name, data_path,
            json.dumps(config), str(threads)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the {framework} {name} worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def torch_version(python):
    """PyTorch's version under ``python``, or None (with a message) when it does not import."""
    done = subprocess.run([python, '-c', 'import torch; print(torch.__version__)'],
                          capture_output=True, text=True)
    if done.returncode == 0:
        return done.stdout.strip()
    last = (done.stderr.strip().splitlines() or ['no message'])[-1]
    print(f"PyTorch does not import under {python} ({last}): the PyTorch side is skipped; "
          f"give --python a Python that has torch", flush=True)
    return None


def shown_losses(result):
    return ', '.join(f'{k} {v:.4g}' for k, v in result['losses'].items())


def measure(options, frameworks, data_path):
    """Every (round, model, framework) run, the frameworks alternating; {model: {framework:
    [results]}}."""
    configs = {name: resolved_config(name, options.scale) for name in options.only}
    results = {name: {f: [] for f in frameworks} for name in options.only}
    for r in range(options.repeats):
        order = frameworks if r % 2 == 0 else frameworks[::-1]
        for name in options.only:
            for framework in order:
                config = configs[name] | ({'torch_adam': options.torch_adam}
                                          if framework == 'torch' else {})
                result = run_worker(options.python, framework, name, config, data_path,
                                    options.threads)
                results[name][framework].append(result)
                print(f"round {r + 1}  {name:8} {framework:8} {result['seconds']:7.2f} s  "
                      f"({result['steps']} steps; {shown_losses(result)})", flush=True)
    return configs, results


def summary_rows(results):
    """One row per model: each framework's median and min seconds, the ratio of the medians,
    and each framework's final losses (its last round's)."""
    rows = []
    for name, by_framework in results.items():
        row = {'model': name}
        for framework, runs in by_framework.items():
            seconds = [run['seconds'] for run in runs]
            row[framework] = {'median': statistics.median(seconds), 'min': min(seconds),
                              'losses': runs[-1]['losses']}
        if 'torch' in row:
            row['ratio'] = row['minigen']['median'] / row['torch']['median']
        rows.append(row)
    return rows


def print_table(rows, threads):
    print(f"\nwall seconds of the training loop, {threads} thread(s): median (min)")
    print("| model | minigen | PyTorch | minigen / PyTorch | minigen final loss | "
          "PyTorch final loss |\n|---|---|---|---|---|---|")
    for row in rows:
        cells = [row['model']]
        for framework in FRAMEWORKS:
            got = row.get(framework)
            cells.append(f"{got['median']:.2f} ({got['min']:.2f})" if got else 'skipped')
        cells.append(f"{row['ratio']:.2f}" if 'ratio' in row else '')
        for framework in FRAMEWORKS:
            cells.append(shown_losses(row[framework]) if framework in row else '')
        print('| ' + ' | '.join(cells) + ' |')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--only', nargs='+', choices=list(MODELS), default=list(MODELS))
    parser.add_argument('--threads', type=int, default=1, help='BLAS/torch threads (1)')
    parser.add_argument('--repeats', type=int, default=3, help='rounds (3)')
    parser.add_argument('--scale', type=float, default=1.0,
                        help='the fraction of each run\'s epochs or steps to train (1)')
    parser.add_argument('--json', help='write the settings and every result to this file')
    parser.add_argument('--torch-adam', choices=list(TORCH_ADAMS), default='default',
                        help="PyTorch's Adam implementation (default: its own default)")
    parser.add_argument('--python', default=sys.executable,
                        help="the workers' Python (default: this one)")
    options = parser.parse_args(argv)
    if options.threads < 1 or options.repeats < 1 or not options.scale > 0:
        parser.error('--threads and --repeats must be at least 1, --scale above 0')
    version = torch_version(options.python)
    frameworks = FRAMEWORKS if version else FRAMEWORKS[:1]
    print(f"{options.python}: PyTorch {version or 'skipped'} (Adam: {options.torch_adam}); "
          f"{options.threads} thread(s), {options.repeats} round(s), scale {options.scale:g}",
          flush=True)
    with tempfile.TemporaryDirectory() as folder:
        data_path = os.path.join(folder, 'data.npz')
        try:
            save_data(options.only, data_path)
        except ImportError as exc:
            sys.exit(f"{exc}\nThis process loads the data: run the script with a Python that "
                     "has scikit-learn (the project's), and name the workers' with --python")
        configs, results = measure(options, frameworks, data_path)
    rows = summary_rows(results)
    print_table(rows, options.threads)
    if options.json:
        settings = {k: v for k, v in vars(options).items() if k != 'json'}
        with open(options.json, 'w') as f:
            json.dump({'settings': settings, 'torch': version, 'configs': configs,
                       'summary': rows, 'results': results}, f, indent=1)


# ------------------------------------------------------------------------ a worker: minigen's side

def minigen_run(config, arrays):
    """Train ``config`` with the functions of minigen's own loop (minigen/train/loops.py);
    the result dict."""
    import numpy
    import minigen as mg
    from minigen.train import config as configs
    from minigen.train import runs
    kind = config.pop('kind')
    config = configs.from_dict(kind, config, 'whole_runs')
    with runs.blas_threads(config):                     # threadpoolctl, as minigen train
        mg.manual_seed(config.seed)
        train = minigen_charrnn if kind == 'charrnn' else minigen_images
        seconds, steps, losses = train(config, arrays)
    return result(seconds, steps, losses, numpy.__version__)


def minigen_images(config, arrays):
    """The epochs of images_loop, without its test −ELBO, Fréchet distances and checkpoints."""
    from minigen.data import DataLoader
    from minigen.train import loops, runs
    model, optimizers = runs.build(config)
    loader = DataLoader(arrays[config.data], config.batch_size, shuffle=True,
                        drop_last=config.kind != 'vae')
    began = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        if config.kind == 'vae':
            row = loops.vae_epoch(model, optimizers, loader, epoch)
        else:
            row = loops.gan_epoch(model, optimizers, loader, epoch, config.critic_steps)
    return time.perf_counter() - began, config.epochs * len(loader), row


def minigen_charrnn(config, arrays):
    """The steps of charrnn_loop (its own step function), without its test curve and
    checkpoints."""
    from types import SimpleNamespace
    from minigen.train import loops, runs
    vocab = [str(c) for c in arrays['stdlib_vocab']]
    model, optimizers = runs.build(config, vocab)
    run = runs.Run(config, model, optimizers, {}, vocab)
    corpus = SimpleNamespace(train=arrays['stdlib'])        # all the step reads of a corpus
    began = time.perf_counter()
    losses = [loops._charrnn_step(run, optimizers['model'], corpus, step, None)
              for step in range(1, config.steps + 1)]
    return time.perf_counter() - began, config.steps, charrnn_losses(losses)


def charrnn_losses(losses):
    """The char-RNN's final loss: the mean of its last LOSS_WINDOW steps' losses, in bits per
    character (as the run's metrics line gives train_bpc)."""
    last = losses[-LOSS_WINDOW:]
    return {'train_bpc': sum(last) / len(last) / math.log(2)}


def result(seconds, steps, losses, version):
    return {'seconds': seconds, 'steps': steps, 'losses': dict(losses), 'version': version}


# ------------------------------------------------------------------------ a worker: PyTorch's side

def torch_run(config, arrays, threads):
    """Train ``config`` in PyTorch with ``threads`` threads; the result dict."""
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(config['seed'])
    run = {'vae': torch_vae, 'gan': torch_gan, 'wgan-gp': torch_gan,
           'charrnn': torch_charrnn}[config['kind']]
    seconds, steps, losses = run(torch, config, arrays)
    return result(seconds, steps, losses, torch.__version__)


def torch_adam(torch, config, params, **hyper):
    """torch.optim.Adam at the config's lr, in the implementation --torch-adam names."""
    return torch.optim.Adam(params, lr=config['lr'], **hyper,
                            **TORCH_ADAMS[config.get('torch_adam', 'default')])


def batches(torch, x, batch_size, drop_last):
    """One epoch of shuffled batches of the rows of x, the last partial one kept or dropped."""
    order = torch.randperm(len(x))
    stop = len(x) - len(x) % batch_size if drop_last else len(x)
    for start in range(0, stop, batch_size):
        yield x[order[start:start + batch_size]]


def torch_vae(torch, config, arrays):
    """minigen's VAE: D -> H -> (mu, log_var) Z, Z -> H -> D logits; Bernoulli −ELBO."""
    nn = torch.nn
    D, H, Z = config['in_dim'], config['hidden'], config['latent']
    act = torch.tanh if config['activation'] == 'tanh' else torch.relu
    layers = nn.ModuleDict({'encoder': nn.Linear(D, H), 'mu': nn.Linear(H, Z),
                            'log_var': nn.Linear(H, Z), 'decoder': nn.Linear(Z, H),
                            'out': nn.Linear(H, D)})
    opt = torch_adam(torch, config, layers.parameters())
    x_all = torch.from_numpy(arrays[config['data']])
    began, steps = time.perf_counter(), 0
    for _ in range(config['epochs']):
        total, count = 0.0, 0
        for x in batches(torch, x_all, config['batch_size'], drop_last=False):
            opt.zero_grad()
            loss = torch_vae_loss(torch, layers, act, x)
            loss.backward()
            opt.step()
            total, count, steps = total + loss.item() * len(x), count + len(x), steps + 1
    return time.perf_counter() - began, steps, {'train_loss': total / count}


def torch_vae_loss(torch, layers, act, x, eps=None):
    """The mean −ELBO of x (N, D), one draw of the noise (or ``eps``), as VAE.loss."""
    F = torch.nn.functional
    hidden = act(layers['encoder'](x))                           # (N, H)
    mu, log_var = layers['mu'](hidden), layers['log_var'](hidden)          # (N, Z) each
    eps = torch.randn_like(mu) if eps is None else eps
    z = mu + torch.exp(0.5 * log_var) * eps                      # (N, Z)
    logits = layers['out'](act(layers['decoder'](z)))            # (N, D)
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(-1)
    kl = 0.5 * (mu * mu + torch.exp(log_var) - 1 - log_var).sum(-1)      # (N,)
    return (reconstruction + kl).mean()


def torch_mlp(torch, sizes, out_activation=None):
    nn = torch.nn
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers, *([out_activation] if out_activation else []))


def torch_gan(torch, config, arrays):
    """minigen's GAN and WGAN-GP loops: for the GAN one draw of z and one pass of G serve the
    D step and the G step (D frozen in G's); for WGAN-GP a critic step on every batch with
    fresh fakes and a generator step every critic_steps batches."""
    Z, H, D = config['latent'], config['hidden'], config['in_dim']
    G, Dn = torch_mlp(torch, [Z, H, H, D], torch.nn.Sigmoid()), torch_mlp(torch, [D, H, H, 1])
    opt_d = torch_adam(torch, config, Dn.parameters(), betas=tuple(config['betas']))
    opt_g = torch_adam(torch, config, G.parameters(), betas=tuple(config['betas']))
    x_all, n = torch.from_numpy(arrays[config['data']]), config['batch_size']
    step = torch_gan_step if config['kind'] == 'gan' else torch_wgan_step
    began, steps = time.perf_counter(), 0
    for _ in range(config['epochs']):
        d_losses, g_losses = [], []
        for i, real in enumerate(batches(torch, x_all, n, drop_last=True)):
            d_loss, g_loss = step(torch, G, Dn, opt_d, opt_g, real, Z, i, config['critic_steps'])
            d_losses.append(d_loss)
            g_losses += [g_loss] if g_loss is not None else []
            steps += 1
    losses = {'d_loss': sum(d_losses) / len(d_losses), 'g_loss': sum(g_losses) / len(g_losses)}
    return time.perf_counter() - began, steps, losses


def torch_gan_step(torch, G, Dn, opt_d, opt_g, real, Z, i, critic_steps):
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    fake = G(torch.randn(len(real), Z))                          # (N, D), one pass of G
    real_out = Dn(real)
    ones, zeros = torch.ones_like(real_out), torch.zeros_like(real_out)
    opt_d.zero_grad()
    d_loss = bce(real_out, ones) + bce(Dn(fake.detach()), zeros)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    Dn.requires_grad_(False)                                     # frozen, as mg.models.frozen
    g_loss = bce(Dn(fake), ones)
    g_loss.backward()
    Dn.requires_grad_(True)
    opt_g.step()
    return d_loss.item(), g_loss.item()


def torch_wgan_step(torch, G, Dn, opt_d, opt_g, real, Z, i, critic_steps):
    n = len(real)
    opt_d.zero_grad()
    fake = G(torch.randn(n, Z)).detach()                         # (N, D)
    real_out, fake_out = Dn(real), Dn(fake)                      # (N, 1) each
    alpha = torch.rand(n, 1)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_()
    (g,) = torch.autograd.grad(Dn(x_hat).sum(), [x_hat], create_graph=True)     # (N, D)
    norm = torch.sqrt((g * g).sum(1) + 1e-12)                    # (N,)
    d_loss = fake_out.mean() - real_out.mean() + GP_WEIGHT * ((norm - 1) ** 2).mean()
    d_loss.backward()
    opt_d.step()
    if (i + 1) % critic_steps:
        return d_loss.item(), None
    opt_g.zero_grad()
    Dn.requires_grad_(False)
    g_loss = -Dn(G(torch.randn(n, Z))).mean()
    g_loss.backward()
    Dn.requires_grad_(True)
    opt_g.step()
    return d_loss.item(), g_loss.item()


def torch_charrnn(torch, config, arrays):
    """minigen's CharRNN: one-hot characters -> nn.RNN (tanh, batch first) -> Linear head,
    cross-entropy on random windows, the gradient's norm clipped, Adam."""
    nn, F = torch.nn, torch.nn.functional
    ids, V = torch.from_numpy(arrays['stdlib']), len(arrays['stdlib_vocab'])
    N, T, H = config['batch_size'], config['length'], config['hidden']
    rnn, head = nn.RNN(V, H, batch_first=True), nn.Linear(H, V)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch_adam(torch, config, params)
    offsets = torch.arange(T + 1)                                # (T + 1,)
    began, losses = time.perf_counter(), []
    for _ in range(config['steps']):
        starts = torch.randint(0, len(ids) - T, (N,))            # (N,)
        windows = ids[starts[:, None] + offsets]                 # (N, T + 1)
        inputs, targets = windows[:, :-1], windows[:, 1:]        # (N, T) each
        opt.zero_grad()
        hs, _ = rnn(F.one_hot(inputs, V).float())                # (N, T, H)
        loss = F.cross_entropy(head(hs).reshape(N * T, V), targets.reshape(N * T))
        loss.backward()
        losses.append(loss.item())
        nn.utils.clip_grad_norm_(params, config['clip'])
        opt.step()
    return time.perf_counter() - began, config['steps'], charrnn_losses(losses)


def worker(framework, name, data_path, config_text, threads):
    import numpy
    arrays = dict(numpy.load(data_path))
    config = json.loads(config_text)
    if framework == 'minigen':
        from minigen.train.memory import tune_malloc
        tune_malloc()                                # as minigen train does when it starts
        done = minigen_run(config, arrays)
    else:
        done = torch_run(config, arrays, int(threads))
    print(json.dumps(done | {'model': name, 'framework': framework}))


if __name__ == '__main__':
    if sys.argv[1:2] == ['--worker']:
        worker(*sys.argv[2:])
    else:
        main()
