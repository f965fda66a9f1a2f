"""`recsys` command line: train, evaluate and quickstart (thin shims over the library)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from core import __version__
from core.settings import Setting, effective_environment, settings_help
from training.config import LR_SCHEDULES, MODEL_DEFAULTS, TrainConfig
from training.data.loaders import parse_column_order
from training.data.sources import DATA_FORMATS, DataSpec
from training.recency import RECENCY_SHAPES


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(x) for x in text.replace(" ", "").split(",") if x)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{text}'") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got '{text}'")
    return values


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


_DATA_HELP = """\
Your own data: CSV/TSV files with a header and Parquet files have their columns matched by name
(user/user_id/uid..., item/item_id/asin..., rating/score..., timestamp/time/ts...); name other
columns with --user-col, --item-col, --rating-col and --time-col. A CSV without a header:
--columns lists its columns left to right, e.g. --columns user,item,rating,time ('-' skips one).
With any column option, --format auto reads the file as CSV (Parquet when it ends in .parquet)."""

# --<role>-col flag -> the role name loaders use.
_COLUMN_FLAGS = {"user_col": "user", "item_col": "item", "rating_col": "rating", "time_col": "timestamp"}


def _add_data_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data", _DATA_HELP)
    group.add_argument("--data", default="synthetic", help="file, directory or NCF prefix; 'synthetic' generates one")
    group.add_argument("--format", default="auto", choices=DATA_FORMATS)
    group.add_argument("--meta", help="Amazon item metadata JSON lines (titles, categories, brands, prices)")
    for flag, what in (("user", "user ids"), ("item", "item ids"), ("rating", "ratings"),
                       ("time", "timestamps (unix seconds or milliseconds)")):
        group.add_argument(f"--{flag}-col", metavar="NAME", help=f"CSV/Parquet column holding the {what}")
    group.add_argument("--columns", metavar="ROLES",
                       help="the CSV has NO header; its columns in order from user, item, rating, time and - "
                            "(skip), e.g. user,item,rating,time (not combined with --*-col)")
    group.add_argument("--split", default="auto", choices=("auto", "loo", "temporal", "random", "given"),
                       help="auto: the files' own split when they carry one, else loo; loo: each user's latest "
                            "interaction is the test item (file order when there are no timestamps); "
                            "temporal: the latest share of all interactions (needs timestamps)")
    group.add_argument("--test-ratio", type=float, default=0.2)
    group.add_argument("--valid-ratio", type=float, default=0.1)
    group.add_argument("--no-valid", action="store_true",
                       help="no validation hold-out: train the fixed number of epochs on all training data")
    group.add_argument("--min-core", type=int, default=0, help="k-core filter users/items (0: off)")
    group.add_argument("--feedback", default="implicit", choices=("implicit", "explicit"))
    group.add_argument("--synthetic-users", type=_positive_int, default=10_000,
                       help="users to generate (training needs at least 10)")
    group.add_argument("--synthetic-items", type=_positive_int, default=5_000,
                       help="items to generate (at least 160: one per taste segment)")
    group.add_argument("--seed", type=int, default=0)


def _column_options(args: argparse.Namespace) -> tuple[dict[str, str] | None, list[str] | None]:
    """The column flags as DataSpec's column_map and column_order (None when not given)."""
    column_map = {role: getattr(args, flag) for flag, role in _COLUMN_FLAGS.items() if getattr(args, flag)}
    if args.columns and column_map:
        raise ValueError("--columns describes a file without a header, --user-col and the like name the columns "
                         "of a file with one; give one or the other")
    return column_map or None, parse_column_order(args.columns) if args.columns else None


def _data_spec(args: argparse.Namespace) -> DataSpec:
    column_map, column_order = _column_options(args)
    return DataSpec(path=args.data, format=args.format, split=args.split, test_ratio=args.test_ratio,
                    valid_ratio=args.valid_ratio, with_valid=not args.no_valid, min_core=args.min_core,
                    feedback=args.feedback, seed=args.seed, synthetic_users=args.synthetic_users,
                    synthetic_items=args.synthetic_items, meta=args.meta, column_map=column_map,
                    column_order=column_order)


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model and write an artifact directory")
    p.add_argument("--model", required=True, choices=tuple(MODEL_DEFAULTS))
    p.add_argument("--out", required=True, type=Path, help="artifact directory to write")
    _add_data_args(p)
    h = p.add_argument_group("training (unset values take the model's paper defaults)")
    h.add_argument("--epochs", type=int, default=20)
    h.add_argument("--batch-size", type=_positive_int)
    h.add_argument("--lr", type=float)
    h.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    h.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="constant",
                   help="cosine: anneal the learning rate towards 0 over --time-budget, else over --epochs")
    h.add_argument("--weight-decay", type=float, default=0.0)
    h.add_argument("--reg", type=float, help="L2 on the embeddings a batch touches (BPR, MF)")
    h.add_argument("--loss", choices=("bce", "bpr", "softmax"),
                   help="bce (NCF family), bpr (LightGCN's paper), softmax (LightGCN: sampled softmax over cosine "
                        "similarities, far fewer epochs); default: the model's paper (--feedback explicit: mse)")
    h.add_argument("--num-negatives", type=_positive_int,
                   help="sampled negatives per positive (bce), or items drawn per batch and shared by it (softmax)")
    h.add_argument("--temperature", type=float, default=0.1, help="softmax: the cosine similarities' temperature")
    h.add_argument("--hard-negatives", type=int, default=1, metavar="K",
                   help="LightGCN with bpr: draw K candidate negatives per pair and train on the one the model "
                        "scores highest (dynamic negative sampling; 1: the paper's uniform draw)")
    h.add_argument("--recency-weight", type=float, default=0.0, metavar="W",
                   help="bpr: weigh each training pair by 1 + W x its place along its user's history (0 the first, "
                        "1 the last; by timestamp, else file order), mean 1 (0: every pair alike, the paper's)")
    h.add_argument("--recency-shape", choices=RECENCY_SHAPES,
                   help="with --recency-weight W: linear (1 + W x place) or exponential (e^(W x place)), mean 1; "
                        "the best shape and W depend on the data (exponential 4 on Gowalla, 8 on Amazon Beauty, "
                        "linear 6 on Yelp2018): choose them on a hold-out (docs/training.md)")
    h.add_argument("--embedding-dim", type=_positive_int)
    h.add_argument("--layers", type=_int_list, help="MLP tower sizes, e.g. 64,32,16,8")
    h.add_argument("--n-layers", type=int, help="LightGCN propagation layers")
    h.add_argument("--dropout", type=float, default=0.0)
    h.add_argument("--pretrain", action="store_true", help="NeuMF: pre-train GMF and MLP first (the paper's scheme)")
    h.add_argument("--protocol", choices=("full", "sampled"))
    h.add_argument("--ks", type=_int_list, default=(10, 20), help="cut-offs, e.g. 10,20")
    h.add_argument("--metric", help="validation metric for early stopping, e.g. ndcg@10, recall@20, rmse")
    h.add_argument("--patience", type=_positive_int, default=5)
    h.add_argument("--eval-every", type=_positive_int, default=1)
    h.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="stop after the epoch that crosses this much training and validation time")
    h.add_argument("--precompute-candidates", type=int, default=256, metavar="N",
                   help="LightGCN: ship each user's top N items in the artifact, so that retrieval looks them "
                        "up instead of scanning the catalogue for users without new interactions (0: none)")
    h.add_argument("--recent-item-weight", type=float, default=0.0, metavar="W",
                   help="LightGCN: rank for each user with its most recent item's vector added at this weight "
                        "(relative to the user vector's length; 0: off); recent by the data's time, else row order")
    h.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    h.add_argument("--refit", action="store_true",
                   help="after measuring on the held-out parts, train again on every interaction (held-out ones "
                        "included) for the chosen number of epochs and ship that model, so it knows each user's "
                        "latest interactions; metrics.json keeps the held-out figures")
    h.add_argument("--version", help="artifact version (default: time + data fingerprint)")
    h.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=_cmd_train)


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="re-evaluate a saved artifact on its data split")
    p.add_argument("--model-dir", required=True, type=Path)
    _add_data_args(p)
    p.add_argument("--protocol", choices=("full", "sampled"))
    p.add_argument("--ks", type=_int_list)
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true", help="print metrics as JSON")
    # Unset data options fall back to what the artifact was trained on.
    p.set_defaults(handler=_cmd_evaluate, data=None, format=None)


def _add_quickstart(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quickstart", help="synthesise a catalogue, train NeuMF and LightGCN, show results")
    p.add_argument("--out", type=Path, default=Path("artifacts/quickstart"))
    p.add_argument("--users", type=_positive_int, default=6_000)
    p.add_argument("--items", type=_positive_int, default=3_000)
    p.add_argument("--epochs", type=_positive_int, default=None, help="override both models' epoch budgets")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=_cmd_quickstart)


def _serve_settings() -> dict[str, tuple[Setting, ...]]:
    from cli.settings import DEV_SETTINGS, SERVE_ALL_SETTINGS
    from services.common.settings import SETTINGS as SERVICE_SETTINGS
    from services.gateway.settings import SETTINGS as GATEWAY_SETTINGS
    from services.http.settings import SETTINGS as HTTP_SETTINGS

    return {"retrieval, scoring and embedding settings": SERVICE_SETTINGS,
            "gateway settings": GATEWAY_SETTINGS, "http (the HTTP/JSON API and web interface)": HTTP_SETTINGS,
            "serve all: besides the settings above": SERVE_ALL_SETTINGS, "development": DEV_SETTINGS}


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run a service (settings: RECSYS_* environment variables, see --help)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="\n\n".join(settings_help(title, table) for title, table in _serve_settings().items()))
    p.add_argument("service", choices=("gateway", "retrieval", "scoring", "embedding", "http", "all"),
                   help="which service to run; 'http' is the HTTP/JSON API and web interface in front of a "
                        "gateway; 'all' runs all of them in one process")
    _add_config_arg(p)
    p.set_defaults(handler=_cmd_serve)


def _add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="TOML file of RECSYS_* settings (the environment overrides it)")


def _cmd_serve(args: argparse.Namespace) -> int:
    import importlib

    from services.common.settings import ServiceSettings
    from services.gateway.settings import GatewaySettings

    known = tuple(setting for table in _serve_settings().values() for setting in table)
    env = effective_environment(args.config, known)
    if args.service == "all":
        from cli.serve_all import main as serve_all

        serve_all(env)
        return 0
    if args.service == "http":
        from services.http.main import main as serve_http
        from services.http.settings import HttpSettings

        serve_http(HttpSettings.from_env(env))
        return 0
    settings = (GatewaySettings.from_env(env) if args.service == "gateway"
                else ServiceSettings.from_env(args.service, env))
    importlib.import_module(f"services.{args.service}.main").main(settings)
    return 0


def _add_loadtest(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("loadtest", help="drive the gateway's Recommend and report throughput and latency")
    p.add_argument("--target", default="localhost:50051", help="gateway address (gRPC)")
    p.add_argument("--http", metavar="URL", help="drive POST /recommendations of the HTTP API at URL instead "
                                                 "(e.g. http://localhost:8080)")
    p.epilog = ("over TLS when RECSYS_TLS_DIR names the CA (ca.crt) and, for mutual TLS (RECSYS_MTLS=on), this "
                "client's certificate; RECSYS_AUTH_TOKENS: the token to present (the first)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--concurrency", type=_positive_int, help="callers back to back (default 16)")
    mode.add_argument("--rate", type=float, help="fixed offered rate, requests per second")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds (after --warmup)")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--users", type=_positive_int, default=100_000, help="distinct user ids to draw from")
    p.add_argument("--user-prefix", default="U")
    p.add_argument("--k", type=_positive_int, default=10)
    p.add_argument("--timeout", type=float, default=2.0, help="per-call deadline in seconds")
    p.add_argument("--connections", type=_positive_int, default=1,
                   help="HTTP/2 connections the calls share in turn, like that many clients (default 1)")
    p.add_argument("--json", type=Path, help="write the result here")
    p.set_defaults(handler=_cmd_loadtest)


def _cmd_loadtest(args: argparse.Namespace) -> int:
    import asyncio
    import os

    from cli.loadtest import run_load, write_result
    from core.security import Security

    if args.rate is not None and args.rate <= 0:
        raise ValueError(f"--rate must be positive, got {args.rate}")
    concurrency = None if args.rate is not None else (args.concurrency or 16)
    result = asyncio.run(run_load(args.http or args.target, args.duration, concurrency, args.rate, args.users,
                                  args.user_prefix, args.k, args.timeout, warmup_s=args.warmup,
                                  connections=args.connections, http=bool(args.http),
                                  security=Security.from_env(os.environ)))
    print(result.table())
    if args.json:
        write_result(result, args.json)
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from training.pipeline import train_to_artifact

    if args.recency_shape and not args.recency_weight:
        raise ValueError("--recency-shape shapes --recency-weight's weights: give --recency-weight W above 0 with it")
    config = TrainConfig(
        model=args.model, feedback=args.feedback, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        optimizer=args.optimizer, lr_schedule=args.lr_schedule, weight_decay=args.weight_decay, reg=args.reg,
        loss=args.loss, num_negatives=args.num_negatives, temperature=args.temperature,
        embedding_dim=args.embedding_dim, layers=args.layers, n_layers=args.n_layers, dropout=args.dropout,
        protocol=args.protocol, ks=args.ks, metric=args.metric, patience=args.patience,
        eval_every=args.eval_every, seed=args.seed, device=args.device, pretrain=args.pretrain,
        time_budget_s=args.time_budget, precomputed_candidates=args.precompute_candidates,
        recent_item_weight=args.recent_item_weight, hard_negatives=args.hard_negatives,
        recency_weight=args.recency_weight, recency_shape=args.recency_shape or "linear",
    )
    result = train_to_artifact(_data_spec(args), config, args.out, version=args.version, progress=not args.quiet,
                               warn=_warner(args), refit=args.refit)
    print(json.dumps(result, indent=2))
    return 0


def _warner(args: argparse.Namespace) -> Callable[[str], None]:
    return lambda message: print(f"recsys {args.command}: warning: {message}", file=sys.stderr)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from training.pipeline import evaluate_artifact

    override: dict[str, object] = {key: value for key, value in (("path", args.data), ("format", args.format))
                                   if value is not None}
    column_map, column_order = _column_options(args)
    if column_map or column_order:  # column flags given here replace the artifact's; none given keep them
        override.update(column_map=column_map, column_order=column_order)
    metrics = evaluate_artifact(args.model_dir, override, protocol=args.protocol, ks=args.ks, device=args.device,
                                warn=_warner(args))
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        width = max(len(k) for k in metrics)
        for key, value in metrics.items():
            print(f"{key:<{width}}  {value:.4f}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    return 0


def _cmd_quickstart(args: argparse.Namespace) -> int:
    from cli.quickstart import run_quickstart

    run_quickstart(args.out, n_users=args.users, n_items=args.items, epochs=args.epochs, seed=args.seed,
                   progress=not args.quiet)
    return 0


def _add_operator(sub: argparse._SubParsersAction) -> None:
    from recsys_operator.settings import SETTINGS

    p = sub.add_parser("operator", help="run the kopf operator for RecommenderModel resources (RECSYS_* settings)",
                       description="Run the kopf operator: RecommenderModel resources -> training Jobs ->\n"
                                   "offline gate -> canary -> promotion or rollback. It reaches the API server\n"
                                   "with the pod's service account, else KUBECONFIG.",
                       epilog=settings_help("operator settings", SETTINGS),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_config_arg(p)
    p.set_defaults(handler=_cmd_operator)


def _cmd_operator(args: argparse.Namespace) -> int:
    from recsys_operator.main import main as run_operator
    from recsys_operator.settings import SETTINGS, OperatorSettings

    settings = OperatorSettings.from_env(effective_environment(args.config, SETTINGS))  # SettingsError: one line

    run_operator(settings)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recsys", description="Recommendation engine: NCF and LightGCN")
    parser.add_argument("--version", action="version", version=f"recsys {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_evaluate(sub)
    _add_quickstart(sub)
    _add_serve(sub)
    _add_loadtest(sub)
    sub.add_parser("job", help="the training Job's entrypoint (settings from RECSYS_JOB_* environment variables)"
                   ).set_defaults(handler=lambda args: __import__("cli.job", fromlist=["main"]).main())
    _add_operator(sub)
    from cli.commands import register

    register(sub, _add_data_args, _data_spec, _positive_int)
    return parser


# Commands whose work runs torch kernels: their thread pool is sized from the CPUs this process has.
TORCH_COMMANDS = {"train", "evaluate", "quickstart", "job", "serve"}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in TORCH_COMMANDS and getattr(args, "service", None) not in ("http", "gateway"):
        from models.threads import configure_torch_threads

        configure_torch_threads(serving=args.command == "serve")
    if os.environ.get("RECSYS_DEV_RELOAD", "").lower() in ("1", "on", "true", "yes"):
        from cli.devreload import watch_and_reexec

        watch_and_reexec()
    try:
        code = args.handler(args)
        sys.stdout.flush()  # a reader that went away (`| head`) shows up here, not at interpreter exit
        return code
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except _USER_ERRORS as error:  # bad input: a message, not a traceback
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"recsys {args.command}: error: {message}", file=sys.stderr)
        return 2


# Mistakes in what the user asked for (values, paths, connections); anything else is a bug worth a traceback.
_USER_ERRORS = (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError, FileExistsError,
                PermissionError, KeyError, ConnectionError)


def _silence_stdout() -> None:
    """The standard BrokenPipeError handling: stdout to devnull, so the flush at exit stays quiet."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (captured in tests): nothing to flush
        pass


if __name__ == "__main__":
    sys.exit(main())
