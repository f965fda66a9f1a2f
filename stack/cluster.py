"""A real single-node Kubernetes cluster on this machine, inside a network namespace of its own.

Everything runs as local processes, built or installed by the stack: containerd, runc and the CNI
plugins from Debian; etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
kube-proxy and kubectl from their Go modules (stack/kube), CoreDNS from its module (stack/coredns);
the pod sandbox image from a few lines of C (stack/pause.c). No registry is reachable, so pods use
images imported into containerd (`import_image`, `imagePullPolicy: Never`).

Network: `up` creates the namespace `recsys-node` and a veth pair into it. The node's address
(10.250.0.2), the pod network (bridge cni0, 10.251.0.0/24) and the service network (10.252.0.0/24)
exist only inside it, and it has no default route, so nothing in the cluster can reach any address
outside this machine. The host reaches the API server at the node's address over the veth
(10.250.0.1 is the host's end). Every process joins the namespace's network only (nsenter --net),
so cgroups and mounts are the host's, as kubelet and runc need them.

`down` removes everything `up` made: processes (by pid file, and every container shim of this
containerd), mounts under the cluster's directory and the pods' network namespaces, the namespace
itself (its veth, bridge, iptables rules and sysctls go with it), the containers' cgroups and the
directory.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stack.coredns import coredns_binary
from stack.kube import kube_binary
from stack.oci import write_image_archive
from stack.process import StackError, alive, apt_install, read_pid, spawn, stop_process, wait_for

NETNS = "recsys-node"
HOST_IF, NODE_IF = "rsn-host", "rsn-node"
HOST_IP, NODE_IP = "10.250.0.1", "10.250.0.2"
POD_CIDR, POD_GATEWAY = "10.251.0.0/24", "10.251.0.1"
SERVICE_CIDR, DNS_IP = "10.252.0.0/24", "10.252.0.10"
NODE_NAME = "recsys-node"
ADMIN_TOKEN = "recsys-cluster-admin"  # a local throwaway cluster: not a secret
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
DEBIAN_PACKAGES = {"containerd": "containerd", "runc": "runc", "/usr/lib/cni/bridge": "containernetworking-plugins",
                   "iptables": "iptables", "conntrack": "conntrack", "gcc": "gcc"}
# start order; `down` stops them in reverse
PROCESSES = ("containerd", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet",
             "kube-proxy", "coredns")
HERE = Path(__file__).resolve().parent
# Host paths kubelet and containerd use whatever their configuration says (device plugin sockets, the
# container log links, shim sockets): `down` removes those that `up` created.
HOST_PATHS = ("/var/lib/kubelet", "/var/log/pods", "/var/log/containers", "/run/containerd")
# Which cluster directory made the namespace: written by `up`, removed by `down`. Like the namespace it
# lives in /run, so a reboot clears both; a run killed before `down` leaves both behind (see held_node).
OWNER_FILE = Path("/run") / f"{NETNS}.root"


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise StackError(f"{' '.join(argv)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result


def _in_node(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return _run("nsenter", f"--net=/run/netns/{NETNS}", "--", *argv, check=check)


@dataclass
class Cluster:
    root: Path

    # ------------------------------------------------------------------ paths

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def containerd_socket(self) -> Path:
        return self.root / "containerd" / "containerd.sock"

    def _pid_file(self, name: str) -> Path:
        return self.root / "run" / f"{name}.pid"

    def _log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True,
                timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run([str(kube_binary("kubectl")), "--kubeconfig", str(self.kubeconfig), *args],
                                input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise StackError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    # ------------------------------------------------------------------ up

    def running(self) -> bool:
        return all(read_pid(self._pid_file(name)) is not None for name in PROCESSES)

    def up(self, timeout_s: float = 180.0) -> Cluster:
        if os.geteuid() != 0:
            raise StackError("the cluster needs root (network namespace, containerd, kubelet)")
        if self.running():
            return self
        self._take_namespace()
        install_packages()
        binaries = {name: kube_binary(name) for name in ("etcd", "kube-apiserver", "kube-controller-manager",
                                                         "kube-scheduler", "kubelet", "kube-proxy", "kubectl")}
        binaries["coredns"] = coredns_binary()
        for folder in ("run", "logs", "pki", "containerd", "cni/net.d", "kubelet", "images"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        created = self.root / "run" / "created-host-paths"
        if not created.exists():
            created.write_text("\n".join(path for path in HOST_PATHS if not Path(path).exists()))
        self._network()
        self._write_config()
        self._start("containerd", ["containerd", "--config", str(self.root / "containerd" / "config.toml")])
        wait_for(self.containerd_socket.exists, 30, "containerd", self._log("containerd"))
        self.import_image(self._pause_rootfs(), PAUSE_IMAGE, entrypoint=["/pause"], user="65535:65535")
        self._control_plane(binaries, timeout_s)
        self._start("kubelet", [str(binaries["kubelet"]), "--config", str(self.root / "kubelet" / "config.yaml"),
                                "--kubeconfig", str(self.kubeconfig), "--root-dir", str(self.root / "kubelet" / "root"),
                                "--cert-dir", str(self.root / "kubelet" / "pki"),
                                "--hostname-override", NODE_NAME, "--node-ip", NODE_IP, "--v=1"])
        self._start("kube-proxy", [str(binaries["kube-proxy"]), "--config", str(self.root / "kube-proxy.yaml")])
        self._start("coredns", [str(binaries["coredns"]), "-conf", str(self.root / "Corefile")])
        self._dns_service()
        wait_for(self._node_ready, timeout_s, "the node (kubelet)", self._log("kubelet"))
        wait_for(self._default_service_account, timeout_s, "the default service account",
                 self._log("kube-controller-manager"))
        return self

    def _take_namespace(self) -> None:
        """Refuse a namespace another running node holds; clear one a killed run of another directory
        left (this directory's own leftovers are resumed: `up` restarts what is not running)."""
        held = held_node()
        if held is None or held.root == self.root:
            return
        if held.processes:
            raise StackError(f"another node ({held.root or 'directory unknown'}) runs in network namespace "
                             f"{NETNS}: stop it first (`make cluster-down` for the default one)")
        left = clear_node(held)
        if left:
            raise StackError(f"a node left by a killed run could not be cleared: {', '.join(left)}")

    def _network(self) -> None:
        OWNER_FILE.write_text(str(self.root))
        if not Path(f"/run/netns/{NETNS}").exists():
            if "/run/netns" not in _mount_points():  # `ip netns add` makes it a mount point: undone by down
                (self.root / "run" / "netns-mount-created").touch()
            _run("ip", "netns", "add", NETNS)
        if _run("ip", "link", "show", HOST_IF, check=False).returncode != 0:
            _run("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NODE_IF)
            _run("ip", "link", "set", NODE_IF, "netns", NETNS)
            _run("ip", "addr", "add", f"{HOST_IP}/30", "dev", HOST_IF)
            _run("ip", "link", "set", HOST_IF, "up")
            _in_node("ip", "addr", "add", f"{NODE_IP}/30", "dev", NODE_IF)
            _in_node("ip", "link", "set", NODE_IF, "up")
            _in_node("ip", "link", "set", "lo", "up")
            # the pod bridge exists from the start so that service addresses have a route (to it) before
            # the first pod: kube-proxy's DNAT happens after the route lookup of local connections
            _in_node("ip", "link", "add", "cni0", "type", "bridge")
            _in_node("ip", "addr", "add", f"{POD_GATEWAY}/24", "dev", "cni0")
            _in_node("ip", "link", "set", "cni0", "up")
            _in_node("ip", "route", "add", SERVICE_CIDR, "dev", "cni0")
            _in_node("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1")

    def _start(self, name: str, argv: list[str]) -> None:
        if read_pid(self._pid_file(name)) is None:
            spawn(["nsenter", f"--net=/run/netns/{NETNS}", "--", *argv], self._log(name), self._pid_file(name))

    def _control_plane(self, binaries: dict[str, Path], timeout_s: float) -> None:
        pki = self.root / "pki"
        self._start("etcd", [str(binaries["etcd"]), "--name", "node", "--data-dir", str(self.root / "etcd"),
                             "--listen-client-urls", "http://127.0.0.1:2379",
                             "--advertise-client-urls", "http://127.0.0.1:2379",
                             "--listen-peer-urls", "http://127.0.0.1:2380",
                             "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
                             "--initial-cluster", "node=http://127.0.0.1:2380", "--log-level", "warn"])
        self._start("kube-apiserver", [
            str(binaries["kube-apiserver"]), "--etcd-servers=http://127.0.0.1:2379", "--secure-port=6443",
            f"--bind-address={NODE_IP}", f"--advertise-address={NODE_IP}", f"--cert-dir={pki / 'apiserver'}",
            f"--token-auth-file={pki / 'tokens.csv'}", "--authorization-mode=RBAC",
            f"--service-cluster-ip-range={SERVICE_CIDR}", "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={pki / 'sa.pub'}", f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--kubelet-preferred-address-types=InternalIP", "--allow-privileged=true",
            "--enable-priority-and-fairness=false", "--v=0"])
        wait_for(lambda: self.kubectl("get", "--raw", "/readyz", check=False).returncode == 0, timeout_s,
                 "kube-apiserver", self._log("kube-apiserver"))
        self._start("kube-controller-manager", [
            str(binaries["kube-controller-manager"]), "--kubeconfig", str(self.kubeconfig), "--leader-elect=false",
            "--bind-address=127.0.0.1", f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'apiserver' / 'apiserver.crt'}", "--allocate-node-cidrs=false",
            # no cloud, and the pod network is the bridge's fixed range
            "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller"])
        self._start("kube-scheduler", [str(binaries["kube-scheduler"]), "--kubeconfig", str(self.kubeconfig),
                                       "--leader-elect=false", "--bind-address=127.0.0.1"])

    def _node_ready(self) -> bool:
        if read_pid(self._pid_file("kubelet")) is None:
            raise StackError(f"kubelet exited; see {self._log('kubelet')}")
        result = self.kubectl("get", "node", NODE_NAME, "-o",
                              "jsonpath={.status.conditions[?(@.type=='Ready')].status}", check=False)
        return result.stdout.strip() == "True"

    def _default_service_account(self) -> bool:
        return self.kubectl("get", "serviceaccount", "default", check=False).returncode == 0

    def _dns_service(self) -> None:
        """The kube-dns Service for CoreDNS, which runs on the node itself (its address, port 53)."""
        self.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
             "spec": {"clusterIP": DNS_IP, "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                                                     {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}},
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": {"name": "kube-dns-node", "namespace": "kube-system",
                          "labels": {"kubernetes.io/service-name": "kube-dns"}},
             "addressType": "IPv4", "endpoints": [{"addresses": [NODE_IP]}],
             "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                       {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}]}))

    # ------------------------------------------------------------------ configuration

    def _write_config(self) -> None:
        pki = self.root / "pki"
        (pki / "tokens.csv").write_text(f'{ADMIN_TOKEN},admin,admin,"system:masters"\n')
        if not (pki / "sa.key").exists():
            _run("openssl", "genrsa", "-out", str(pki / "sa.key"), "2048")
            _run("openssl", "rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))
        self.kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "recsys-node",
            "clusters": [{"name": "recsys-node",
                          "cluster": {"server": f"https://{NODE_IP}:6443", "insecure-skip-tls-verify": True}}],
            "users": [{"name": "admin", "user": {"token": ADMIN_TOKEN}}],
            "contexts": [{"name": "recsys-node",
                          "context": {"cluster": "recsys-node", "user": "admin", "namespace": "default"}}]},
            indent=1))
        containerd = self.root / "containerd"
        (containerd / "config.toml").write_text(f"""version = 2
root = "{containerd / 'root'}"
state = "{containerd / 'state'}"
[grpc]
  address = "{self.containerd_socket}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # root here lacks CAP_SYS_RESOURCE: without this every sandbox fails to start
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{containerd / 'runc'}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{self.root / 'cni' / 'net.d'}"
""")
        (self.root / "cni" / "net.d" / "10-recsys.conflist").write_text(json.dumps({
            "cniVersion": "0.4.0", "name": "recsys", "plugins": [
                {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": False, "hairpinMode": True,
                 "ipam": {"type": "host-local", "ranges": [[{"subnet": POD_CIDR, "gateway": POD_GATEWAY}]],
                          "routes": [{"dst": "0.0.0.0/0"}], "dataDir": str(self.root / "cni" / "ipam")}},
                {"type": "portmap", "capabilities": {"portMappings": True}}]}))
        kubelet = self.root / "kubelet"
        (kubelet / "resolv.conf").write_text(f"nameserver {DNS_IP}\n")
        (kubelet / "config.yaml").write_text(json.dumps({
            "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "cgroupDriver": "cgroupfs", "failSwapOn": False, "failCgroupV1": False,
            "containerRuntimeEndpoint": f"unix://{self.containerd_socket}",
            "address": NODE_IP, "readOnlyPort": 0, "healthzBindAddress": "127.0.0.1",
            # a throwaway local node: the API server's calls (logs, exec) need no client certificate
            "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
            "authorization": {"mode": "AlwaysAllow"},
            "podLogsDir": str(self.root / "logs" / "pods"),
            "clusterDomain": "cluster.local", "clusterDNS": [DNS_IP], "resolvConf": str(kubelet / "resolv.conf"),
            "cgroupsPerQOS": False, "enforceNodeAllocatable": [],
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
            # imported images cannot be pulled again: never collect them
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "serializeImagePulls": False, "maxPods": 60, "localStorageCapacityIsolation": False}))
        (self.root / "kube-proxy.yaml").write_text(json.dumps({
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
            "clientConnection": {"kubeconfig": str(self.kubeconfig)}, "mode": "iptables",
            "clusterCIDR": POD_CIDR, "hostnameOverride": NODE_NAME, "bindAddress": NODE_IP,
            "healthzBindAddress": "127.0.0.1:10256", "metricsBindAddress": "127.0.0.1:10249",
            "nodePortAddresses": [f"{NODE_IP}/32"],
            # pods share one bridge: SNAT every service connection so replies return through the node
            "iptables": {"masqueradeAll": True},
            # the namespace cannot change the host's conntrack table size
            "conntrack": {"maxPerCore": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"}}))
        (self.root / "Corefile").write_text(f"""cluster.local:53 in-addr.arpa:53 {{
    bind {NODE_IP}
    errors
    kubernetes cluster.local in-addr.arpa {{
        kubeconfig {self.kubeconfig} recsys-node
        pods insecure
    }}
    cache 5
}}
.:53 {{
    bind {NODE_IP}
    # nothing outside this machine may be asked: every other name does not exist
    template ANY ANY {{
        rcode NXDOMAIN
    }}
}}
""")

    # ------------------------------------------------------------------ images

    def _pause_rootfs(self) -> Path:
        rootfs = self.root / "images" / "pause"
        binary = rootfs / "pause"
        if not binary.exists():
            rootfs.mkdir(parents=True, exist_ok=True)
            _run("gcc", "-static", "-Os", "-o", str(binary), str(HERE / "pause.c"))
        return rootfs

    def import_image(self, rootfs: Path, reference: str, **config: object) -> None:
        """Load ``rootfs`` into the node's containerd as image ``reference``."""
        archive = write_image_archive(rootfs, reference, self.root / "images" / f"{rootfs.name}.tar",
                                      **config)  # type: ignore[arg-type]
        self.import_archive(archive)

    def import_archive(self, archive: Path) -> None:
        self._ctr("images", "import", str(archive))

    def has_image(self, reference: str) -> bool:
        return reference in self._ctr("images", "ls", "-q").stdout.split()

    def tag_image(self, source: str, target: str) -> None:
        """A second name for an imported image (no copy: the same content)."""
        self._ctr("images", "tag", "--force", source, target)

    def _ctr(self, *args: str) -> subprocess.CompletedProcess:
        return _run("ctr", "--address", str(self.containerd_socket), "-n", "k8s.io", *args)

    # ------------------------------------------------------------------ down

    def down(self) -> None:
        for name in reversed(PROCESSES[1:]):  # containerd last: its shims are stopped with the containers
            stop_process(self._pid_file(name))
        self._stop_containers()
        stop_process(self._pid_file("containerd"))
        self._unmount()
        for netns in Path("/run/netns").glob("cni-*") if Path("/run/netns").exists() else ():
            _run("ip", "netns", "delete", netns.name, check=False)
        if Path(f"/run/netns/{NETNS}").exists():
            _run("ip", "netns", "delete", NETNS, check=False)  # its veth end, bridge, rules and sysctls go too
        _run("ip", "link", "delete", HOST_IF, check=False)
        if (self.root / "run" / "netns-mount-created").exists() and not any(Path("/run/netns").iterdir()):
            _run("umount", "/run/netns", check=False)
        self._remove_cgroups()
        self._remove_host_paths()
        if self._owns_owner_file():
            OWNER_FILE.unlink()
        shutil.rmtree(self.root, ignore_errors=True)

    def _owns_owner_file(self) -> bool:
        return OWNER_FILE.exists() and OWNER_FILE.read_text().strip() == str(self.root)

    def _remove_host_paths(self) -> None:
        links = Path("/var/log/containers")
        for link in links.iterdir() if links.is_dir() else ():
            if link.is_symlink() and os.readlink(link).startswith(str(self.root)):
                link.unlink()
        created = self.root / "run" / "created-host-paths"
        for path in created.read_text().split() if created.exists() else ():
            shutil.rmtree(path, ignore_errors=True)

    def _shims(self) -> list[int]:
        """This containerd's shims (each is the parent of one pod's containers)."""
        pids = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    cmdline = (proc / "cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if cmdline and cmdline[0].endswith(b"containerd-shim-runc-v2") and \
                        str(self.containerd_socket).encode() in cmdline:
                    pids.append(int(proc.name))
        return pids

    def _stop_containers(self) -> None:
        shims = self._shims()
        for pid in shims:
            for child in _children(pid):
                _kill(child)
            _kill(pid)
        _wait_gone(shims, 30)

    def _mounts(self) -> list[str]:
        return [point for point in _mount_points() if point.startswith(str(self.root))
                or point.startswith("/run/netns/cni-") or point == f"/run/netns/{NETNS}"]

    def _unmount(self) -> None:
        for point in sorted(self._mounts(), key=len, reverse=True):  # the deepest first
            if point != f"/run/netns/{NETNS}":
                _run("umount", "-l", point, check=False)

    def _remove_cgroups(self) -> None:
        """The containers' cgroups (runc makes one per container under each controller's k8s.io)."""
        for controller in Path("/sys/fs/cgroup").iterdir():
            for group in sorted(controller.glob("k8s.io/**"), key=lambda p: len(p.parts), reverse=True):
                if group.is_dir():
                    try:
                        group.rmdir()
                    except OSError:
                        pass

    def leftovers(self) -> list[str]:
        """What `down` should have removed and is still there (empty after a clean `down`)."""
        left = [f"process {pid}" for pid in self._shims()]
        left += [f"process {name}" for name in PROCESSES if read_pid(self._pid_file(name)) is not None]
        left += [f"mount {point}" for point in self._mounts()]
        if Path(f"/run/netns/{NETNS}").exists():
            left.append(f"network namespace {NETNS}")
        if _run("ip", "link", "show", HOST_IF, check=False).returncode == 0:
            left.append(f"link {HOST_IF}")
        if self.root.exists():
            left.append(f"directory {self.root}")
        if self._owns_owner_file():
            left.append(f"file {OWNER_FILE}")
        links = Path("/var/log/containers")
        left += [f"log link {link}" for link in (links.iterdir() if links.is_dir() else ())
                 if link.is_symlink() and os.readlink(link).startswith(str(self.root))]
        return left

    def env_lines(self) -> list[str]:
        return [f"export KUBECONFIG={self.kubeconfig}", f"export PATH={kube_binary('kubectl').parent}:$PATH"]


@dataclass(frozen=True)
class HeldNode:
    """The network namespace `recsys-node` as found: the cluster directory that made it (None when
    nothing tells) and the processes still running in it (none when the run that made it was killed)."""

    root: Path | None
    processes: tuple[int, ...]


def held_node() -> HeldNode | None:
    """Who holds the node's network namespace, if it exists. Its directory comes from the owner file
    `up` writes, else from the command lines of the processes in it (containerd's configuration, a
    shim's socket, a kubeconfig), else from the mounts its containers left (for a node made before
    the owner file existed)."""
    if not Path(f"/run/netns/{NETNS}").exists():
        return None
    listed = _run("ip", "netns", "pids", NETNS, check=False).stdout.split()
    processes = tuple(int(pid) for pid in listed if pid.isdigit() and alive(int(pid)))
    root = Path(OWNER_FILE.read_text().strip()) if OWNER_FILE.exists() else None
    if root is None:
        root = next((found for pid in processes if (found := _root_in_command_line(pid)) is not None), None)
    if root is None:
        root = next((Path(point[:point.index(marker)]) for point in _mount_points()
                     for marker in ("/containerd/state/", "/kubelet/root/") if marker in point), None)
    return HeldNode(root, processes)


def _root_in_command_line(pid: int) -> Path | None:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None
    for arg in argv:
        for suffix, levels_up in (("/containerd/config.toml", 2), ("/containerd/containerd.sock", 2),
                                  ("/kubeconfig", 1)):
            if arg.endswith(suffix):
                return Path(arg).parents[levels_up - 1]
    return None


def clear_node(held: HeldNode, timeout_s: float = 30.0) -> list[str]:
    """Take down a node that a killed run left behind and return what is still there (empty when all
    went). `down` does the work, from the node's directory where known; then any process still in the
    namespace (one whose pid file went with a deleted directory) is killed."""
    cluster = Cluster(held.root if held.root is not None else Path(tempfile.mkdtemp(prefix="recsys-node-")))
    cluster.down()
    for pid in held.processes:
        _kill(pid)
    _wait_gone(held.processes, timeout_s)
    return cluster.leftovers() + [f"process {pid}" for pid in held.processes if alive(pid)]


def default_cluster() -> Cluster:
    """The cluster `make cluster-up` starts: its directory is RECSYS_CLUSTER_DIR (default /tmp/recsys-cluster)."""
    return Cluster(Path(os.environ.get("RECSYS_CLUSTER_DIR", Path(tempfile.gettempdir()) / "recsys-cluster")))


def install_packages() -> None:
    """The node's Debian packages (containerd, runc, CNI plugins, iptables...), where missing."""
    missing = sorted({package for path, package in DEBIAN_PACKAGES.items()
                      if not (Path(path).exists() if path.startswith("/") else shutil.which(path))})
    if missing:
        apt_install(*missing)


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as table:
        return [line.split()[4].replace("\\040", " ") for line in table]


def cgroups() -> set[str]:
    """The cgroup directories containers get (runc: <controller>/k8s.io/...), for leak checks."""
    return {str(path) for path in Path("/sys/fs/cgroup").glob("*/k8s.io")}


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        for task in tasks:
            for child in (task / "children").read_text().split():
                found += [*_children(int(child)), int(child)]
    except OSError:
        pass
    return found


def _wait_gone(pids: Sequence[int], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
