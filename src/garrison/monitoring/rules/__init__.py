"""Detection rules over security events: Sigma rules, correlations and rule plugins."""
