"""Coding drills: the starters you edit, one module per drill (the book's drills appendix).

Each module here is the task an interviewer sets, with signatures and docstrings and bodies
that raise `NotImplementedError`. Fill one in, then grade it against its tests:

    make drill NAME=sampling      # one drill
    make drill                    # every drill

The reference solutions are in `drills.solutions`; they are the tested `llmprep` code itself,
re-exported under the drill's names, so they cannot drift from what the book teaches.

This package is not part of the `llmprep` wheel: the tests and the book put `code/` on
`sys.path` to find it.
"""
