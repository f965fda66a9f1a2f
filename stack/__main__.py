"""`python -m stack up|down|env|status` (what `make stack-up` / `make stack-down` run).

Ports and the data directory come from the environment so several stacks can coexist:
RECSYS_STACK_DIR (default /tmp/recsys-stack; PostgreSQL's own user must be able to reach it), RECSYS_STACK_PG_PORT (55432),
RECSYS_STACK_KAFKA_PORT (19092), RECSYS_STACK_KAFKA_CONTROLLER_PORT (19093).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from stack.kafka import KafkaBroker
from stack.postgres import PostgresServer
from stack.process import StackError


def _components() -> tuple[PostgresServer, KafkaBroker, Path]:
    root = Path(os.environ.get("RECSYS_STACK_DIR", Path(tempfile.gettempdir()) / "recsys-stack"))
    pg = PostgresServer(root / "postgres", int(os.environ.get("RECSYS_STACK_PG_PORT", "55432")))
    kafka = KafkaBroker(root / "kafka", int(os.environ.get("RECSYS_STACK_KAFKA_PORT", "19092")),
                        int(os.environ.get("RECSYS_STACK_KAFKA_CONTROLLER_PORT", "19093")))
    return pg, kafka, root


def _env_lines(pg: PostgresServer, kafka: KafkaBroker) -> list[str]:
    return [f"export RECSYS_DATABASE_URL={pg.url}", f"export RECSYS_KAFKA_BOOTSTRAP={kafka.bootstrap}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "env", "status"])
    args = parser.parse_args(argv)
    pg, kafka, root = _components()
    try:
        if args.command == "up":
            print(f"starting PostgreSQL on 127.0.0.1:{pg.port} ...", file=sys.stderr, flush=True)
            pg.start()
            print(f"starting Kafka (KRaft) on {kafka.bootstrap} ...", file=sys.stderr, flush=True)
            kafka.start()
            (root / "stack.env").write_text("\n".join(_env_lines(pg, kafka)) + "\n")
            print(f"stack is up (data in {root}); connection settings, also in {root / 'stack.env'}:",
                  file=sys.stderr)
            print("\n".join(_env_lines(pg, kafka)))
        elif args.command == "down":
            kafka.stop()
            pg.stop()
            print("stack is down", file=sys.stderr)
        elif args.command == "env":
            print("\n".join(_env_lines(pg, kafka)))
        else:
            for name, part in (("postgres", pg), ("kafka", kafka)):
                print(f"{name}: {'running' if part.running() else 'stopped'}")
    except StackError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
