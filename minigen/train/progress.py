"""The running loss as a person sees it: a tqdm bar on a terminal, plain lines in a log."""
import sys
import time


class Progress:
    """The running loss as a person sees it: a tqdm bar when stdout is a terminal; otherwise
    (a log file, a pipe) plain lines, the first, the last and at most one every ``every``
    seconds between; nothing when ``quiet``."""

    def __init__(self, total, initial, desc, quiet=False, every=5.0):
        self.total, self.done, self.desc, self.every = total, initial, desc, every
        self.quiet, self.bar, self.last_line = quiet, None, None
        if not quiet and sys.stdout.isatty():
            self.bar = _tqdm_bar(total, initial, desc)

    def update(self, n, **values):
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            self.bar.set_postfix({k: f'{v:.4g}' for k, v in values.items()})
        elif not self.quiet and self._line_due():
            shown = ' '.join(f'{k} {v:.4g}' for k, v in values.items())
            print(f'{self.desc} {self.done}/{self.total}: {shown}', flush=True)
            self.last_line = time.monotonic()

    def _line_due(self):
        return (self.last_line is None or self.done >= self.total
                or time.monotonic() - self.last_line >= self.every)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _tqdm_bar(total, initial, desc):
    """A tqdm bar, or None without tqdm (then plain lines are printed instead)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, desc=desc, unit='it', dynamic_ncols=True,
                mininterval=0.5)
