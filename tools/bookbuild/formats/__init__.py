"""The output formats, as peers: each module's ``render(ctx)`` returns the files it makes.

=========== ======================================================== ==========================
name        what it makes                                            module
=========== ======================================================== ==========================
ipynb       one notebook per chapter with code                       :mod:`.notebooks`
html        the web book: pages, figures, search index, assets        :mod:`.site`
revealjs    one self-contained deck per ``slides/*.qmd``, 2 handouts  :mod:`.slides`
typst       the PDF                                                   :mod:`.typst_pdf`
epub        the EPUB                                                  :mod:`.epub`
post-render Quarto's ``project.post-render`` scripts (flashcards)     :mod:`.post_render`
=========== ======================================================== ==========================

No format imports another; the web book asks :mod:`.notebooks` only for the *names* of the
notebooks it links to, through :func:`render_all`. Because they are independent, the formats
render concurrently (their engines are separate processes, or release the interpreter), and
their files are merged in this fixed order, so the output does not depend on which finished
first.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..context import BookContext, Outputs
from . import epub, notebooks, post_render, site, slides, typst_pdf


def _site(ctx: BookContext) -> Outputs:
    links = notebooks.notebook_paths(ctx) if "ipynb" in ctx.formats else {}
    return site.render(ctx, links)


RENDERERS: dict[str, Callable[[BookContext], Outputs]] = {
    "ipynb": notebooks.render,
    "html": _site,
    "revealjs": slides.render,
    "typst": typst_pdf.render,
    "epub": epub.render,
    "post-render": post_render.render,
}


def render_all(ctx: BookContext) -> Outputs:
    """Every selected format's files (formats never write the same file)."""
    chosen = [name for name in RENDERERS if name in ctx.formats]
    with ThreadPoolExecutor(max_workers=len(chosen) or 1) as pool:
        futures = {name: pool.submit(RENDERERS[name], ctx) for name in chosen}
        results = {name: future.result() for name, future in futures.items()}
    out: Outputs = {}
    for name in chosen:
        clash = out.keys() & results[name].keys()
        if clash:
            raise RuntimeError(f"formats write the same files: {sorted(clash)[:3]}")
        out.update(results[name])
    return out
