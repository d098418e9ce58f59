"""The Admin Center's routes, one module per area."""
