"""Intake service: receives applications from offices and ЦОН, issues talons, tracks status."""
