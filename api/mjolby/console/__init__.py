"""The staff console: HTML pages under /staff, one module per area."""
