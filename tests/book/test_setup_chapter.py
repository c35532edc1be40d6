"""llmprep.book.setup_chapter: one call gives every chapter the same figures, printing and seed."""

from __future__ import annotations

import random
from collections.abc import Iterator

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.figure import Figure

from llmprep.book import PAGE_WIDTH, setup_chapter
from llmprep.book.plotting import PALETTE, house_style


@pytest.fixture(autouse=True)
def restore_global_state() -> Iterator[None]:
    """setup_chapter changes process-wide state; give it back after each test."""
    rc = mpl.rcParams.copy()
    printing = np.get_printoptions()
    py_state, np_state = random.getstate(), np.random.get_state()
    mpl.rcdefaults()
    np.set_printoptions()  # numpy's defaults
    yield
    mpl.rcParams.update(rc)
    np.set_printoptions(**printing)
    random.setstate(py_state)
    np.random.set_state(np_state)


def test_figures_take_the_house_style() -> None:
    assert mpl.rcParams["axes.spines.top"]  # matplotlib's default, before
    setup_chapter()
    for key, value in mpl.RcParams(house_style()).items():  # validated as rcParams store them
        assert mpl.rcParams[key] == value, key
    ax = Figure().subplots()
    (line,) = ax.plot([0, 1], [0, 1])
    assert line.get_color() == PALETTE[0]  # a new figure draws in the house colours


def test_arrays_print_short_and_fit_the_page() -> None:
    values = np.array([1 / 3, 2e-9, 1234.5])
    assert repr(values) == "array([3.33333333e-01, 2.00000000e-09, 1.23450000e+03])"  # before
    setup_chapter()
    assert repr(values) == "array([   0.3333,    0.    , 1234.5   ])"
    lines = str(np.linspace(0, 1, 200)).splitlines()
    assert len(lines) > 1
    assert max(map(len, lines)) <= PAGE_WIDTH
    assert max(map(len, lines)) > 75  # wrapped at the page, not at numpy's 75 columns


def test_global_random_draws_repeat_on_every_run() -> None:
    setup_chapter()
    first = (random.random(), np.random.random(3).tolist())
    random.random(), np.random.random()  # a chapter's cells draw more ...
    setup_chapter()  # ... and re-running the setup cell starts over
    assert (random.random(), np.random.random(3).tolist()) == first
    setup_chapter(seed=1)
    assert random.random() != first[0]
