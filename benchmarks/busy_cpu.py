"""Each mission model's default run, timed on an idle machine and beside one CPU-bound process.

    python benchmarks/busy_cpu.py                       # every kind, its defaults
    python benchmarks/busy_cpu.py --kinds gan --args '--epochs 30' --threads 2

The busy process is a pure-Python loop this script starts itself (one core's worth of work) and
stops after the run. Each run is `python -m minigen train KIND --quiet` in a fresh folder; the
wall time includes start-up and the end-of-run measures. Issue 13's bar: beside the busy
process a run takes at most 1.3 times its idle time. A benchmark, not a test: it prints a table
and asserts nothing.
"""
import argparse
import multiprocessing
import subprocess
import sys
import tempfile
import time


def burn():
    """Keep one core busy until killed."""
    x = 0
    while True:
        x = (x * 1103515245 + 12345) % 2147483648


def timed_run(kind, extra, threads, folder):
    argv = [sys.executable, '-m', 'minigen', 'train', kind, '--quiet', '--out', folder,
            *extra.split()] + (['--threads', str(threads)] if threads else [])
    began = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--kinds', default='vae,gan,wgan-gp,charrnn')
    parser.add_argument('--args', default='', help='extra flags for every run')
    parser.add_argument('--threads', type=int, default=0, help='BLAS threads (default: the run\'s)')
    options = parser.parse_args()
    print(f"{'run':<12} {'idle':>8} {'busy':>8} {'busy/idle':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in options.kinds.split(','):
            idle = timed_run(kind, options.args, options.threads, f'{tmp}/{kind}-idle')
            busy_process = multiprocessing.Process(target=burn, daemon=True)
            busy_process.start()
            try:
                busy = timed_run(kind, options.args, options.threads, f'{tmp}/{kind}-busy')
            finally:
                busy_process.terminate()
                busy_process.join()
            print(f"{kind:<12} {idle:>7.1f}s {busy:>7.1f}s {busy / idle:>8.2f}x", flush=True)


if __name__ == '__main__':
    main()
