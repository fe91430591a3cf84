"""Sample data shipped for `coopmail demo`."""
