"""Pieces of the sample data generator; `sophia_mcp.sample.gong_data` is its entry point."""
