"""The interview topic: the system-design calculator and worked designs (`capacity`,
`designs`, `figures`), and the question-bank page, duplicate check and self-quiz (`bank_page`,
`duplicates`, `quiz`).

Import the submodule you need (``from llmprep.interview import capacity``); this package
imports nothing itself, so loading one part never loads the others.
"""
