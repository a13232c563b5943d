"""The benchmark suite: ``python -m minigen bench`` (or ``python -m minigen.bench.suite``).

Six workloads (see workloads.py), each run three ways: minigen, the same step hand-written in
NumPy (the floor; verified first to compute the same loss and gradients as minigen), and
PyTorch's eager CPU mode when torch is installed (never required). Each way runs in its own
worker process; rounds are interleaved (A B C, A B C, ...) with an idle gap before each block,
so that one way's spinning BLAS threads do not slow the next. Reported: the median time per
step over rounds, the min–max spread, the ratio of medians to the floor, minor page faults per
step, and for W3 and W5 the peak memory (max RSS) of each process. glibc's malloc thresholds
are fixed for every worker (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_): left adaptive,
they moved the hand-written VAE step between 6.4 and 4.4 ms.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from . import workloads

STEPS = {'W1': 2000, 'W2': 300, 'W3': 20, 'W4': 20, 'W5': 10, 'W6': 3}
TARGETS = {'W1': 3.5, 'W2': 1.30, 'W3': 1.10, 'W4': 1.20, 'W5': 1.15, 'W6': 1.05}
MALLOC = {'MALLOC_MMAP_THRESHOLD_': str(64 << 20), 'MALLOC_TRIM_THRESHOLD_': str(128 << 20)}
GAP = 0.2          # seconds of idle before each block: BLAS threads stop spinning


class Worker:
    def __init__(self, name, way, device):
        env = {**os.environ, **MALLOC, 'MINIGEN_BENCH_DEVICE': device}
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


def bench(name, ways, rounds, device):
    workloads.verify(name)
    workers = {way: Worker(name, way, device) for way in ways}
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
    goal = f'target ≤ {target} µs/op' if name == 'W1' else f'target ≤ {target:.2f}×'
    print(f'{name}: {workloads.TITLES[name]} ({goal})')
    print(f"  {'way':<9}{unit:>9}{'min':>9}{'max':>9}{'× numpy':>9}{'faults':>8}{'RSS MiB':>9}")
    for way, r in rows.items():
        print(f"  {way:<9}{r['median']:>9.3f}{r['min']:>9.3f}{r['max']:>9.3f}"
              f"{r['ratio']:>8.2f}×{r['minor_faults_per_step']:>8.0f}{r['peak_rss_mib']:>9.0f}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog='minigen bench', description=__doc__.splitlines()[0])
    parser.add_argument('--only', nargs='*', choices=workloads.NAMES, default=None)
    parser.add_argument('--rounds', type=int, default=9)
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument('--json', help='also write the results to this file')
    args = parser.parse_args(argv)
    ways = ['numpy', 'minigen'] + (['torch'] if workloads.torch_available() else [])
    if 'torch' not in ways:
        print('(torch is not installed: its rows are skipped; pip install torch to add them)')
    results = {}
    for name in args.only or workloads.NAMES:
        results[name] = bench(name, ways, args.rounds, args.device)
        print_rows(name, results[name])
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    main()
