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
from datetime import UTC, datetime

import grpc
import numpy as np

from core import __version__
from core.errors import InvalidRequest, NotFound, Unavailable
from core.ids import require_id
from core.traffic_split import Route, TrafficSplit
from recsys.v1 import common_pb2
from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc
from services.common.auth import metadata_value
from services.common.metrics import FALLBACKS, MODES, ROUTES, TRAFFIC_WEIGHT, labelled, set_model_version
from services.gateway.blend import reciprocal_rank_fusion
from services.gateway.catalogue import Catalogue
from services.gateway.hops import Candidates, GrpcHops, Hops
from services.gateway.query import RecommendQuery
from services.gateway.settings import GatewaySettings
from services.gateway.store_reader import StoreReader
from store.tables import ModelStage

FULL, RETRIEVAL_ORDER, POPULARITY = (common_pb2.SERVING_MODE_FULL, common_pb2.SERVING_MODE_RETRIEVAL_ORDER,
                                     common_pb2.SERVING_MODE_POPULARITY)
MODE_NAMES = {mode.number: mode.name for mode in common_pb2.ServingMode.DESCRIPTOR.values}
_NO_VECTOR = np.zeros(0, dtype=np.float32)
STAGES = {stage.value: pb.ModelStage.Value(f"MODEL_STAGE_{stage.name}") for stage in ModelStage}
REASONS = {"personal": "picked for you from your activity", "popular": "popular with shoppers"}


def _passthrough(error: grpc.aio.AioRpcError) -> None:
    """The caller's own mistakes surface as such; everything else is a backend failure."""
    if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
        raise InvalidRequest(error.details() or "invalid request")


class RecommendationServicer(pb_grpc.RecommendationServiceServicer):
    def __init__(self, settings: GatewaySettings, split: TrafficSplit, store: StoreReader | None = None) -> None:
        self.settings = settings
        self.store = store
        self._local: dict[str, Hops] = {}
        self._catalogue: Catalogue | None = None
        self._loaded_at = datetime.now(UTC)
        self._hops: dict[Route, Hops] = {}
        self.set_split(split)

    def set_split(self, split: TrafficSplit) -> None:
        """Swap the traffic split (one assignment: each request sees the old or the new one)."""
        self.split = split
        for route in split.routes:
            TRAFFIC_WEIGHT.labels(route=route.name).set(split.share(route))
        for name in {labels[0] for labels in TRAFFIC_WEIGHT._metrics} - {r.name for r in split.routes}:
            TRAFFIC_WEIGHT.remove(name)

    def _route(self, query: RecommendQuery) -> Route:
        split = self.split
        wanted = query.model
        if not wanted:
            return split.choose(query.user_id)
        route = split.by_name(wanted) or self._served_versions().get(wanted)
        if route is None:
            raise InvalidRequest(f"model version '{wanted}' is not served; serving "
                                 f"{', '.join(sorted(self._served_versions()))}")
        return route

    def _served_versions(self) -> dict[str, Route]:
        """Each route by the version it serves: a route's name is its version when the operator
        writes the split; a single unnamed route serves the version of the artifact loaded here."""
        split = self.split
        if len(split.routes) == 1 and self._catalogue is not None:
            return {self._catalogue.version: split.routes[0]}
        return {route.name: route for route in split.routes}

    def use_local_backends(self, route_name: str, hops: Hops) -> None:
        """Serve ``route_name`` with in-process backends (serve all); other routes stay on gRPC."""
        self._local[route_name] = hops

    def hops_for(self, route: Route) -> Hops:
        hops = self._local.get(route.name) or self._hops.get(route)
        if hops is None:
            hops = self._hops[route] = GrpcHops(route, self.settings.security)
        return hops

    async def close(self) -> None:
        for hops in self._hops.values():
            await hops.close()
        if self.store is not None:
            self.store.close()

    def load(self, catalogue: Catalogue) -> None:
        self._catalogue, self._loaded_at = catalogue, datetime.now(UTC)
        set_model_version("gateway", catalogue.version)

    def _current(self) -> Catalogue:
        if self._catalogue is None:
            raise Unavailable("the catalogue is not loaded yet; retry once the health check says SERVING")
        return self._catalogue

    async def Recommend(self, request: pb.RecommendRequest, context) -> pb.RecommendResponse:
        catalogue = self._current()
        query = RecommendQuery.from_request(request, self.settings.max_k)
        route = self._route(query)
        labelled(ROUTES, route.name).inc()
        hops = self.hops_for(route)
        deadline = self.settings.deadline_s
        degraded: list[str] = []
        mode = FULL

        vector, seen = _NO_VECTOR, ()
        try:
            user = await hops.user(query.user_id, deadline)
            vector, seen = user.vector, user.seen_item_ids
        except grpc.aio.AioRpcError as error:
            _passthrough(error)
            degraded.append(f"embedding: {error.code().name}")
            FALLBACKS.labels(hop="embedding").inc()
            mode = POPULARITY

        exclude = query.exclusions_with(seen)
        try:
            candidates = await hops.retrieve(query.user_id, vector, self.settings.candidates, exclude,
                                             query.item_filter, deadline)
            personal = not candidates.popularity_fallback
        except grpc.aio.AioRpcError as error:
            _passthrough(error)
            degraded.append(f"retrieval: {error.code().name}")
            FALLBACKS.labels(hop="retrieval").inc()
            mode = POPULARITY
            popular = catalogue.most_popular(self.settings.candidates, exclude, query.item_filter)
            candidates = Candidates([item for item, _ in popular], [score for _, score in popular],
                                    catalogue.version, True)
            personal = False
        version = candidates.model_version or catalogue.version

        ranked = list(zip(candidates.item_ids[: query.k], candidates.scores[: query.k]))
        if len(candidates):
            try:
                scored = await hops.score(query.user_id, candidates, deadline)
                if scored.user_known:
                    ranked = reciprocal_rank_fusion(candidates.item_ids, scored.scores, self.settings.blend_weight,
                                                    query.k)
                    personal = True
            except grpc.aio.AioRpcError as error:
                _passthrough(error)
                degraded.append(f"scoring: {error.code().name}")
                FALLBACKS.labels(hop="scoring").inc()
                if mode == FULL:
                    mode = RETRIEVAL_ORDER

        labelled(MODES, MODE_NAMES[mode]).inc()
        reason = REASONS["personal" if personal else "popular"]
        response = pb.RecommendResponse(model_version=version, mode=mode, degraded_reasons=degraded,
                                        request_id=uuid.uuid4().hex)
        add, template = response.items.add, catalogue.recommended_item
        for item, score in ranked:  # one copy of a kept item each: a quarter of building it anew
            added = add()
            added.CopyFrom(template(item, version, reason))
            added.score = float(score)
        return response

    async def GetProduct(self, request: pb.GetProductRequest, context) -> pb.GetProductResponse:
        require_id(request.item_id, "item_id")
        product = self._current().product(request.item_id)
        if product is None:
            raise NotFound(f"unknown product '{request.item_id}'")
        return pb.GetProductResponse(product=product)

    async def ListUserInteractions(self, request: pb.ListUserInteractionsRequest,
                                   context) -> pb.ListUserInteractionsResponse:
        require_id(request.user_id, "user_id")
        if self.store is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED,
                                "interaction history needs the store: set RECSYS_DATABASE_URL on the gateway")
        # an unknown user simply has no history yet
        return pb.ListUserInteractionsResponse(interactions=await self.store.recent(request.user_id, request.limit))

    async def ListModels(self, request: pb.ListModelsRequest, context) -> pb.ListModelsResponse:
        catalogue, split = self._current(), self.split
        registered = await self.store.model_versions(request.include_archived) if self.store is not None else []
        served = self._served_versions()
        models = []
        for entry in registered:
            info = pb.ModelInfo(name=entry.name, version=entry.version, type=entry.model_type, metrics=entry.metrics,
                                stage=STAGES.get(entry.stage, pb.MODEL_STAGE_UNSPECIFIED),
                                artifact_uri=entry.artifact_uri)
            info.created_at.FromDatetime(entry.created_at)
            if entry.version in served:
                info.traffic_weight = split.share(served.pop(entry.version))
            models.append(self._with_catalogue(info, catalogue))
        for version, route in served.items():  # served versions the registry does not know
            models.append(self._with_catalogue(pb.ModelInfo(name=route.name, version=version,
                                                            traffic_weight=split.share(route)), catalogue))
        return pb.ListModelsResponse(models=models)

    def _with_catalogue(self, info: pb.ModelInfo, catalogue: Catalogue) -> pb.ModelInfo:
        """What the loaded artifact says about its own version: type, metrics, times."""
        if info.version == catalogue.version:
            info.type = info.type or catalogue.model_type
            if not info.metrics:
                info.metrics.update(catalogue.metrics)
            if not info.HasField("created_at") and catalogue.created_at:
                info.created_at.FromJsonString(catalogue.created_at)
            info.loaded_at.FromDatetime(self._loaded_at)
        return info

    def _may_see_backends(self, context) -> bool:
        """Only when the gateway's operator turned it on, and then only for callers with a token
        where tokens are configured."""
        if not self.settings.system_info_backends:
            return False
        security = self.settings.security
        if not security.tokens:
            return True
        metadata = context.invocation_metadata() if hasattr(context, "invocation_metadata") else None
        return security.authorized(metadata_value(metadata, "authorization"))

    async def GetSystemInfo(self, request: pb.GetSystemInfoRequest, context) -> pb.GetSystemInfoResponse:
        catalogue = self._current()
        # the backends' addresses map the internal network: only when the operator of the gateway asks
        backends = {f"{route.name}/{hop}": getattr(route, hop) for route in self.split.routes
                    for hop in ("embedding", "retrieval", "scoring")} if self._may_see_backends(context) else {}
        return pb.GetSystemInfoResponse(version=__version__, users=catalogue.n_users, items=len(catalogue.products),
                                        backends=backends)
