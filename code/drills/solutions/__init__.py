"""The drills' reference solutions: the same public names as each starter, bound to `llmprep`.

`drills.solutions.sampling.top_k_filter` *is* `llmprep.foundations.sampling.top_k_filter`.
Where a drill's interface differs from the library's, a few lines adapt it and call the
library; nothing here is a second implementation.
"""
