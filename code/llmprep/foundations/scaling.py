"""Scaling laws: how loss falls with parameters N, training tokens D and compute C.

Two papers set the vocabulary interviewers use:

- Kaplan et al. (2020), "Scaling Laws for Neural Language Models" (arXiv:2001.08361).
  Loss is a power law in each of N (non-embedding parameters), D and compute when the other
  two are not the bottleneck, e.g. L(N) = (N_c / N) ** alpha_N with alpha_N = 0.076 and
  N_c = 8.8e13 (their eq. 1.1). Their compute-optimal recipe grew N much faster than D.
- Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models" (Chinchilla,
  arXiv:2203.15556). Fitting L(N, D) = E + A / N**alpha + B / D**beta (their Approach 3, with
  E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28) is one of their three methods;
  all three say N and D should grow at about the same rate as compute grows (exponents near
  0.5 each). The popular "about 20 training tokens per parameter" is what Chinchilla itself
  used (70B parameters, 1.4T tokens) and what their first two methods give.

Caveats worth saying out loud: losses are in nats per token on each paper's own data and
tokenizer, so the two laws' absolute values are not comparable; plugging the rounded published
constants into `compute_optimal` gives far more tokens per parameter than 20 (about 90 at
Chinchilla's budget), one of the inconsistencies Besiroglu et al. (2024, arXiv:2404.10102)
found when they refit Chinchilla's data (they blame rounding and an unconverged fit). Their
refit, `BESIROGLU_2024`, gives close to 20 tokens per parameter around Chinchilla's budget
(21.6 at 1e21 FLOPs, 18.4 at 5.88e23, 17.1 at 1e25: its exponents make the ratio
drift slowly) and is the better default for a figure; `CHINCHILLA` stays the published,
rounded fit. Modern models train far past "compute-optimal" (Llama 3 8B saw about 15T tokens,
~1,900 per parameter) because a smaller model trained longer is cheaper to serve.
"""

from __future__ import annotations

from dataclasses import dataclass

PF_DAY = 1e15 * 24 * 3600  # one petaFLOP/s sustained for a day = 8.64e19 FLOPs


def _require_positive(**values: float) -> None:
    """Power laws are defined for positive sizes only: 0 divides by zero, and a negative
    number to a fractional power is complex. Fail with the name of the culprit instead."""
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")


def training_flops(n_params: float, n_tokens: float) -> float:
    """Training compute C ~ 6 N D.

    Per token and parameter: 2 FLOPs in the forward pass (a multiply and an add) and about 4
    in the backward pass (gradients for both activations and weights). Attention over the
    context adds a term that is small unless the context is long relative to d_model.

    Example: training_flops(70e9, 1.4e12) -> 5.88e23 (Chinchilla)
    """
    return 6.0 * n_params * n_tokens


# -----------------------------------------------------------------------------
# Chinchilla (Hoffmann et al., 2022)


@dataclass(frozen=True, slots=True)
class ChinchillaFit:
    """Constants of L(N, D) = E + A / N**alpha + B / D**beta."""

    E: float  # irreducible loss: the entropy of text, which no model removes
    A: float
    B: float
    alpha: float  # how fast the "model too small" term falls with N
    beta: float  # how fast the "too little data" term falls with D


# Hoffmann et al. (2022), section 3.3 (Approach 3: fitting a parametric loss function).
CHINCHILLA = ChinchillaFit(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)

# Besiroglu, Erdil, Barnett and You (2024), "Chinchilla Scaling: A replication attempt",
# arXiv:2404.10102 (Epoch AI), their refit of Approach 3 to data reconstructed from Hoffmann
# et al.'s figure 4: E = 1.8172, A = 482.01, B = 2085.43, alpha = 0.3478, beta = 0.3658
# (standard errors 0.03, 124.58, 1293.23, 0.02, 0.02). Checked 2026-12-01 against the paper's
# abstract page and two independent transcriptions of its estimates table. Unlike the rounded
# published fit, it agrees with Hoffmann et al.'s Approaches 1 and 2: compute_optimal(5.88e23,
# BESIROGLU_2024) -> 73.0B parameters, 1.34T tokens, 18.4 tokens per parameter, close to
# Chinchilla itself (70B, 1.4T, 20). With CHINCHILLA the same budget asks for 32B and 3.0T
# (93 tokens per parameter).
BESIROGLU_2024 = ChinchillaFit(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)


def chinchilla_loss(n_params: float, n_tokens: float, fit: ChinchillaFit = CHINCHILLA) -> float:
    """Predicted final training loss (nats/token) for N parameters trained on D tokens.

    Example: chinchilla_loss(70e9, 1.4e12) -> 1.94
    """
    _require_positive(n_params=n_params, n_tokens=n_tokens)
    return float(fit.E + fit.A / n_params**fit.alpha + fit.B / n_tokens**fit.beta)


@dataclass(frozen=True, slots=True)
class ComputeOptimal:
    """The best split of a compute budget between parameters and tokens."""

    flops: float
    n_params: float
    n_tokens: float
    loss: float

    @property
    def tokens_per_param(self) -> float:
        return self.n_tokens / self.n_params


def compute_optimal(flops: float, fit: ChinchillaFit = CHINCHILLA) -> ComputeOptimal:
    """Minimise L(N, D) subject to 6 N D = C, in closed form (Hoffmann et al., section 3.3):

        N_opt = G (C/6) ** a,  D_opt = (C/6) ** b / G,
        a = beta / (alpha + beta),  b = alpha / (alpha + beta),
        G = (alpha A / (beta B)) ** (1 / (alpha + beta))

    Substitute D = C / (6 N) and set dL/dN = 0: alpha A / N**alpha = beta B / D**beta, i.e.
    at the optimum the two reducible terms are in the fixed ratio beta : alpha.
    With the published constants a = 0.45 and b = 0.55: double the compute, and both N and D
    grow by about 1.4x.
    """
    _require_positive(flops=flops)
    s = fit.alpha + fit.beta
    g = (fit.alpha * fit.A / (fit.beta * fit.B)) ** (1.0 / s)
    n = g * (flops / 6.0) ** (fit.beta / s)
    d = (flops / 6.0) ** (fit.alpha / s) / g
    return ComputeOptimal(flops, n, d, chinchilla_loss(n, d, fit))


# -----------------------------------------------------------------------------
# Kaplan et al. (2020)


@dataclass(frozen=True, slots=True)
class KaplanFit:
    """Kaplan et al. (2020), eqs. 1.1-1.3: single-variable power laws (loss in nats/token)."""

    alpha_n: float = 0.076
    n_c: float = 8.8e13  # non-embedding parameters
    alpha_d: float = 0.095
    d_c: float = 5.4e13  # tokens
    alpha_c: float = 0.050
    c_c: float = 3.1e8  # PF-days (compute-efficient frontier, C_min)


KAPLAN = KaplanFit()


def kaplan_loss_n(n_params: float, fit: KaplanFit = KAPLAN) -> float:
    """L(N) = (N_c / N) ** alpha_N: loss of a model with N non-embedding parameters trained
    to convergence on enough data. Example: kaplan_loss_n(85e6) -> 2.87"""
    _require_positive(n_params=n_params)
    return float((fit.n_c / n_params) ** fit.alpha_n)


def kaplan_loss_d(n_tokens: float, fit: KaplanFit = KAPLAN) -> float:
    """L(D) = (D_c / D) ** alpha_D: a large model trained on D tokens with early stopping."""
    _require_positive(n_tokens=n_tokens)
    return float((fit.d_c / n_tokens) ** fit.alpha_d)


def kaplan_loss_nd(n_params: float, n_tokens: float, fit: KaplanFit = KAPLAN) -> float:
    """Kaplan's joint law (eq. 1.5): L(N, D) = [(N_c/N)**(alpha_N/alpha_D) + D_c/D] ** alpha_D."""
    _require_positive(n_params=n_params, n_tokens=n_tokens)
    n_term = (fit.n_c / n_params) ** (fit.alpha_n / fit.alpha_d)
    return float((n_term + fit.d_c / n_tokens) ** fit.alpha_d)


def kaplan_loss_c(flops: float, fit: KaplanFit = KAPLAN) -> float:
    """L(C_min) = (C_c / C_min) ** alpha_C with C in FLOPs (converted to PF-days)."""
    _require_positive(flops=flops)
    return float((fit.c_c / (flops / PF_DAY)) ** fit.alpha_c)
