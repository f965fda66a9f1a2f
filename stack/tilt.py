"""tilt, built from its Go module (stack/tilt/go.mod) once into the cache: to evaluate the Tiltfile
and to run `tilt ci` against the one-node cluster.

Stamped with its release version, as tilt's own release build is: an unversioned build counts as a
development build, which serves its web UI from a webpack server that `yarn` installs from tilt's
source tree. A release serves the UI compiled into the binary, which the Go module does not carry
(only tilt's release pipeline builds it with node); this build puts a one-page stand-in in its place
(see _WEB_PAGE), so the binary runs and says where the UI is. Everything else is tilt's own code.
"""

from __future__ import annotations

from pathlib import Path

from stack.gobuild import go_build, run_go
from stack.process import CACHE_DIR

HERE = Path(__file__).resolve().parent / "tilt"
TILT_VERSION = "v0.33.21"  # keep in step with tilt/go.mod
BUILD_REVISION = 2  # bump when the build changes, so a cached binary is rebuilt
_WEB_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Tilt</title></head>
<body><p>This tilt was built from its Go module without its web UI (the UI is compiled by tilt's
release pipeline). Use <code>tilt ci</code>, <code>tilt get uiresources</code> and
<code>tilt logs</code>, or install a tilt release for the UI.</p></body></html>
"""


def _embed_web_page(src: Path) -> None:
    """Vendor tilt's module tree and give its embedded asset folder the stand-in page."""
    run_go(src, "mod", "vendor", env={"GONOSUMDB": "github.com/tilt-dev"})
    build = src / "vendor" / "github.com" / "tilt-dev" / "tilt" / "pkg" / "assets" / "build"
    build.mkdir(parents=True, exist_ok=True)
    (build / "index.html").write_text(_WEB_PAGE)


def tilt_binary() -> Path:
    binary = CACHE_DIR / f"tilt-{TILT_VERSION}-{BUILD_REVISION}" / "bin" / "tilt"
    if binary.exists():
        return binary
    # its Starlark language server uses cgo; a few tilt-dev modules are served by the module proxy
    # but absent from the checksum database
    return go_build(HERE, "github.com/tilt-dev/tilt/cmd/tilt", binary,
                    ldflags=f"-s -w -X main.version={TILT_VERSION.removeprefix('v')}",
                    env={"CGO_ENABLED": "1", "GONOSUMDB": "github.com/tilt-dev", "GOFLAGS": "-mod=vendor"},
                    needs=("go", "gcc"), prepare=_embed_web_page)
