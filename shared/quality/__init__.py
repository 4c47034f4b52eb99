"""Quality indicators of the services, computed from their event logs (`qyzmet report quality`).

`facts` (what the log says), `indicators` (each indicator's exact definition, and those the log
cannot give), `computation` (pure, streaming), `targets` (the catalog's values only), `report`,
`render` / `html` (CSV, JSON, a self-contained HTML page with SVG charts), `pg_reader` and `build`
(the PostgreSQL edge).
"""
