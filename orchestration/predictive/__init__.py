"""Predictive customer value: BG/NBD (purchases, P(alive)) and Gamma-Gamma (spend), fitted by maximum likelihood."""
