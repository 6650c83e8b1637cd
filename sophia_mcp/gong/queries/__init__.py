"""One module per Gong lookup: the SQL it runs and how its rows become models."""
