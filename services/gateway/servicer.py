"""RecommendationService: the request path embedding -> retrieval -> scoring -> blend -> top-k.

Each hop has a deadline. A failing hop degrades the answer instead of failing it, and the
response says how (``mode`` and ``degraded_reasons``):
- scoring down: candidates in retrieval order (SERVING_MODE_RETRIEVAL_ORDER);
- embedding down: the user is treated as cold, retrieval's popularity list (SERVING_MODE_POPULARITY);
- retrieval down: the gateway's own popularity list, same filters (SERVING_MODE_POPULARITY).
A backend's INVALID_ARGUMENT is the caller's fault and is passed on, not hidden by a fallback.
"""

from __future__ import annotations

import uuid

import grpc

from recsys.v1 import common_pb2
from recsys.v1 import embedding_service_pb2 as emb_pb
from recsys.v1 import embedding_service_pb2_grpc as emb_grpc
from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc
from recsys.v1 import retrieval_service_pb2 as ret_pb
from recsys.v1 import retrieval_service_pb2_grpc as ret_grpc
from recsys.v1 import scoring_service_pb2 as sc_pb
from recsys.v1 import scoring_service_pb2_grpc as sc_grpc
from services.common.errors import InvalidRequest, NotFound, Unavailable
from services.common.metrics import FALLBACKS, MODES, ROUTES, TRAFFIC_WEIGHT, set_model_version
from services.common.tracing import outgoing_metadata
from services.common.validation import require_id, require_ids
from services.gateway.blend import reciprocal_rank_fusion
from services.gateway.catalogue import Catalogue
from services.gateway.history import HistoryStore
from services.gateway.settings import GatewaySettings
from services.gateway.split import Route, TrafficSplit
from services.retrieval.index import ItemFilter

FULL, RETRIEVAL_ORDER, POPULARITY = (common_pb2.SERVING_MODE_FULL, common_pb2.SERVING_MODE_RETRIEVAL_ORDER,
                                     common_pb2.SERVING_MODE_POPULARITY)
REASONS = {"personal": "picked for you from your activity", "popular": "popular with shoppers"}


class Backends:
    """Async stubs for one route's three backends; channels open on first use, inside the event loop."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self._channels: list[grpc.aio.Channel] = []
        self.embedding: emb_grpc.EmbeddingServiceStub | None = None
        self.retrieval: ret_grpc.RetrievalServiceStub | None = None
        self.scoring: sc_grpc.ScoringServiceStub | None = None

    def open(self) -> "Backends":
        if self.embedding is None:
            channels = [grpc.aio.insecure_channel(address) for address in
                        (self.route.embedding, self.route.retrieval, self.route.scoring)]
            self._channels = channels
            self.embedding = emb_grpc.EmbeddingServiceStub(channels[0])
            self.retrieval = ret_grpc.RetrievalServiceStub(channels[1])
            self.scoring = sc_grpc.ScoringServiceStub(channels[2])
        return self

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()


def _passthrough(error: grpc.aio.AioRpcError) -> None:
    """The caller's own mistakes surface as such; everything else is a backend failure."""
    if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
        raise InvalidRequest(error.details() or "invalid request")


class RecommendationServicer(pb_grpc.RecommendationServiceServicer):
    def __init__(self, settings: GatewaySettings, split: TrafficSplit, history: HistoryStore | None = None) -> None:
        self.settings = settings
        self.history = history
        self._local: dict[str, tuple] = {}
        self._catalogue: Catalogue | None = None
        self._backends: dict[Route, Backends] = {}
        self.set_split(split)

    def set_split(self, split: TrafficSplit) -> None:
        """Swap the traffic split (one assignment: each request sees the old or the new one)."""
        self.split = split
        for route in split.routes:
            TRAFFIC_WEIGHT.labels(route=route.name).set(split.share(route))
        for name in {labels[0] for labels in TRAFFIC_WEIGHT._metrics} - {r.name for r in split.routes}:  # noqa: SLF001
            TRAFFIC_WEIGHT.remove(name)

    def _route(self, request: pb.RecommendRequest) -> Route:
        split = self.split
        wanted = request.model_version or request.model
        if not wanted:
            return split.choose(request.user_id)
        route = split.by_name(wanted)
        if route is None:
            raise InvalidRequest(f"model version '{wanted}' is not served; serving "
                                 f"{', '.join(r.name for r in split.routes)}")
        return route

    def use_local_backends(self, route_name: str, embedding, retrieval, scoring) -> None:
        """Serve ``route_name`` with in-process stubs (serve all); other routes stay on gRPC."""
        self._local[route_name] = (embedding, retrieval, scoring)

    def backends_for(self, route: Route) -> Backends:
        local = self._local.get(route.name)
        if local is not None:
            backends = self._backends.get(route)
            if backends is None:
                backends = self._backends[route] = Backends(route)
                backends.embedding, backends.retrieval, backends.scoring = local
            return backends
        if route not in self._backends:
            self._backends[route] = Backends(route)
        return self._backends[route].open()

    async def close(self) -> None:
        for backends in self._backends.values():
            await backends.close()
        if self.history is not None:
            self.history.close()

    def load(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        set_model_version("gateway", catalogue.version)

    def _current(self) -> Catalogue:
        if self._catalogue is None:
            raise Unavailable("the catalogue is not loaded yet; retry once the health check says SERVING")
        return self._catalogue

    def _validate(self, request: pb.RecommendRequest) -> ItemFilter:
        require_id(request.user_id, "user_id")
        if not 0 < request.k <= self.settings.max_k:
            raise InvalidRequest(f"k must be in 1..{self.settings.max_k}, got {request.k}")
        f = request.filters
        require_ids(f.exclude_item_ids, "filters.exclude_item_ids", 10_000, allow_empty=True)
        item_filter = ItemFilter(categories=tuple(f.categories), brands=tuple(f.brands),
                                 min_price=f.min_price if f.HasField("min_price") else None,
                                 max_price=f.max_price if f.HasField("max_price") else None)
        item_filter.validate()
        return item_filter

    async def Recommend(self, request: pb.RecommendRequest, context) -> pb.RecommendResponse:
        catalogue = self._current()
        item_filter = self._validate(request)
        route = self._route(request)
        ROUTES.labels(route=route.name).inc()
        backends = self.backends_for(route)
        deadline = self.settings.deadline_s
        degraded: list[str] = []
        mode = FULL

        vector, seen = [], []
        try:
            user = await backends.embedding.GetUserEmbedding(
                emb_pb.GetUserEmbeddingRequest(user_id=request.user_id), timeout=deadline,
                metadata=outgoing_metadata())
            vector, seen = list(user.vector), list(user.seen_item_ids)
        except grpc.aio.AioRpcError as error:
            _passthrough(error)
            degraded.append(f"embedding: {error.code().name}")
            FALLBACKS.labels(hop="embedding").inc()
            mode = POPULARITY

        exclude = seen + list(request.filters.exclude_item_ids)
        version = catalogue.version
        try:
            retrieved = await backends.retrieval.Retrieve(ret_pb.RetrieveRequest(
                user_vector=vector, num_candidates=self.settings.candidates, exclude_item_ids=exclude,
                filters=request.filters), timeout=deadline, metadata=outgoing_metadata())
            candidates = [(c.item_id, c.score) for c in retrieved.candidates]
            personal = not retrieved.popularity_fallback
            version = retrieved.model_version or version
        except grpc.aio.AioRpcError as error:
            _passthrough(error)
            degraded.append(f"retrieval: {error.code().name}")
            FALLBACKS.labels(hop="retrieval").inc()
            mode = POPULARITY
            candidates = catalogue.most_popular(self.settings.candidates, exclude, item_filter)
            personal = False

        ranked = candidates[: request.k]
        if candidates:
            try:
                scored = await backends.scoring.Score(sc_pb.ScoreRequest(
                    user_id=request.user_id, item_ids=[item for item, _ in candidates]), timeout=deadline,
                    metadata=outgoing_metadata())
                if scored.user_known:
                    ranked = reciprocal_rank_fusion([item for item, _ in candidates], list(scored.scores),
                                                    self.settings.blend_weight, request.k)
                    personal = True
            except grpc.aio.AioRpcError as error:
                _passthrough(error)
                degraded.append(f"scoring: {error.code().name}")
                FALLBACKS.labels(hop="scoring").inc()
                if mode == FULL:
                    mode = RETRIEVAL_ORDER

        MODES.labels(mode=common_pb2.ServingMode.Name(mode)).inc()
        reason = REASONS["personal" if personal else "popular"]
        items = [common_pb2.RecommendedItem(item_id=item, score=float(score), model_version=version, reason=reason,
                                            product=catalogue.product(item)) for item, score in ranked]
        return pb.RecommendResponse(items=items, model_version=version, mode=mode, degraded_reasons=degraded,
                                    request_id=uuid.uuid4().hex)

    async def GetProduct(self, request: pb.GetProductRequest, context) -> pb.GetProductResponse:
        require_id(request.item_id, "item_id")
        product = self._current().product(request.item_id)
        if product is None:
            raise NotFound(f"unknown product '{request.item_id}'")
        return pb.GetProductResponse(product=product)

    async def ListUserInteractions(self, request: pb.ListUserInteractionsRequest,
                                   context) -> pb.ListUserInteractionsResponse:
        require_id(request.user_id, "user_id")
        if self.history is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED,
                                "interaction history needs the store: set RECSYS_DATABASE_URL on the gateway")
        # an unknown user simply has no history yet
        return pb.ListUserInteractionsResponse(interactions=await self.history.recent(request.user_id, request.limit))

    async def ListModels(self, request: pb.ListModelsRequest, context) -> pb.ListModelsResponse:
        catalogue, split = self._current(), self.split
        return pb.ListModelsResponse(models=[
            pb.ModelInfo(name=route.name, version=route.name, type=catalogue.model_type,
                         metrics=catalogue.metrics if route.name == catalogue.version else {},
                         traffic_weight=split.share(route)) for route in split.routes])

    async def GetSystemInfo(self, request: pb.GetSystemInfoRequest, context) -> pb.GetSystemInfoResponse:
        from training import __version__

        catalogue = self._current()
        return pb.GetSystemInfoResponse(version=__version__, users=catalogue.n_users, items=len(catalogue.products),
                                        backends={f"{route.name}/{hop}": getattr(route, hop)
                                                  for route in self.split.routes
                                                  for hop in ("embedding", "retrieval", "scoring")})
