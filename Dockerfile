# One image for every entrypoint: `recsys serve {gateway,retrieval,scoring,embedding}`, `recsys stream`,
# `recsys operator` and the training Job (`python -m cli.job`); EXTRA narrows it to one role.
#
#   docker build -t recsys:cpu .                                  # CPU torch, every entrypoint
#   docker build -t recsys:cuda --build-arg VARIANT=cuda .        # PyPI's CUDA torch, for GPU training nodes
#   docker build -t recsys:serve --build-arg EXTRA=serve .        # serving + stream only (no plotting, no kopf)
#
# Build arguments:
#   BASE_IMAGE       a Debian bookworm image with python3 3.11 and python3-venv (python:3.11-slim-bookworm,
#                    or the debootstrap base `make image` builds where no registry is reachable)
#   PIP_INDEX_URL    the Python package index (a mirror or proxy of PyPI)
#   TORCH_INDEX_URL  where VARIANT=cpu takes torch from (PyTorch's CPU wheels, ~200 MB instead of ~3 GB)
#   WHEELS           a folder of wheels mounted into the build, used instead of any index
#                    (`make image`: `buildah bud -v ~/.cache/recsys/wheels:/wheels`)
#
# Versions come from requirements/<EXTRA>.lock (`make lock`), every transitive dependency pinned, so
# everything installs with --no-deps. Stages: deps (the runtime's system packages and user, then the
# locked virtual environment: the big layer, rebuilt only when a lock file changes), app (builds the
# project's wheel), runtime (deps plus that wheel). The runtime builds on deps rather than copying the
# environment out of it, so an unchanged lock reuses the gigabytes as they are.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS deps
# libgomp: torch's CPU kernels; tini: signals reach the process (SIGTERM drains the gRPC servers)
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 recsys \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin recsys
ARG VARIANT=cpu
ARG EXTRA=all
ARG PIP_INDEX_URL=https://pypi.org/simple
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG WHEELS=
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements/${EXTRA}.lock /tmp/deps.lock
# triton serves only torch.compile, which nothing here calls (1 GB less). cuda: torch as locked (PyPI's
# build, with its ~3 GB of CUDA libraries); cpu: the locked torch version from TORCH_INDEX_URL, without them.
RUN set -eu; \
    if [ -n "$WHEELS" ]; then export PIP_NO_INDEX=1 PIP_FIND_LINKS="$WHEELS"; fi; \
    python3 -m venv /opt/recsys; \
    pip=/opt/recsys/bin/pip; \
    torch=$(grep -E '^torch==' /tmp/deps.lock || true); \
    if [ "$VARIANT" = cuda ]; then \
      grep -vE '^triton==' /tmp/deps.lock > /tmp/install.lock; \
    else \
      grep -vE '^(torch|triton|nvidia-[a-z0-9-]+|cuda-[a-z-]+)==' /tmp/deps.lock > /tmp/install.lock; \
      if [ -n "$torch" ]; then \
        if [ -n "$WHEELS" ]; then $pip install --no-deps "$torch"; \
        else $pip install --no-deps --index-url "$TORCH_INDEX_URL" "$torch"; fi; \
      fi; \
    fi; \
    $pip install --no-deps -r /tmp/install.lock; \
    rm /tmp/deps.lock /tmp/install.lock

FROM deps AS app
ARG WHEELS=
WORKDIR /src
COPY requirements/build.lock ./requirements/
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
RUN set -eu; \
    if [ -n "$WHEELS" ]; then export PIP_NO_INDEX=1 PIP_FIND_LINKS="$WHEELS"; fi; \
    python3 -m venv /opt/build \
 && /opt/build/bin/pip install --no-deps -r requirements/build.lock \
 && /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /dist .

FROM deps AS runtime
COPY --from=app /dist /tmp/dist
RUN PIP_NO_CACHE_DIR=1 /opt/recsys/bin/pip install --no-deps /tmp/dist/*.whl \
 && rm -rf /tmp/dist \
 && /opt/recsys/bin/recsys --version
ENV PATH=/opt/recsys/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001
WORKDIR /tmp
EXPOSE 50051 50052 50053 50054 9090
ENTRYPOINT ["tini", "--", "recsys"]
CMD ["--help"]
