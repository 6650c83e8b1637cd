"""`sophia-mcp`: serve (stdio by default, or streamable HTTP), check, demo, index, pipeline."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from sophia_mcp import __version__
from sophia_mcp.errors import SophiaError


ENV_FILE_HELP = "read settings from this env file too (the environment wins); no env file is read unless named"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sophia-mcp", description=__doc__)
    parser.add_argument("--env-file", type=Path, help=ENV_FILE_HELP)
    # Every command takes --env-file too, before or after its name; SUPPRESS keeps a value given first.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--env-file", type=Path, default=argparse.SUPPRESS, help=ENV_FILE_HELP)
    parser.add_argument("--version", action="version", version=f"sophia-mcp {__version__}")
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", parents=[common], help="run the MCP server (default: stdio)")
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="HTTP: address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="HTTP: port to listen on")

    commands.add_parser("check", parents=[common], help="show the configuration (never a secret) and whether each backend answers")

    demo = commands.add_parser("demo", parents=[common], help="embedded Postgres + Qdrant with sample Gong data and the Airbyte simulator")
    demo.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--data-dir", type=Path, help="where the demo keeps its data (default ~/.sophia-mcp/demo)")
    demo.add_argument("--reset", action="store_true", help="delete the data folder and start over")
    demo.add_argument("--calls", type=int, default=400, help="sample calls to generate on first start")

    index = commands.add_parser("index", parents=[common], help="embed Gong calls and transcripts from Postgres into Qdrant")
    index.add_argument("--batch", type=int, default=32, help="calls per batch (progress is saved after each)")

    pipeline = commands.add_parser("pipeline", parents=[common], help="plan, apply or sync the Sophia pipeline in Airbyte")
    pipeline.add_argument("action", choices=["plan", "apply", "sync"])
    pipeline.add_argument("--name", dest="name_contains", help="sync: only connections whose name contains this")
    return parser


def _describe(error: dict) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.env_file is not None:
        # Settings read SOPHIA_ENV_FILE wherever they are built, in this process and in its children.
        os.environ["SOPHIA_ENV_FILE"] = str(args.env_file.expanduser().resolve())
    command = args.command or "serve"
    try:
        from sophia_mcp.observability.logs import configure_logging

        configure_logging()
        if command == "serve":
            from sophia_mcp.cli.serve import serve

            serve(transport=getattr(args, "transport", "stdio"), host=getattr(args, "host", "127.0.0.1"), port=getattr(args, "port", 8000))
            return 0
        if command == "check":
            from sophia_mcp.cli.check import run_check

            return run_check()
        if command == "demo":
            from sophia_mcp.cli.demo import run_demo

            return run_demo(args.transport, args.host, args.port, args.data_dir, args.reset, args.calls)
        if command == "index":
            from sophia_mcp.cli.index import run_index_command

            return run_index_command(args.batch)
        if command == "pipeline":
            from sophia_mcp.cli.pipeline import run_pipeline

            return run_pipeline(args.action, args.name_contains)
    except KeyboardInterrupt:
        return 130
    except SophiaError as exc:
        print(f"sophia-mcp: {exc}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        # Only the messages: pydantic's own text repeats the input values, secrets included.
        problems = "; ".join(_describe(error) for error in exc.errors(include_input=False, include_url=False))
        print(f"sophia-mcp: configuration error: {problems}", file=sys.stderr)
        return 2
    except ValueError as exc:
        # Settings that fail validation: say which, without a traceback.
        print(f"sophia-mcp: configuration error: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
