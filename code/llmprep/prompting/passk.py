"""pass@k: the chance that at least one of k sampled answers passes a check.

When a program's tests, a verifier or a human can tell a right answer from a wrong one,
sampling several answers and keeping one that passes buys accuracy. pass@k measures that: for
one task with n samples of which c passed, the unbiased estimator of Chen et al. (2021) is

    pass@k = 1 - C(n - c, k) / C(n, k)

one minus the chance that k samples drawn from the n without replacement are all failures.
Plugging the pass rate into 1 - (1 - c/n)^k looks similar but is biased (it overstates pass@k
for small n). The prompting chapter uses it for code generation with tests, the agents chapter
beside pass^k (all k trials succeed), the evaluation chapter for its variance, and the
reasoning deep dive for best-of-n.

Leaves out: averaging over tasks (take the mean of the per-task values) and confidence
intervals (see `llmprep.production.evals`).
"""

from __future__ import annotations

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c passed (Chen et al., 2021).

    Computed in the paper's product form, C(n-c, k) / C(n, k) = prod over i in (n-c, n] of
    (1 - k / i), so no huge binomial coefficients appear.

    Example: pass_at_k(10, 3, 1) -> 0.3; pass_at_k(10, 3, 5) -> 1 - 21/252 = 0.917;
    pass_at_k(4, 2, 2) -> 5/6
    """
    for name, value in (("n", n), ("c", c), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an integer; got {name}={value!r}")
    if n < 1 or not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need n >= 1, 0 <= c <= n and 1 <= k <= n; got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0  # fewer than k failures: every k-subset holds a pass
    failures_only = np.prod(1.0 - k / np.arange(n - c + 1, n + 1))
    return 1.0 - float(failures_only)
