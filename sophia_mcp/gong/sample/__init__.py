"""Pieces of the sample data generator; `sophia_mcp.gong.sample_data` is its entry point."""
