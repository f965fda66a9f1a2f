"""ghz, the gRPC load generator, built from its Go module with the machine's Go (once, into the
cache): an independent client for the gRPC benchmark. Its proto parser refuses proto3 `optional`,
so it is given a descriptor set compiled by grpc_tools.protoc instead of the .proto files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stack.gobuild import go_tool
from stack.process import StackError

GHZ_VERSION = "v0.120.0"
REPO = Path(__file__).resolve().parents[1]


def ghz_binary() -> Path:
    return go_tool("ghz", "github.com/bojand/ghz/cmd/ghz", GHZ_VERSION)


def descriptor_set(output: Path, proto: str = "recsys/v1/recommendation_service.proto") -> Path:
    """``proto`` and everything it imports, compiled into one FileDescriptorSet at ``output``."""
    result = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{REPO / 'proto'}", "--include_imports",
                             f"--descriptor_set_out={output}", proto], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"protoc --descriptor_set_out failed:\n{result.stderr[-2000:]}")
    return output
