"""One process-wide setting the training app makes, and only it: glibc's malloc thresholds.

glibc's malloc serves a block above its *mmap threshold* with a fresh mapping from the OS, and
returns it to the OS on free. A training step allocates the same large arrays every time
(activations of (128, 784), gradients of (784, 400), ...), so under the default thresholds each
step maps them again, and every 4 KiB page touched is a page fault: thousands per step at
28×28 (issue 13 measured 3,904 for a VAE step at batch 1,024). Raising the mmap threshold (and
the trim threshold, which decides when free memory at the top of the heap is given back) keeps
those blocks in the heap, reused from step to step with no fault.

`minigen train` calls ``tune_malloc()`` when it starts, and writes what it did into the run's
summary. Importing minigen never does: a library must not change a process-wide setting
silently. ``MINIGEN_MALLOC=default`` turns it off; on a system without glibc it does nothing.
"""
import ctypes
import os

M_TRIM_THRESHOLD = -1          # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20      # blocks up to 32 MiB come from the heap
TRIM_THRESHOLD = 128 << 20     # up to 128 MiB free at the heap's top is kept

setting = "the process's own"  # what summary.json reports; tune_malloc() changes it


def tune_malloc():
    """Raise glibc's mmap and trim thresholds; return (and keep in ``setting``) what was done:
    'tuned', or 'default' and why not."""
    global setting
    setting = _tune()
    return setting


def _tune():
    if os.environ.get('MINIGEN_MALLOC', '').lower() == 'default':
        return 'default (MINIGEN_MALLOC=default)'
    try:
        mallopt = ctypes.CDLL('libc.so.6').mallopt
    except (OSError, AttributeError):
        return 'default (not glibc)'
    done = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD,
                                                                 TRIM_THRESHOLD)
    return (f'tuned (mmap threshold {MMAP_THRESHOLD >> 20} MiB, trim threshold '
            f'{TRIM_THRESHOLD >> 20} MiB)' if done else 'default (mallopt refused)')
