"""OCI image archives written from a directory tree, for a node that can reach no registry.

One uncompressed layer holding the tree, an image config (entrypoint, user, environment), a
manifest and an index naming the image: what `ctr images import` loads into containerd. Used for
the pod sandbox (pause) image and the base image the project's Dockerfile builds on.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

LAYER = "application/vnd.oci.image.layer.v1.tar"
CONFIG = "application/vnd.oci.image.config.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _blob(archive: tarfile.TarFile, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size, info.mtime = len(data), int(time.time())
    archive.addfile(info, io.BytesIO(data))
    return f"sha256:{digest}"


def _layer(rootfs: Path) -> bytes:
    """The tree as a tar layer, owners and modes kept, paths relative to the image root."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as layer:
        for path in sorted(rootfs.iterdir()):
            layer.add(path, arcname=path.name)
    return buffer.getvalue()


def write_image_archive(rootfs: Path, reference: str, out: Path, entrypoint: Sequence[str] = (),
                        cmd: Sequence[str] = (), user: str = "", env: Mapping[str, str] | None = None,
                        workdir: str = "/") -> Path:
    """An OCI image archive of ``rootfs`` named ``reference`` (e.g. ``registry.k8s.io/pause:3.10``)."""
    layer = _layer(rootfs)
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": list(entrypoint) or None, "Cmd": list(cmd) or None, "User": user,
                   "Env": [f"{k}={v}" for k, v in (env or {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                                                            "/usr/bin:/sbin:/bin"}).items()],
                   "WorkingDir": workdir},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer).hexdigest()}"]},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w") as archive:
        layer_digest = _blob(archive, layer)
        config_bytes = json.dumps(config).encode()
        config_digest = _blob(archive, config_bytes)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": LAYER, "digest": layer_digest, "size": len(layer)}]}).encode()
        manifest_digest = _blob(archive, manifest)
        index = json.dumps({"schemaVersion": 2, "manifests": [{
            "mediaType": MANIFEST, "digest": manifest_digest, "size": len(manifest),
            "annotations": {"io.containerd.image.name": reference,
                            "org.opencontainers.image.ref.name": reference.rsplit(":", 1)[-1]}}]}).encode()
        for name, data in (("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", index)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return out
