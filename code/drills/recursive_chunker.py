"""Drill: a recursive text chunker that cuts at the best boundary that fits.

"Split a text into chunks of at most `size` characters (or tokens, given a `length`
function). Prefer cuts between paragraphs, then between lines, then after sentences,
then between words, and only as a last resort between characters. Joining the chunks
must give the text back exactly: nothing lost, nothing duplicated."

The algorithm (the one LangChain's RecursiveCharacterTextSplitter made popular):
1. A text that fits (`length(text) <= size`) is one chunk; "" gives no chunks.
2. Otherwise take the first separator in `separators` that occurs in the text and cut
   after every occurrence. A separator stays at the *end* of the piece before it, and
   a run of one separator ("\\n\\n\\n\\n") stays together. "" means "between any two
   characters".
3. Pack the pieces greedily, left to right: add the next piece to the current chunk
   while the combined text fits, else close the chunk and start a new one with it.
4. A piece too long on its own closes the current chunk and is split by these same
   rules, with only the separators that come *after* the one used at this level.

Rules the grader checks:
- `"".join(chunks) == text`, and no chunk is empty.
- Every chunk fits when "" is among the separators (with other separators, a piece
  none of them can split is kept whole).
- The examples below, and `size` < 1 or empty `separators`: `ValueError` whose message
  names the argument.

Leaves out: overlap between chunks, Markdown-aware splitting, semantic chunking.

Grade it: make drill NAME=recursive-chunker
"""

from __future__ import annotations

from collections.abc import Callable

SEPARATORS: tuple[str, ...] = ("\n\n", "\n", ". ", " ", "")
"""Coarsest first: paragraph, line, sentence, word, and "" (any character)."""


def recursive_chunks(
    text: str,
    size: int,
    separators: tuple[str, ...] = SEPARATORS,
    *,
    length: Callable[[str], int] = len,
) -> list[str]:
    """The chunks of `text`, in order, each with `length(chunk) <= size`.

    Examples:
        recursive_chunks("One. Two.\\n\\nThree.", 10)
        == ["One. ", "Two.\\n\\n", "Three."]
        (the first paragraph, "One. Two.\\n\\n", has 11 characters: cut after ". ")
        recursive_chunks("abcdefg", 3) == ["abc", "def", "g"]
    """
    raise NotImplementedError("drill recursive-chunker: implement recursive_chunks")
