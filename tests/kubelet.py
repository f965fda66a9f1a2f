"""The part of a kubelet the operator tests need: no kubelet runs here, so this runs each training
Job's container command as a local process with the Job's environment and then marks the Job
Complete or Failed through the API, so the real training code and the real operator meet."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path

from kubernetes import client

REPO = Path(__file__).resolve().parents[1]


class FakeKubelet:
    def __init__(self, api: client.ApiClient, namespace: str = "default", log_dir: Path | None = None) -> None:
        self.batch = client.BatchV1Api(api)
        self.namespace = namespace
        self.log_dir = log_dir
        self.ran: list[str] = []
        self.paused = threading.Event()  # set: leave new Jobs alone (to stop the operator mid-flow)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> FakeKubelet:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(0.3):
            if self.paused.is_set():
                continue
            for job in self.batch.list_namespaced_job(self.namespace).items:
                if job.metadata.name in self.ran or job.metadata.deletion_timestamp or _finished(job):
                    continue
                self.ran.append(job.metadata.name)
                self._run(job)

    def _run(self, job: client.V1Job) -> None:
        container = job.spec.template.spec.containers[0]
        command = [sys.executable if part == "python" else part for part in container.command]
        env = {**os.environ, **{e.name: e.value for e in container.env or []}}
        started = dt.datetime.now(dt.UTC)
        log = open(self.log_dir / f"{job.metadata.name}.log", "wb") if self.log_dir else subprocess.DEVNULL
        code = subprocess.run(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, timeout=600).returncode
        finished = dt.datetime.now(dt.UTC)
        if code == 0:
            status = {"startTime": started.isoformat(), "completionTime": finished.isoformat(), "succeeded": 1,
                      "conditions": [_condition("SuccessCriteriaMet", "CompletionsReached", finished),
                                     _condition("Complete", "CompletionsReached", finished)]}
        else:
            status = {"startTime": started.isoformat(), "failed": 1,
                      "conditions": [_condition("FailureTarget", "BackoffLimitExceeded", finished),
                                     _condition("Failed", "BackoffLimitExceeded", finished,
                                                f"the training container exited with {code}")]}
        try:
            self.batch.patch_namespaced_job_status(job.metadata.name, self.namespace, {"status": status})
        except client.ApiException as exc:
            if exc.status != 404:  # deleted meanwhile (superseded): nothing to report
                raise


def _condition(kind: str, reason: str, at: dt.datetime, message: str = "") -> dict:
    return {"type": kind, "status": "True", "reason": reason, "message": message,
            "lastProbeTime": at.isoformat(), "lastTransitionTime": at.isoformat()}


def _finished(job: client.V1Job) -> bool:
    return any(c.type in ("Complete", "Failed") and c.status == "True" for c in (job.status.conditions or []))
