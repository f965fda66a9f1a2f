"""`python -m stack up|down|env|status` (what `make stack-up` / `make stack-down` run), and
`python -m stack cluster up|down|env|status`: a real single-node Kubernetes cluster
(`make cluster-up` / `make cluster-down`; stack/cluster.py; its directory: RECSYS_CLUSTER_DIR,
default /tmp/recsys-cluster), and `python -m stack image [--extra E]`: the Dockerfile built with
buildah and loaded into that cluster when it runs (`make image`; stack/image.py), and
`python -m stack chart [DIR]`: helm/recsys-stack with its local subcharts in charts/, for installs
where the chart repositories cannot be reached (`make stack-chart`; its monitoring dependency off).

Ports and the data directory come from the environment so several stacks can coexist:
RECSYS_STACK_DIR (default /tmp/recsys-stack; PostgreSQL's own user must be able to reach it),
RECSYS_STACK_PG_PORT (55432), RECSYS_STACK_KAFKA_PORT (19092), RECSYS_STACK_KAFKA_CONTROLLER_PORT (19093),
RECSYS_STACK_KUBE_PORT (16443), RECSYS_STACK_ETCD_PORT (12379; the peer port is one above).
`up --without-kube` skips the Kubernetes API server (its first start builds it from source: minutes).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from stack.kafka import KafkaBroker
from stack.kube import KubeAPIServer
from stack.postgres import PostgresServer
from stack.process import StackError


def _kube(root: Path) -> KubeAPIServer:
    etcd = int(os.environ.get("RECSYS_STACK_ETCD_PORT", "12379"))
    return KubeAPIServer(root / "kube", int(os.environ.get("RECSYS_STACK_KUBE_PORT", "16443")), etcd, etcd + 1)


def _components() -> tuple[PostgresServer, KafkaBroker, Path]:
    root = Path(os.environ.get("RECSYS_STACK_DIR", Path(tempfile.gettempdir()) / "recsys-stack"))
    pg = PostgresServer(root / "postgres", int(os.environ.get("RECSYS_STACK_PG_PORT", "55432")))
    kafka = KafkaBroker(root / "kafka", int(os.environ.get("RECSYS_STACK_KAFKA_PORT", "19092")),
                        int(os.environ.get("RECSYS_STACK_KAFKA_CONTROLLER_PORT", "19093")))
    return pg, kafka, root


def _env_lines(pg: PostgresServer, kafka: KafkaBroker, kube: KubeAPIServer) -> list[str]:
    lines = [f"export RECSYS_DATABASE_URL={pg.url}", f"export RECSYS_KAFKA_BOOTSTRAP={kafka.bootstrap}"]
    if kube.running():
        lines.append(f"export KUBECONFIG={kube.kubeconfig}")
    return lines


def cluster_main(argv: list[str]) -> int:
    from stack.cluster import default_cluster

    parser = argparse.ArgumentParser(prog="python -m stack cluster",
                                     description="a real single-node Kubernetes cluster in a network namespace")
    parser.add_argument("command", choices=["up", "down", "env", "status"])
    args = parser.parse_args(argv)
    cluster = default_cluster()
    try:
        if args.command == "up":
            print("starting the node (binaries are built from source on first use: ~20 minutes) ...",
                  file=sys.stderr, flush=True)
            cluster.up()
            print(f"cluster is up: kubeconfig {cluster.kubeconfig}; use it with\n"
                  f"  eval \"$(python -m stack cluster env)\" && kubectl get nodes", file=sys.stderr)
            print("\n".join(cluster.env_lines()))
        elif args.command == "down":
            cluster.down()
            left = cluster.leftovers()
            print("cluster is down" + (f"; left behind: {', '.join(left)}" if left else ""), file=sys.stderr)
            return 1 if left else 0
        elif args.command == "env":
            print("\n".join(cluster.env_lines()))
        else:
            print(f"cluster: {'running' if cluster.running() else 'stopped'} ({cluster.root})")
    except StackError as exc:
        print(f"stack cluster: {exc}", file=sys.stderr)
        return 1
    return 0


def chart_main(argv: list[str]) -> int:
    from stack.helm import offline_stack_chart

    parser = argparse.ArgumentParser(prog="python -m stack chart",
                                     description="helm/recsys-stack ready to install without chart repositories")
    parser.add_argument("directory", nargs="?", default="build/charts", type=Path,
                        help="where the chart is written (default build/charts)")
    args = parser.parse_args(argv)
    try:
        chart = offline_stack_chart(args.directory)
    except StackError as exc:
        print(f"stack chart: {exc}", file=sys.stderr)
        return 1
    print(f"{chart} (kube-prometheus-stack not downloaded: install with kube-prometheus-stack.enabled=false)",
          file=sys.stderr)
    print(chart)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["cluster"]:
        return cluster_main(argv[1:])
    if argv[:1] == ["chart"]:
        return chart_main(argv[1:])
    if argv[:1] == ["image"]:
        from stack.image import main as image_main

        return image_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "env", "status", "cluster"])
    parser.add_argument("--without-kube", action="store_true", help="up: only PostgreSQL and Kafka")
    args = parser.parse_args(argv)
    pg, kafka, root = _components()
    kube = _kube(root)
    try:
        if args.command == "up":
            print(f"starting PostgreSQL on 127.0.0.1:{pg.port} ...", file=sys.stderr, flush=True)
            pg.start()
            print(f"starting Kafka (KRaft) on {kafka.bootstrap} ...", file=sys.stderr, flush=True)
            kafka.start()
            if not args.without_kube:
                print(f"starting kube-apiserver + etcd on {kube.server} (built from source on first use) ...",
                      file=sys.stderr, flush=True)
                kube.start()
            (root / "stack.env").write_text("\n".join(_env_lines(pg, kafka, kube)) + "\n")
            print(f"stack is up (data in {root}); connection settings, also in {root / 'stack.env'}:",
                  file=sys.stderr)
            print("\n".join(_env_lines(pg, kafka, kube)))
        elif args.command == "down":
            kube.stop()
            kafka.stop()
            pg.stop()
            print("stack is down", file=sys.stderr)
        elif args.command == "env":
            print("\n".join(_env_lines(pg, kafka, kube)))
        else:
            for name, part in (("postgres", pg), ("kafka", kafka), ("kube-apiserver", kube)):
                print(f"{name}: {'running' if part.running() else 'stopped'}")
    except StackError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
