"""The pictures of a run, without training one."""
import pytest

from minigen.train.report import grid_shape


@pytest.mark.parametrize('n, shape', [(1, (1, 1)), (7, (1, 7)), (12, (3, 4)), (16, (4, 4)),
                                      (100, (10, 10)), (2000, (40, 50))])
def test_grid_shape_fills_every_cell(n, shape):
    assert grid_shape(n) == shape


def test_grid_shape_of_a_large_prime_stays_near_square():
    rows, columns = grid_shape(97)
    assert (rows, columns) == (10, 10) and (rows - 1) * columns < 97
