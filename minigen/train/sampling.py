"""``minigen sample``: draw from a trained model's checkpoint, images to a picture file, text
to the screen; every mistake a UsageError, found before the checkpoint is read where it can be."""
import math
import os

from ..core.creation import manual_seed
from .checkpoint import load_checkpoint
from .pictures import pyplot, save_image_grid
from ..core.errors import UsageError


def sample(checkpoint, n=100, temperature=None, prime=None, out=None, device=None, seed=None):
    """``minigen sample CHECKPOINT``: images to a picture file, or text to the screen (and
    ``out``). ``temperature`` and ``prime`` are the char-RNN's (1.0 and '' when not given); an
    image model refuses them. ``seed`` makes the draw repeatable. The default image file,
    samples-N.png beside the checkpoint, is never overwritten: a second draw goes to
    samples-N-2.png, and so on. Returns the path written, or None.

    Every mistake is a UsageError, found before the checkpoint is read where the mistake does
    not depend on the model: a temperature that is not a positive finite number, an ``out``
    in a missing folder."""
    check_sample_flags(temperature, out)
    run = load_checkpoint(checkpoint, device)
    kind = run.config.kind
    if kind != 'charrnn':
        check_image_sample_flags(kind, temperature, prime, out)
    if seed is not None:
        manual_seed(seed)
    if kind == 'charrnn':
        return _sample_text(run, n, 1.0 if temperature is None else temperature, prime or '',
                            out)
    folder = checkpoint if os.path.isdir(checkpoint) else \
        os.path.dirname(os.path.abspath(checkpoint))
    out = out or unused_path(os.path.join(folder, f'samples-{n}.png'))
    save_image_grid(run.model.sample(n).numpy(), tuple(run.config.image_shape), out,
                    f'{kind}: {n} samples' + (f' (seed {seed})' if seed is not None else ''))
    print(f'wrote {out}')
    return out


def check_sample_flags(temperature, out):
    """The checks that need no checkpoint: a temperature T > 0 and finite (the char-RNN draws
    from softmax(logits / T); T = nan would make every probability nan), and an ``out`` that
    names a file in a folder that exists."""
    if temperature is not None and not (math.isfinite(temperature) and temperature > 0):
        raise UsageError(f"--temperature must be a finite number above 0 (1.0 draws as the "
                         f"model learned, lower is more predictable); got {temperature}")
    if out is None:
        return
    if os.path.isdir(out):
        raise UsageError(f"--out {out} is a folder; give the name of a file to write")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise UsageError(f"--out {out}: the folder {folder} does not exist; create it first")


# The picture formats matplotlib writes with no extra program (pgf needs LaTeX; raw and rgba are
# bare pixel bytes), the common ones first.
IMAGE_FORMATS = ('png', 'svg', 'pdf', 'jpg', 'jpeg', 'webp', 'tif', 'tiff', 'gif', 'eps', 'ps',
                 'svgz')


def image_formats():
    """The extensions (without the dot) in IMAGE_FORMATS that this matplotlib can write."""
    pyplot()
    from matplotlib.figure import Figure
    writable = Figure().canvas.get_supported_filetypes()
    return [ext for ext in IMAGE_FORMATS if ext in writable]


def check_image_sample_flags(kind, temperature, prime, out):
    """An image model draws from noise: it has no temperature and reads no prime, and its
    samples are a picture, so ``out`` must end in an extension matplotlib writes."""
    if temperature is not None:
        raise UsageError(f"--temperature is for charrnn checkpoints; a {kind} model draws "
                         "images from noise and has no temperature")
    if prime is not None:
        raise UsageError(f"--prime is for charrnn checkpoints; a {kind} model draws images "
                         "from noise and reads no text first")
    if out is None:
        return
    ext = os.path.splitext(out)[1].lower()
    formats = image_formats()
    if ext[1:] not in formats:
        found = f"ends in {ext}" if ext else "has no extension"
        raise UsageError(f"--out {out} {found}; a {kind} model's samples are a picture: end "
                         f"the name in {', '.join('.' + f for f in formats)}")


def _sample_text(run, n, temperature, prime, out):
    try:
        text = prime + run.model.sample(n, prime=prime, temperature=temperature)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(text)
    if out:
        with open(out, 'w', encoding='utf-8') as f:
            f.write(text + '\n')
    return out


def unused_path(path):
    """``path`` if nothing is there yet, else the first free NAME-2.EXT, NAME-3.EXT, ..."""
    base, ext = os.path.splitext(path)
    candidate, k = path, 1
    while os.path.exists(candidate):
        k += 1
        candidate = f'{base}-{k}{ext}'
    return candidate
