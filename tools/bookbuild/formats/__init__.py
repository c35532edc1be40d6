"""The output formats, as peers: each module's ``render(ctx)`` returns the files it makes.

========== ======================================================== ==========================
name       what it makes                                            module
========== ======================================================== ==========================
ipynb      one notebook per chapter with code                       :mod:`.notebooks`
html       the web book: pages, figures, search index, assets        :mod:`.site`
revealjs   one self-contained deck per ``slides/*.qmd``, 2 handouts  :mod:`.slides`
typst      the PDF                                                   :mod:`.typst_pdf`
epub       the EPUB                                                  :mod:`.epub`
post-render Quarto's ``project.post-render`` scripts (flashcards)    :mod:`.post_render`
========== ======================================================== ==========================

No format imports another; the web book asks :mod:`.notebooks` only for the *names* of the
notebooks it links to, through :func:`render_all`.
"""

from __future__ import annotations

from ..context import BookContext, Outputs
from . import epub, notebooks, post_render, site, slides, typst_pdf


def render_all(ctx: BookContext) -> Outputs:
    """Every selected format's files, in a fixed order (later formats never overwrite)."""
    out: Outputs = {}
    if "ipynb" in ctx.formats:
        out.update(notebooks.render(ctx))
    if "html" in ctx.formats:
        links = notebooks.notebook_paths(ctx) if "ipynb" in ctx.formats else {}
        out.update(site.render(ctx, links))
    if "revealjs" in ctx.formats:
        out.update(slides.render(ctx))
    if "typst" in ctx.formats:
        ctx.progress.message("PDF (pandoc + Typst)")
        out.update(typst_pdf.render(ctx))
    if "epub" in ctx.formats:
        ctx.progress.message("EPUB (pandoc)")
        out.update(epub.render(ctx))
    if "post-render" in ctx.formats:
        out.update(post_render.render(ctx))
    return out
