"""The end of a sweep: each setting's final metrics over its seeds (mean ± standard deviation,
and the spread), the best setting by the kind's own measure, sweep.json, and curves.png, the
learning curves of every setting with its seeds' band shaded.

Host-only arithmetic on a few numbers per run: the standard library's ``statistics``.
"""
import json
import os
import statistics

from .pictures import pyplot, save_and_close
from .runs import read_metrics

# The final metrics shown for each kind; the first is the measure that names the best setting
# (lower is better for each of those). Then the learning curve drawn for each kind: (the row
# counter, the metrics.jsonl key, its axis label).
SHOWN = {
    'vae': ['test_nelbo', 'test_iwae_nll_k200', 'wall_seconds'],
    'gan': ['frechet_distance', 'classes_covered', 'smallest_class_share', 'wall_seconds'],
    'wgan-gp': ['frechet_distance', 'classes_covered', 'smallest_class_share', 'wall_seconds'],
    'charrnn': ['test_bits_per_character', 'wall_seconds'],
}
CURVE = {
    'vae': ('epoch', 'test_nelbo', 'test −ELBO, 1 noise draw (nats per image)'),
    'gan': ('epoch', 'frechet_distance', 'Fréchet distance to the test images'),
    'wgan-gp': ('epoch', 'frechet_distance', 'Fréchet distance to the test images'),
    'charrnn': ('step', 'test_bpc', 'test bits per character (first 10,000 characters)'),
}


def final_metrics(summary):
    """The numbers of a run's summary.json shown in a sweep: its scalar metrics, and the
    smallest class share of a GAN's samples."""
    values = {k: v for k, v in summary.items()
              if isinstance(v, (int, float)) and not isinstance(v, bool)
              and k not in ('seed',) and not k.endswith('_draws')}
    if summary.get('class_shares'):
        values['smallest_class_share'] = min(summary['class_shares'])
    return values


def spread(values):
    """mean, standard deviation (n − 1; None for one value), min, max and n."""
    return {'mean': statistics.fmean(values),
            'std': statistics.stdev(values) if len(values) > 1 else None,
            'min': min(values), 'max': max(values), 'n': len(values)}


def definition(sweep, command=None):
    """What sweep.json says of the sweep before its results: the command and the grid."""
    return {'kind': sweep.kind, 'command': command, 'seeds': sweep.seeds,
            'axes': {name: values for name, values in sweep.axes}, 'flags': sweep.flags,
            'settings': None}


def summarize(sweep, records, command=None):
    """What sweep.json holds: the sweep's definition, every run's record, and per setting the
    spread over seeds of each final metric; 'best' names the setting with the lowest mean of
    the kind's measure among the settings none of whose runs failed."""
    measure = SHOWN[sweep.kind][0]
    settings = []
    for label, values in sweep.settings():
        runs = [_run_entry(r) for r in records if r['setting'] == label]
        finished = [r['metrics'] for r in runs if r['status'] != 'failed']
        names = sorted({k for m in finished for k in m})
        settings.append({'setting': label, 'values': values, 'runs': runs,
                         'failed': sum(r['status'] == 'failed' for r in runs),
                         'metrics': {k: spread([m[k] for m in finished if k in m])
                                     for k in names}})
    whole = [s for s in settings if not s['failed'] and measure in s['metrics']]
    best = min(whole, key=lambda s: s['metrics'][measure]['mean'], default=None)
    return {**definition(sweep, command), 'measure': measure, 'lower_is_better': True,
            'best': best and {'setting': best['setting'],
                              **{k: best['metrics'][measure][k] for k in ('mean', 'std')}},
            'settings': settings}


def _run_entry(record):
    entry = {k: record[k] for k in ('seed', 'folder', 'status', 'seconds')}
    if record['status'] == 'failed':
        entry['error'] = record['error']
        if 'traceback' in record:
            entry['traceback'] = record['traceback']
    else:
        entry['metrics'] = final_metrics(record['summary'])
    return entry


def write_json(summary, out):
    path = os.path.join(out, 'sweep.json')
    with open(path + '.tmp', 'w') as f:
        json.dump(summary, f, indent=2)
    os.replace(path + '.tmp', path)
    return path


# -------------------------------------------------------------------------------- the tables

def _number(value, digits=5):
    """``digits`` significant digits, written as Python writes that float (a standard
    deviation of 123.4 is '120', not '1.2e+02'; 1e-05 stays so)."""
    if value is None:
        return '—'
    text = repr(float(f"{value:.{digits}g}"))
    return text[:-2] if text.endswith('.0') else text


def table(summary):
    """Two Markdown tables: every run's final metrics, then each setting's mean ± standard
    deviation (min–max) over its seeds; then the best setting and the failed runs."""
    shown = SHOWN[summary['kind']]
    label = lambda s: s['setting'] or 'all runs'          # noqa: E731
    lines = ['| setting | seed | ' + ' | '.join(shown) + ' |',
             '|---|---|' + '---|' * len(shown)]
    for s in summary['settings']:
        for run in s['runs']:
            cells = ([_number(run['metrics'].get(k), _digits(k)) for k in shown]
                     if 'metrics' in run else ['failed'] + [''] * (len(shown) - 1))
            lines.append(f"| {label(s)} | {run['seed']} | " + ' | '.join(cells) + ' |')
    lines += ['', '| setting | runs | ' + ' | '.join(shown) + ' |',
              '|---|---|' + '---|' * len(shown)]
    for s in summary['settings']:
        runs = len(s['runs']) - s['failed']
        count = f"{runs}" + (f" ({s['failed']} failed)" if s['failed'] else '')
        lines.append(f"| {label(s)} | {count} | " + ' | '.join(
            _mean_std(s['metrics'].get(k), _digits(k)) for k in shown) + ' |')
    return '\n'.join(lines + [''] + verdict(summary))


def _digits(name):
    return 3 if name == 'wall_seconds' else 5


def _mean_std(m, digits=5):
    if m is None:
        return '—'
    if m['std'] is None:
        return _number(m['mean'], digits)
    return f"{_number(m['mean'], digits)} ± {_number(m['std'], 2)} " \
           f"({_number(m['min'], digits)}–{_number(m['max'], digits)})"


def verdict(summary):
    """The lines that name the best setting and every failed run."""
    best, measure = summary['best'], summary['measure']
    if best is None:
        lines = [f"best: none (no setting finished every run with a {measure})"]
    else:
        std = f" ± {_number(best['std'], 2)}" if best['std'] is not None else ''
        lines = [f"best by {measure} (lower is better): {best['setting'] or 'all runs'}, "
                 f"{_number(best['mean'])}{std}"]
    for s in summary['settings']:
        for run in s['runs']:
            if run['status'] == 'failed':
                where = (s['setting'] + ' ' if s['setting'] else '') + f"seed {run['seed']}"
                lines.append(f"failed: {where}: {run['error']}")
    return lines


# -------------------------------------------------------------------------------- the curves

def save_curves(summary, out):
    """curves.png: per setting, the mean over its finished seeds of the kind's learning curve,
    with the band between the lowest and highest seed shaded; None when no run has a curve."""
    x_name, key, ylabel = CURVE[summary['kind']]
    curves = {}
    for s in summary['settings']:
        runs = [[(row[x_name], row[key]) for row in read_metrics(run['folder']) if key in row]
                for run in s['runs'] if run['status'] != 'failed']
        points = _common_points([r for r in runs if r])
        if points:
            curves[s['setting'] or 'all runs'] = points
    if not curves:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, (xs, columns) in curves.items():
        mean = [statistics.fmean(c) for c in columns]
        line, = ax.plot(xs, mean, label=f"{name} ({len(columns[0])} seeds)",
                        marker='o' if len(xs) <= 30 else None, markersize=3)
        ax.fill_between(xs, [min(c) for c in columns], [max(c) for c in columns],
                        color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set(xlabel=x_name, ylabel=ylabel,
           title=f"{summary['kind']}: mean over seeds, lowest to highest seed shaded")
    ax.xaxis.get_major_locator().set_params(integer=True)     # epochs and steps are whole
    ax.grid(alpha=0.3)
    ax.legend()
    path = os.path.join(out, 'curves.png')
    save_and_close(plt, fig, path)
    return path


def _common_points(runs):
    """(xs, [the runs' values at x, for each x]) at the xs every run has."""
    if not runs:
        return None
    common = set.intersection(*({x for x, _ in run} for run in runs))
    xs = sorted(common)
    values = [dict(run) for run in runs]
    return (xs, [[v[x] for v in values] for x in xs]) if xs else None
