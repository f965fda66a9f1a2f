"""The bottom layer every other package may use: the model artifact format, ids and catalogue
types, item filters, domain errors, the traffic-split schema and the default port table.

Nothing here imports an I/O framework (gRPC, SQLAlchemy, Kafka, kopf, torch), so the operator and
the gateway can read artifacts and splits without the training stack (a test enforces this).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("recsys-k8s")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"
