# One image for every entrypoint: `recsys serve {gateway,retrieval,scoring,embedding}`, `recsys stream`,
# `recsys operator` and the training Job (`python -m cli.job`).
#
#   docker build -t recsys:cpu .                                  # CPU torch (small)
#   docker build -t recsys:cuda --build-arg VARIANT=cuda .        # CUDA torch, for GPU training nodes
#
# No Docker engine runs where this project is developed, so CI does not build this file; keep it
# conventional: multi-stage, pinned bases, non-root, nothing but the virtual environment in the final image.
ARG PYTHON_VERSION=3.11
ARG VARIANT=cpu

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ARG VARIANT
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/recsys
ENV PATH=/opt/recsys/bin:$PATH
# torch first, from the index that matches the variant (the CPU wheel is ~200 MB, the CUDA one ~3 GB)
RUN if [ "$VARIANT" = "cuda" ]; then \
      pip install "torch>=2.4" --index-url https://download.pytorch.org/whl/cu124; \
    else \
      pip install "torch>=2.4" --index-url https://download.pytorch.org/whl/cpu; \
    fi
WORKDIR /src
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
RUN pip install . && python -c "import cli.main, services, recsys_operator, recsys.v1, store.db"

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
