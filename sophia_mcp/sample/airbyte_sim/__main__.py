"""`python -m sophia_mcp.sample.airbyte_sim`: serve the seeded simulator until interrupted."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from sophia_mcp.sample.airbyte_sim.config_api import config_api_url
from sophia_mcp.sample.airbyte_sim.routes import create_app, normalized_base_path
from sophia_mcp.sample.airbyte_sim.seed import seeded


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sophia_mcp.sample.airbyte_sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--base-path", default="/v1", help='"/v1" like Airbyte Cloud, "/api/public/v1" like self-managed'
    )
    parser.add_argument("--token-lifetime", type=int, default=900, help="expires_in of issued tokens, in seconds")
    args = parser.parse_args(argv)

    sim = seeded(token_lifetime=args.token_lifetime)
    base_url = f"http://{args.host}:{args.port}{normalized_base_path(args.base_path)}"
    print(
        f"Airbyte simulator at {base_url}\n"
        "Point sophia-mcp at it with:\n"
        f"  AIRBYTE_API_URL={base_url}\n"
        f"  AIRBYTE_CONFIG_API_URL={config_api_url(base_url)}\n"
        f"  AIRBYTE_CLIENT_ID={sim.client_id}\n"
        f"  AIRBYTE_CLIENT_SECRET={sim.client_secret}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(create_app(sim, args.base_path), host=args.host, port=args.port, log_level="warning", ws="none")


if __name__ == "__main__":
    main()
