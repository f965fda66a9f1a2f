"""tilt, built from its Go module (stack/tilt/go.mod) once into the cache, to check the Tiltfile."""

from __future__ import annotations

from pathlib import Path

from stack.gobuild import go_build
from stack.process import CACHE_DIR

HERE = Path(__file__).resolve().parent / "tilt"
TILT_VERSION = "v0.33.21"  # keep in step with tilt/go.mod


def tilt_binary() -> Path:
    binary = CACHE_DIR / f"tilt-{TILT_VERSION}" / "bin" / "tilt"
    if binary.exists():
        return binary
    # its Starlark language server uses cgo; a few tilt-dev modules are served by the module proxy
    # but absent from the checksum database
    return go_build(HERE, "github.com/tilt-dev/tilt/cmd/tilt", binary, env={"CGO_ENABLED": "1",
                    "GONOSUMDB": "github.com/tilt-dev"}, needs=("go", "gcc"))
