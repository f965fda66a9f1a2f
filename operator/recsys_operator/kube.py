"""The few Kubernetes API calls the handlers make (official Python client), idempotent."""

from __future__ import annotations

from typing import Any

import kopf
from kubernetes import client
from kubernetes.client.rest import ApiException


def create_job(manifest: dict[str, Any]) -> None:
    """Create the Job; one that already exists (an operator restart mid-step) is left as it is."""
    try:
        client.BatchV1Api().create_namespaced_job(manifest["metadata"]["namespace"], manifest)
    except ApiException as exc:
        if exc.status != 409:
            raise _retryable(exc, "creating the training Job") from None


def read_job(namespace: str, name: str) -> client.V1Job | None:
    try:
        return client.BatchV1Api().read_namespaced_job(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise _retryable(exc, "reading the training Job") from None


def job_outcome(job: client.V1Job) -> tuple[str, str]:
    """("running" | "succeeded" | "failed", message) from the Job's conditions."""
    for condition in (job.status.conditions or []) if job.status else []:
        if condition.status != "True":
            continue
        if condition.type == "Complete":
            return "succeeded", condition.message or "the Job completed"
        if condition.type == "Failed":
            return "failed", f"{condition.reason or 'Failed'}: {condition.message or 'the Job failed'}"
    return "running", ""


def delete_jobs(namespace: str, selector: str, keep: str | None = None, only_running: bool = False) -> list[str]:
    """Delete this model's Jobs (and, in the background, their pods), except ``keep``; with
    ``only_running``, finished Jobs stay for people to inspect (their TTL removes them)."""
    api = client.BatchV1Api()
    deleted = []
    for job in api.list_namespaced_job(namespace, label_selector=selector).items:
        if job.metadata.name == keep or (only_running and job_outcome(job)[0] != "running"):
            continue
        try:
            api.delete_namespaced_job(job.metadata.name, namespace, propagation_policy="Background")
            deleted.append(job.metadata.name)
        except ApiException as exc:
            if exc.status != 404:
                raise _retryable(exc, f"deleting Job {job.metadata.name}") from None
    return deleted


def apply_configmap(manifest: dict[str, Any]) -> None:
    api = client.CoreV1Api()
    namespace, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
    try:
        api.replace_namespaced_config_map(name, namespace, manifest)
    except ApiException as exc:
        if exc.status != 404:
            raise _retryable(exc, f"updating ConfigMap {name}") from None
        try:
            api.create_namespaced_config_map(namespace, manifest)
        except ApiException as exc2:
            raise _retryable(exc2, f"creating ConfigMap {name}") from None


def delete_configmap(namespace: str, name: str) -> None:
    try:
        client.CoreV1Api().delete_namespaced_config_map(name, namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise _retryable(exc, f"deleting ConfigMap {name}") from None


class ApiRefused(kopf.TemporaryError):
    """The API server refused a call (403: the operator's RBAC) or failed it (5xx). Retried like any
    temporary error, and shown on the resource as its KubernetesApi condition (handlers.py)."""

    def __init__(self, message: str, reason: str, delay: float) -> None:
        super().__init__(message, delay=delay)
        self.reason = reason


def _retryable(exc: ApiException, what: str) -> kopf.TemporaryError:
    if exc.status == 403:
        return ApiRefused(f"{what} was refused: 403 Forbidden (the operator's RBAC does not allow it)",
                          "Forbidden", delay=10)
    if exc.status is not None and exc.status >= 500:
        return ApiRefused(f"{what} failed: {exc.status} {exc.reason} from the API server", "ServerError", delay=5)
    return kopf.TemporaryError(f"{what} failed: {exc.status} {exc.reason}", delay=5)
