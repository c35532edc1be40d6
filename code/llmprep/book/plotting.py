"""One house style for every figure in the book.

Every chapter's hidden setup cell applies it, through `llmprep.book.setup_chapter`, so figures
share fonts, sizes and colours, and look the same in the web book, the PDF and the slides. The
palette is Okabe and Ito's eight colours, chosen to stay distinguishable for the common forms of
colour blindness; text sizes are set for a figure printed about 15 cm wide.

What it does not do: choose chart types, or style figures made outside matplotlib.
"""

from __future__ import annotations

from typing import Any, Final

# Okabe & Ito (2008), "Color Universal Design", without the yellow that vanishes on white.
PALETTE: Final = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)
INK: Final = "#1f2328"
GRID: Final = "#d0d7de"


def house_style() -> dict[str, Any]:
    """The matplotlib settings of the house style, as an ``rcParams`` mapping."""
    from cycler import cycler

    return {
        "figure.figsize": (7.0, 4.2),
        "figure.dpi": 100,
        "figure.facecolor": "white",
        "figure.constrained_layout.use": True,
        "font.size": 11,
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.labelsize": 11,
        "axes.edgecolor": INK,
        "axes.labelcolor": INK,
        "axes.prop_cycle": cycler(color=list(PALETTE)),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "grid.color": GRID,
        "grid.linewidth": 0.6,
        "xtick.color": INK,
        "ytick.color": INK,
        "legend.frameon": False,
        "lines.linewidth": 2.0,
        "savefig.facecolor": "white",
    }


def use_house_style() -> None:
    """Apply the house style to matplotlib for the rest of the session."""
    import matplotlib.style

    matplotlib.style.use(house_style())
