"""Generate the Python protobuf/gRPC modules from proto/ into a package tree (``recsys/v1``).

``--check`` generates into a temporary folder and fails, listing the files, when the committed
output differs: CI runs it so generated code never drifts from the contracts.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

REPO = Path(__file__).resolve().parents[1]
PROTO_ROOT = REPO / "proto"


def generate(out: Path) -> list[Path]:
    protos = sorted(PROTO_ROOT.rglob("*.proto"))
    out.mkdir(parents=True, exist_ok=True)
    include = Path(grpc_tools.__file__).parent / "_proto"  # google/protobuf/*.proto
    args = ["protoc", f"-I{PROTO_ROOT}", f"-I{include}", f"--python_out={out}", f"--pyi_out={out}",
            f"--grpc_python_out={out}", *(str(p.relative_to(PROTO_ROOT)) for p in protos)]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for package in {p.parent.relative_to(PROTO_ROOT) for p in protos}:
        for level in range(len(package.parts)):
            init = out.joinpath(*package.parts[: level + 1], "__init__.py")
            if not init.exists():
                init.write_text('"""Generated from proto/ by scripts/gen_proto.py; do not edit."""\n')
    return sorted(p for p in out.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="output root, e.g. gen/python")
    parser.add_argument("--check", action="store_true", help="compare with the committed output instead")
    args = parser.parse_args()
    if not args.check:
        files = generate(args.out)
        print(f"generated {len(files)} files under {args.out}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        stale = []
        for path in fresh:
            committed = args.out / path.relative_to(tmp)
            if not committed.exists() or not filecmp.cmp(path, committed, shallow=False):
                stale.append(str(committed))
        extra = [str(p) for p in args.out.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                 and not (Path(tmp) / p.relative_to(args.out)).exists()]
    if stale or extra:
        print("generated code is out of date with proto/; run `make proto` and commit:", *stale, *extra,
              sep="\n  ", file=sys.stderr)
        return 1
    print("generated code is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
