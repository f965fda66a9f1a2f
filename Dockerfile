# One image for every entrypoint: `recsys serve {gateway,retrieval,scoring,embedding}`, `recsys stream`,
# `recsys operator` and the training Job (`python -m cli.job`); EXTRA narrows it to one role.
#
#   docker build -t recsys:cpu .                                  # CPU torch, every entrypoint
#   docker build -t recsys:cuda --build-arg VARIANT=cuda .        # CUDA torch, for GPU training nodes
#   docker build -t recsys:serve --build-arg EXTRA=serve .        # serving + stream only (no plotting, no kopf)
#
# Versions come from requirements/<EXTRA>.lock (`make lock`); torch from the index matching VARIANT.
#
# No Docker engine runs where this project is developed, so CI does not build this file; keep it
# conventional: multi-stage, pinned bases, non-root, nothing but the virtual environment in the final image.
ARG PYTHON_VERSION=3.11
ARG VARIANT=cpu
ARG EXTRA=all

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ARG VARIANT
ARG EXTRA
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/recsys
ENV PATH=/opt/recsys/bin:$PATH
WORKDIR /src
COPY requirements ./requirements
# cuda: the lock as it is (PyPI's torch is the CUDA build, ~3 GB with its libraries); cpu: torch at
# the locked version from PyTorch's CPU index (~200 MB), then the rest without the CUDA stack
RUN if [ "$VARIANT" = "cuda" ]; then \
      pip install -r requirements/${EXTRA}.lock; \
    else \
      TORCH=$(grep -E '^torch==' requirements/${EXTRA}.lock || true); \
      if [ -n "$TORCH" ]; then pip install "$TORCH" --index-url https://download.pytorch.org/whl/cpu; fi; \
      grep -vE '^(torch|triton|nvidia-|cuda-)' requirements/${EXTRA}.lock > /tmp/rest.lock; \
      pip install -r /tmp/rest.lock; \
    fi
COPY pyproject.toml README.md ./
COPY core ./core
COPY models ./models
COPY training ./training
COPY store ./store
COPY events ./events
COPY telemetry ./telemetry
COPY services ./services
COPY stream ./stream
COPY cli ./cli
COPY operator ./operator
COPY gen ./gen
RUN pip install --no-deps . && python -c "import cli.main, recsys.v1, store.db" && recsys --version

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
# libgomp: torch's CPU kernels; tini: signals reach the process (SIGTERM drains the gRPC servers)
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 recsys \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin recsys
COPY --from=build /opt/recsys /opt/recsys
ENV PATH=/opt/recsys/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001
WORKDIR /tmp
EXPOSE 50051 50052 50053 50054 9090
ENTRYPOINT ["tini", "--", "recsys"]
CMD ["--help"]
