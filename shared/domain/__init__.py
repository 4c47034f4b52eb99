"""What every service's domain shares: typed refusals. Depends on nothing else in `shared`."""
