"""Maximum-likelihood fitting shared by the models: positive parameters optimised on the log scale."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize


class ConvergenceError(RuntimeError):
    """The optimiser stopped without converging; the message says which model and why."""


@dataclass(frozen=True)
class Fit:
    """Fitted parameters with the log-likelihood they reach and how the optimiser ended."""

    params: dict[str, float]
    log_likelihood: float
    iterations: int
    converged: bool
    message: str


def fit_positive(
    model: str,
    names: tuple[str, ...],
    negative_log_likelihood: Callable[[np.ndarray], float],
    start: np.ndarray,
) -> Fit:
    """Minimise `negative_log_likelihood(params)` over positive parameters, from `start`.

    The search runs on log(params) so no bound is needed; L-BFGS-B first, then
    Nelder-Mead from its end point if it did not converge. Raises
    ConvergenceError when neither converges, rather than returning a guess.
    """
    def objective(log_params: np.ndarray) -> float:
        value = negative_log_likelihood(np.exp(log_params))
        return value if np.isfinite(value) else 1e300

    result = minimize(objective, np.log(start), method="L-BFGS-B")
    if not result.success:
        result = minimize(objective, result.x, method="Nelder-Mead",
                          options={"maxiter": 20_000, "xatol": 1e-10, "fatol": 1e-10})
    if not result.success:
        raise ConvergenceError(f"{model} did not converge after {result.nit} iterations: {result.message}")
    params = dict(zip(names, np.exp(result.x).tolist(), strict=True))
    return Fit(params, -float(result.fun), int(result.nit), bool(result.success), str(result.message))
