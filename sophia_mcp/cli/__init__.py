"""The command line: `sophia-mcp serve|check|demo|index|pipeline`."""

from sophia_mcp.cli.main import main

__all__ = ["main"]
