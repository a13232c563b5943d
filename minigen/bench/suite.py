"""The benchmark suite: ``python -m minigen bench`` (or ``python -m minigen.bench.suite``).

Seven workloads (see workloads.py), each run three ways: minigen, the same step hand-written in
NumPy (the floor: tuned, in place, preallocated, and verified first to compute the same loss and
gradients as minigen), and PyTorch's eager CPU mode when torch is installed (never required).
Each way runs in its own worker process; rounds are interleaved (A B C, A B C, ...) with an idle
gap before each block, so that one way's spinning BLAS threads do not slow the next. Reported:
the median time per step over rounds, the min–max spread, the ratio of medians to the floor,
minor page faults per warmed-up step, and the peak memory (max RSS) of each process.

Malloc. By default the workers run under the malloc a user's process has: glibc's adaptive
thresholds, and whatever MALLOC_* variables the caller's environment already sets (the table's
heading names them). Under adaptive thresholds a step that frees large arrays can hand memory
back to the kernel and fault it in again next step: that cost is real for a user, so it is
measured. ``--malloc tuned`` fixes the thresholds instead (MALLOC_MMAP_THRESHOLD_ 64 MiB,
MALLOC_TRIM_THRESHOLD_ 128 MiB: large arrays stay on the heap and are reused); its figures are
labelled as such and are not what ``import minigen`` gives (minigen sets no malloc option).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from . import workloads

STEPS = {'W1': 2000, 'W2': 300, 'W3': 20, 'W4': 20, 'W5': 10, 'W6': 3, 'W7': 5}
# issue 13's targets, each a ratio to the tuned NumPy floor (W7's: W5's, for the LSTM)
TARGETS = {'W1': 3.5, 'W2': 1.35, 'W3': 1.08, 'W4': 1.15, 'W5': 1.25, 'W6': 1.10, 'W7': 1.25}
TUNED_MALLOC = {'MALLOC_MMAP_THRESHOLD_': str(64 << 20),
                'MALLOC_TRIM_THRESHOLD_': str(128 << 20)}
GAP = 0.2          # seconds of idle before each block: BLAS threads stop spinning


def malloc_environment(mode):
    """The workers' environment: the caller's as it is ('default'), or with glibc's
    thresholds fixed ('tuned')."""
    tuned = TUNED_MALLOC if mode == 'tuned' else {}
    return {**os.environ, **tuned}


def malloc_settings(env):
    """The malloc variables a worker will see, as 'NAME=value ...', or 'glibc defaults'."""
    found = [f'{k}={v}' for k, v in sorted(env.items())
             if k.startswith('MALLOC_') or k == 'GLIBC_TUNABLES']
    return ' '.join(found) or 'glibc defaults'


class Worker:
    def __init__(self, name, way, device, malloc='default'):
        env = {**malloc_environment(malloc), 'MINIGEN_BENCH_DEVICE': device}
        self.process = subprocess.Popen([sys.executable, '-m', 'minigen.bench.worker', name,
                                         way], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env)
        self.ops = int(self._read().split()[1])

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError('a benchmark worker stopped; run it by hand to see why')
        return line

    def run(self, steps):
        self.process.stdin.write(f'run {steps}\n')
        self.process.stdin.flush()
        seconds, faults = self._read().split()
        return float(seconds) / steps, int(faults) / steps

    def peak_mib(self):
        self.process.stdin.write('stats\n')
        self.process.stdin.flush()
        return float(self._read())

    def close(self):
        self.process.stdin.write('quit\n')
        self.process.stdin.flush()
        self.process.wait()


def bench(name, ways, rounds, device, malloc='default'):
    workloads.verify(name)
    workers = {way: Worker(name, way, device, malloc) for way in ways}
    try:
        for worker in workers.values():
            worker.run(max(1, STEPS[name] // 4))                 # warm-up
        times = {way: [] for way in ways}
        faults = {way: [] for way in ways}
        for _ in range(rounds):
            for way, worker in workers.items():
                time.sleep(GAP)
                seconds, minor = worker.run(STEPS[name])
                times[way].append(seconds)
                faults[way].append(minor)
        peaks = {way: w.peak_mib() for way, w in workers.items()}
        ops = workers['minigen'].ops
    finally:
        for worker in workers.values():
            worker.close()
    floor = statistics.median(times['numpy'])
    rows = {}
    for way in ways:
        scale = 1e6 / ops if name == 'W1' else 1e3            # µs per op, or ms per step
        rows[way] = {'median': statistics.median(times[way]) * scale,
                     'min': min(times[way]) * scale, 'max': max(times[way]) * scale,
                     'ratio': statistics.median(times[way]) / floor,
                     'minor_faults_per_step': statistics.median(faults[way]),
                     'peak_rss_mib': peaks[way]}
    return rows


def print_rows(name, rows):
    unit = 'µs/op' if name == 'W1' else 'ms/step'
    target = TARGETS[name]
    goal = f'target ≤ {target:.2f}× the floor'
    print(f'{name}: {workloads.TITLES[name]} ({goal})')
    print(f"  {'way':<9}{unit:>9}{'min':>9}{'max':>9}{'× numpy':>9}{'faults/step':>12}"
          f"{'RSS MiB':>9}")
    for way, r in rows.items():
        print(f"  {way:<9}{r['median']:>9.3f}{r['min']:>9.3f}{r['max']:>9.3f}"
              f"{r['ratio']:>8.2f}×{r['minor_faults_per_step']:>12.1f}{r['peak_rss_mib']:>9.0f}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog='minigen bench', description=__doc__.splitlines()[0])
    parser.add_argument('--only', nargs='*', choices=workloads.NAMES, default=None)
    parser.add_argument('--rounds', type=int, default=9)
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument('--malloc', choices=['default', 'tuned'], default='default',
                        help="'default': the malloc a user's process has (the default); "
                             "'tuned': glibc's thresholds fixed, reported as such")
    parser.add_argument('--json', help='also write the results to this file')
    args = parser.parse_args(argv)
    ways = ['numpy', 'minigen'] + (['torch'] if workloads.torch_available() else [])
    if 'torch' not in ways:
        print('(torch is not installed: its rows are skipped; pip install torch to add them)')
    settings = malloc_settings(malloc_environment(args.malloc))
    print(f'malloc: {args.malloc} ({settings}); faults/step are minor page faults per '
          'warmed-up step')
    results = {'malloc': {'mode': args.malloc, 'settings': settings}}
    for name in args.only or workloads.NAMES:
        results[name] = bench(name, ways, args.rounds, args.device, args.malloc)
        print_rows(name, results[name])
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    main()
