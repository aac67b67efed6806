"""When a failure rate seen in fewer requests than a criterion needs already proves a breach.

Too few requests keep a success rate from being *claimed* (the rule of three: 30,000 to say
"> 99.99 %"), but they can still show it is broken: 9 server errors in 1,800 requests are not
bad luck at a true rate of one in 10,000. The test is the exact one-sided binomial test — at the
limit's failure rate, how likely is it to see this many failures or more? Below ``alpha`` the rate
is below the limit at ``1 - alpha`` confidence, whatever more requests would have given.
"""

from __future__ import annotations

import math

ALPHA = 0.05


def tail_probability(failures: int, trials: int, rate: float) -> float:
    """P(X >= failures) for X ~ Binomial(trials, rate)."""
    if failures <= 0:
        return 1.0
    if failures > trials:
        return 0.0
    if rate <= 0.0:
        return 0.0
    if rate >= 1.0:
        return 1.0
    log_p, log_q = math.log(rate), math.log1p(-rate)
    # Sum whichever side is shorter, in log space so large trials do not underflow.
    def term(k: int) -> float:
        return math.exp(math.lgamma(trials + 1) - math.lgamma(k + 1) - math.lgamma(trials - k + 1)
                        + k * log_p + (trials - k) * log_q)
    if failures <= trials - failures:
        below = math.fsum(term(k) for k in range(failures))
        return max(0.0, 1.0 - below)
    return min(1.0, math.fsum(term(k) for k in range(failures, trials + 1)))


def breach_shown(failures: int, trials: int, success_limit_pct: float,
                 alpha: float = ALPHA) -> bool:
    """True when ``failures`` in ``trials`` prove the success rate is not above the limit."""
    allowed = 1.0 - success_limit_pct / 100.0
    return trials > 0 and tail_probability(failures, trials, allowed) < alpha
