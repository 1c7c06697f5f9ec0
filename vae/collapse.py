"""Posterior collapse, counted: which latent units carry information about x (no torch: pages read it).

A unit i is active when its KL to the prior, averaged over the data, E_x KL(q(zᵢ|x) ‖ p(zᵢ)), exceeds
ACTIVE_THRESHOLD; the others have collapsed onto p(zᵢ) = N(0, 1) and say nothing about x.
"""
ACTIVE_THRESHOLD = 0.01  # nats: a latent dimension with less KL to the prior than this carries no information


def active_units(kl_per_dim, threshold: float = ACTIVE_THRESHOLD) -> int:
    """How many latent dimensions are active: those whose mean KL(q(zᵢ|x) ‖ p(zᵢ)) exceeds `threshold` nats."""
    return sum(float(k) > threshold for k in kl_per_dim)
