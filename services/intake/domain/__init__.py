"""Pure intake domain: validation against the catalog, decide/evolve of an application stream."""
