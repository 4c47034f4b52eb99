"""The Decision service's pure domain: case aggregate, workflow, rules engine, timers."""
