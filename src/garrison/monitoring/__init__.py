"""Runtime monitoring: security events from LLM apps, content detectors, rules, alerts, metrics."""
