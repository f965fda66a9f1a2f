"""`make image`: the project's Dockerfile built with buildah where no image registry is reachable.

The Dockerfile is the one a user builds with docker elsewhere; only its build arguments differ here:
- BASE_IMAGE: a Debian bookworm root file system made with `debootstrap --variant=minbase` plus
  python3, python3-venv and ca-certificates (what python:3.11-slim-bookworm gives elsewhere), with
  documentation, locales and apt's caches removed, committed once into buildah's storage.
- WHEELS: the lock file's wheels, downloaded from PyPI by the host's pip into the cache and mounted
  into the build read-only, so the build itself reaches no index. VARIANT=cuda: PyPI's only Linux
  torch is the CUDA build (PyTorch's CPU index is not reachable from these machines).
buildah keeps its storage in the cache too (`--layers`: an unchanged lock file reuses the big
dependency layer, so a code change rebuilds in seconds). The image is written once per image id as an
uncompressed docker-archive (OCI archives are always gzipped: minutes for gigabytes), which
`Cluster.import_archive` loads into the node's containerd; `make image` does that when the cluster runs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from stack.cluster import Cluster, default_cluster
from stack.kafka import KAFKA_VERSION, kafka_libs
from stack.process import CACHE_DIR, StackError, apt_install

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REPOSITORY = "recsys.local/recsys"
BASE_REFERENCE = "recsys.local/debian-python:3.11-bookworm"
BASE_REVISION = 1  # bump when base_image() changes, so the cached base is rebuilt
DEBIAN_MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
# removed from the base: nothing in the image reads them (python:*-slim drops the same)
BASE_PRUNE = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man",
              "usr/share/locale", "usr/share/info", "var/log")
EXTRAS = ("all", "serve", "train", "operator")
WHEELS_DIR = CACHE_DIR / "wheels"
ARCHIVE_DIR = CACHE_DIR / "images"
STORAGE = CACHE_DIR / "containers"


@dataclass(frozen=True)
class BuiltImage:
    reference: str  # NAME:TAG, tag = version + the image id's first 12 hex digits
    archive: Path  # docker-archive for `ctr images import`
    size_bytes: int  # the image's unpacked size
    seconds: float


def _version() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def _buildah(*args: str, capture: bool = True) -> str:
    if shutil.which("buildah") is None:
        apt_install("buildah")
    argv = ["buildah", "--root", str(STORAGE / "storage"), "--runroot", str(STORAGE / "run"), *args]
    result = subprocess.run(argv, capture_output=capture, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or "").strip()[-2000:] if capture else "see the output above"
        raise StackError(f"buildah {args[0]} failed: {detail}")
    return (result.stdout or "").strip()


def _image_id(reference: str) -> str | None:
    try:
        return _buildah("images", "--noheading", "--no-trunc", "--format", "{{.ID}}", reference) or None
    except StackError:
        return None


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def base_image() -> str:
    """The debootstrap base in buildah's storage, built on first use (about a minute)."""
    reference = f"{BASE_REFERENCE}-r{BASE_REVISION}"
    if _image_id(reference):
        return reference
    if shutil.which("debootstrap") is None:
        apt_install("debootstrap")
    _progress(f"building the base image {reference} with debootstrap (about a minute) ...")
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as scratch:
        rootfs = Path(scratch) / "rootfs"
        result = subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
                                 "bookworm", str(rootfs), DEBIAN_MIRROR], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"debootstrap failed: {result.stdout[-1500:]}{result.stderr[-1500:]}")
        for relative in BASE_PRUNE:
            target = rootfs / relative
            if target.is_dir():
                for child in target.iterdir():
                    shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        container = _buildah("from", "scratch")
        try:
            _buildah("copy", container, f"{rootfs}/", "/")
            _buildah("config", "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                     "--env", "LANG=C.UTF-8", "--cmd", "python3", container)
            _buildah("commit", "--rm", container, reference)
        except StackError:
            _buildah("rm", container)
            raise
    return reference


def download_wheels(extra: str) -> Path:
    """The lock file's wheels (and the build backend's) in the cache, fetched by the host's pip."""
    locks = [REPO / "requirements" / f"{extra}.lock", REPO / "requirements" / "build.lock"]
    digest = hashlib.sha256(b"".join(lock.read_bytes() for lock in locks)).hexdigest()[:16]
    stamp = WHEELS_DIR / f".{extra}-{digest}"
    if stamp.exists():
        return WHEELS_DIR
    WHEELS_DIR.mkdir(parents=True, exist_ok=True)
    _progress(f"downloading the wheels of requirements/{extra}.lock into {WHEELS_DIR} ...")
    for lock in locks:
        wanted = [line for line in lock.read_text().splitlines() if "==" in line and not line.startswith(("#", " "))
                  and not line.startswith("triton==")]  # the Dockerfile leaves triton out
        result = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                                 "-d", str(WHEELS_DIR), *wanted], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"downloading the wheels of {lock.name} failed: {result.stderr[-2000:]}")
    stamp.touch()
    return WHEELS_DIR


def build(extra: str = "all", variant: str = "cuda") -> BuiltImage:
    """Build the Dockerfile for ``extra`` and write its archive (reused when the image is unchanged)."""
    if extra not in EXTRAS:
        raise StackError(f"unknown image extra {extra!r}: choose one of {', '.join(EXTRAS)}")
    started = time.monotonic()
    base = base_image()
    wheels = download_wheels(extra)
    version = _version() if extra == "all" else f"{_version()}-{extra}"
    moving = f"{REPOSITORY}:{version}"
    _progress(f"building {moving} from the Dockerfile with buildah (first build: several minutes) ...")
    image_id = _bud(REPO / "Dockerfile", REPO, moving, {"BASE_IMAGE": base, "WHEELS": "/wheels", "VARIANT": variant,
                                                      "EXTRA": extra}, volumes={wheels: "/wheels"})
    reference = f"{REPOSITORY}:{version}-{image_id.removeprefix('sha256:')[:12]}"
    _buildah("tag", moving, reference)
    _forget_older_builds(version, reference, extra)
    archive = _archive(reference, image_id, f"recsys-{version}-")
    return BuiltImage(reference, archive, _unpacked_size(reference), time.monotonic() - started)


def _bud(dockerfile: Path, context: Path, tag: str, build_args: dict[str, str],
         volumes: dict[Path, str] | None = None) -> str:
    """``buildah bud`` with layer caching; the image id. chroot isolation and the host's network:
    nothing more is needed for apt-get inside the build, and no CNI configuration for buildah."""
    argv = ["bud", "--layers", "--isolation", "chroot", "--network", "host", "--tag", tag, "--file", str(dockerfile)]
    for host, inside in (volumes or {}).items():
        argv += ["--volume", f"{host}:{inside}:ro"]
    for name, value in build_args.items():
        argv += ["--build-arg", f"{name}={value}"]
    _buildah(*argv, str(context), capture=False)
    image_id = _image_id(tag)
    if image_id is None:
        raise StackError(f"buildah reported success but {tag} is not in its storage")
    return image_id


def _archive(reference: str, image_id: str, family: str) -> Path:
    """The image as an uncompressed docker-archive named ``reference``, written once per image id as
    ``<family><id>.tar``; the family's previous archive goes, since each can be gigabytes."""
    archive = ARCHIVE_DIR / f"{family}{image_id.removeprefix('sha256:')[:12]}.tar"
    if not archive.exists():
        ARCHIVE_DIR.mkdir(parents=True, exist_ok=True)
        for stale in ARCHIVE_DIR.glob(f"{family}*.tar"):
            if re.fullmatch(r"[0-9a-f]{12}\.tar", stale.name.removeprefix(family)):
                stale.unlink()
        partial = archive.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        _buildah("push", reference, f"docker-archive:{partial}:{reference}")
        partial.rename(archive)
    return archive


LOCAL_DEPS = {"postgresql": "15", "kafka": KAFKA_VERSION}


def build_local_deps() -> dict[str, BuiltImage]:
    """Stand-ins for the postgres and apache/kafka images on a one-node cluster without a registry
    (stack/images/; helm/recsys-deps/ci/node-values.yaml names them)."""
    base = base_image()
    built = {}
    for name, version in LOCAL_DEPS.items():
        started = time.monotonic()
        tag = f"recsys.local/{name}:{version}"
        _progress(f"building {tag} from stack/images/{name} with buildah ...")
        with tempfile.TemporaryDirectory(dir=CACHE_DIR) as scratch:
            context = Path(scratch) / name
            shutil.copytree(HERE / "images" / name, context)
            if name == "kafka":  # the jars the test stack fetches from Maven Central, and its log settings
                shutil.copytree(kafka_libs(), context / "libs")
                shutil.copy2(HERE / "log4j2.yaml", context / "log4j2.yaml")
            image_id = _bud(context / "Dockerfile", context, tag, {"BASE_IMAGE": base})
        # a fixed tag: the node values name it, and an import replaces the previous build
        built[name] = BuiltImage(tag, _archive(tag, image_id, f"{name}-{version}-"), _unpacked_size(tag),
                                 time.monotonic() - started)
    return built


def _forget_older_builds(version: str, reference: str, extra: str) -> None:
    """Untag this extra's earlier builds; when the dependency stage changed, also prune the images
    nothing names any more (the old multi-gigabyte environment). Otherwise the unnamed build-cache
    images stay, so rebuilding unchanged sources gives the same image id and reuses its archive."""
    earlier = re.compile(rf"{re.escape(REPOSITORY)}:{re.escape(version)}-[0-9a-f]{{12}}")
    for name in _buildah("images", "--noheading", "--format", "{{.Name}}:{{.Tag}}").splitlines():
        if earlier.fullmatch(name) and name != reference:
            _buildah("rmi", name)
    inputs = hashlib.sha256((REPO / "Dockerfile").read_bytes()
                            + (REPO / "requirements" / f"{extra}.lock").read_bytes()).hexdigest()[:16]
    stamp = STORAGE / f".deps-{extra}"
    if not stamp.exists() or stamp.read_text() != inputs:
        _buildah("rmi", "--prune")
        stamp.write_text(inputs)


def _unpacked_size(reference: str) -> int:
    listing = _buildah("images", "--noheading", "--format", "{{.Size}}", reference)
    return _parse_size(listing.splitlines()[0]) if listing else 0


def _parse_size(text: str) -> int:
    """buildah's human size ("4.41 GB", "812 MB") in bytes."""
    number, _, unit = text.strip().partition(" ")
    scale = {"B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}.get(unit.strip(), 1)
    return int(float(number) * scale)


def qualified(reference: str) -> str:
    """``reference`` as containerd names it: a name without a registry is Docker Hub's
    (``recsys:tilt-1`` -> ``docker.io/library/recsys:tilt-1``), which is how the kubelet looks it up."""
    first, _, rest = reference.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return reference
    return f"docker.io/{reference}" if rest else f"docker.io/library/{reference}"


def load_as(image: BuiltImage, reference: str, cluster: Cluster) -> None:
    """``image`` in the cluster's containerd under ``reference`` too (Tilt's $EXPECTED_REF), imported
    only when the node does not hold it yet: an unchanged build is renamed in a moment."""
    if not cluster.has_image(image.reference):
        cluster.import_archive(image.archive)
    cluster.tag_image(image.reference, qualified(reference))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack image", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extra", default=os.environ.get("EXTRA", "all"), choices=EXTRAS,
                        help="which extra the image carries (serve: serving and stream only)")
    parser.add_argument("--local-deps", action="store_true",
                        help="build the PostgreSQL and Kafka stand-in images of helm/recsys-deps/ci/node-values.yaml")
    parser.add_argument("--tilt-ref", metavar="REF",
                        help="also name the image REF in the running cluster (Tilt's custom_build sets $EXPECTED_REF)")
    args = parser.parse_args(argv)
    if args.tilt_ref and args.local_deps:
        parser.error("--tilt-ref names the project's image; it does not go with --local-deps")
    cluster = default_cluster()
    if args.tilt_ref and not cluster.running():
        print(f"stack image: --tilt-ref needs the running cluster (RECSYS_CLUSTER_DIR={cluster.root})", file=sys.stderr)
        return 1
    try:
        images = list(build_local_deps().values()) if args.local_deps else [build(args.extra)]
    except StackError as exc:
        print(f"stack image: {exc}", file=sys.stderr)
        return 1
    for image in images:
        _progress(f"{image.reference}: built in {image.seconds:.0f} s; {image.size_bytes / 1e9:.2f} GB unpacked; "
                  f"archive {image.archive}")
        if args.tilt_ref:
            load_as(image, args.tilt_ref, cluster)
            _progress(f"in the cluster's containerd as {qualified(args.tilt_ref)}")
        elif cluster.running():
            started = time.monotonic()
            cluster.import_archive(image.archive)
            _progress(f"imported into the cluster's containerd ({cluster.root}) in {time.monotonic() - started:.0f} s")
        else:
            _progress("no cluster is running (`make cluster-up`); import the archive into one with\n"
                      f"  ctr -n k8s.io images import {image.archive}")
    for image in images:
        print(f"image: {image.reference}")
    return 0
