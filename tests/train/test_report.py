"""The pictures and measures of a run, without training one."""
import dataclasses
import json

import numpy as np
import pytest

from minigen.train.pictures import grid_shape


@pytest.mark.parametrize('n, shape', [(1, (1, 1)), (7, (1, 7)), (12, (3, 4)), (16, (4, 4)),
                                      (100, (10, 10)), (2000, (40, 50))])
def test_grid_shape_fills_every_cell(n, shape):
    assert grid_shape(n) == shape


def test_grid_shape_of_a_large_prime_stays_near_square():
    rows, columns = grid_shape(97)
    assert (rows, columns) == (10, 10) and (rows - 1) * columns < 97


# ----------------------------------------------------------------------------------- loss curves

ROWS = {
    'charrnn': [{'step': 100, 'train_bpc': 3.1, 'test_bpc': 3.3, 'seconds': 1.0},
                {'step': 200, 'train_bpc': 2.6, 'test_bpc': 2.9, 'seconds': 2.0}],
    'vae': [{'epoch': 1, 'train_loss': 40.0, 'test_nelbo': 38.5, 'seconds': 0.5},
            {'epoch': 2, 'train_loss': 35.0, 'test_nelbo': 34.0, 'seconds': 1.0}],
    # the Fréchet distance only on some epochs: the rows between simply lack it
    'gan': [{'epoch': e, 'd_loss': 1.3, 'g_loss': 0.8, 'seconds': e,
             **({'frechet_distance': 9.0 - e} if e % 2 == 0 else {})} for e in range(1, 6)],
    'wgan-gp': [{'epoch': 1, 'd_loss': -2.0, 'g_loss': 1.5, 'seconds': 1.0}],
}
Y_LABELS = {'charrnn': ['bits per character'], 'vae': ['−ELBO (nats per image)'],
            'gan': ['loss (nats)', 'Fréchet distance (pixel space, lower is better)'],
            'wgan-gp': ['loss (critic score units, not nats)',
                        'Fréchet distance (pixel space, lower is better)']}


def draw(kind, rows):
    """(the y labels of the panels, {y label: {legend name: number of points}}) of the figure a
    run of ``kind`` draws from ``rows``."""
    pytest.importorskip('matplotlib')
    import matplotlib.pyplot as plt
    from minigen.train.pictures import curve_figure, loss_panels
    fig = curve_figure(loss_panels(kind), rows, 'step' if kind == 'charrnn' else 'epoch')
    labels = [ax.get_ylabel() for ax in fig.axes]
    lines = {ax.get_ylabel(): {line.get_label(): len(line.get_xdata()) for line in ax.lines}
             for ax in fig.axes}
    plt.close(fig)
    return labels, lines


@pytest.mark.parametrize('kind', sorted(ROWS))
def test_every_panel_of_the_loss_plot_names_its_unit(kind):
    labels, _ = draw(kind, ROWS[kind])
    assert labels == Y_LABELS[kind]


def test_the_charrnn_plot_shows_train_and_test_bits_per_character():
    _, lines = draw('charrnn', ROWS['charrnn'])
    assert lines == {'bits per character': {'train': 2, 'test text (first 10,000 characters)': 2}}


def test_the_gan_plot_has_a_frechet_panel_from_only_the_rows_that_hold_it():
    _, lines = draw('gan', ROWS['gan'])
    assert lines['loss (nats)'] == {'discriminator': 5, 'generator': 5}
    assert lines['Fréchet distance (pixel space, lower is better)'] == {
        'fixed-noise samples vs test images': 2}


def test_a_gan_plot_without_any_frechet_distance_says_so():
    pytest.importorskip('matplotlib')
    import matplotlib.pyplot as plt
    from minigen.train.pictures import curve_figure, loss_panels
    fig = curve_figure(loss_panels('wgan-gp'), ROWS['wgan-gp'], 'epoch')
    frechet = fig.axes[1]
    assert not frechet.lines
    assert 'no Fréchet distance measured yet' in frechet.texts[0].get_text()
    plt.close(fig)


@pytest.mark.parametrize('kind', sorted(ROWS))
@pytest.mark.parametrize('rows', ['full', 'sparse', 'none'])
def test_losses_png_is_written_with_or_without_the_optional_keys(tmp_path, kind, rows):
    """Rows lacking keys (an old run, the epochs without a Fréchet distance), or no rows at
    all, still give a picture."""
    pytest.importorskip('matplotlib')
    from minigen.train.pictures import save_loss_curves
    chosen = {'full': ROWS[kind],
              'sparse': [{k: v for k, v in row.items() if k in ('step', 'epoch', 'seconds')
                          or i % 2 == 0} for i, row in enumerate(ROWS[kind])],
              'none': []}[rows]
    (tmp_path / 'metrics.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in chosen))
    save_loss_curves(str(tmp_path), kind)
    assert (tmp_path / 'losses.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


# ----------------------------------------------------------------------------------- coverage

def upscaled_digits(size):
    """scikit-learn's 8×8 digits, resized to size × size by nearest neighbours."""
    from minigen.data import load_digits
    split = load_digits()
    index = np.arange(size) * 8 // size                          # source row of each new row

    def resize(images):
        return images.reshape(-1, 8, 8)[:, index][:, :, index].reshape(len(images), -1)
    return dataclasses.replace(split, train=resize(split.train), test=resize(split.test),
                               image_shape=(size, size))


def test_class_coverage_is_measured_for_28_by_28_images():
    pytest.importorskip('sklearn')
    from minigen.train.report import coverage_metrics
    split = upscaled_digits(28)
    assert split.train.shape[1] == 784
    metrics = coverage_metrics(split, split.test[:200])
    assert metrics['classes_covered'] == 10 and metrics['classifier_test_accuracy'] > 0.9
    assert abs(sum(metrics['class_shares']) - 1) < 1e-9


def test_class_coverage_is_skipped_without_ten_labelled_classes():
    pytest.importorskip('sklearn')
    from minigen.train.report import coverage_metrics
    split = upscaled_digits(8)
    three = split.labels_train % 3
    assert coverage_metrics(dataclasses.replace(split, labels_train=three), split.test) == {}
    assert coverage_metrics(dataclasses.replace(split, labels_test=None), split.test) == {}
