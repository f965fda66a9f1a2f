"""EmbeddingService: user vectors (trained or folded in) and the interactions that update them."""

from __future__ import annotations

from core.errors import InvalidRequest
from core.ids import require_id
from recsys.v1 import common_pb2
from recsys.v1 import embedding_service_pb2 as pb
from recsys.v1 import embedding_service_pb2_grpc as pb_grpc
from services.embedding.store import EmbeddingModel
from services.embedding.users import MIN_POSITIVE_RATING, UserEmbeddings

MAX_INTERACTIONS_PER_CALL = 1000
MAX_USERS_PER_BATCH = 5000


class EmbeddingServicer(pb_grpc.EmbeddingServiceServicer):
    """Translates protobuf to :class:`UserEmbeddings` calls and back."""

    def __init__(self, users: UserEmbeddings) -> None:
        self.users = users

    async def GetUserEmbedding(self, request: pb.GetUserEmbeddingRequest, context) -> pb.GetUserEmbeddingResponse:
        model, user = self.users.user_state(request.user_id, request.model_version)
        return pb.GetUserEmbeddingResponse(
            vector=[] if user.vector is None else user.vector.tolist(),
            model_version=model.version,
            known=user.vector is not None,
            folded_in=user.folded_in,
            seen_item_ids=[model.item_ids[i] for i in user.seen.tolist()],
        )

    async def RecordInteractions(self, request: pb.RecordInteractionsRequest,
                                 context) -> pb.RecordInteractionsResponse:
        recorded, unknown = self._record(self.users.current(), request, "")
        return pb.RecordInteractionsResponse(recorded=recorded, unknown_item_ids=unknown)

    async def BatchRecordInteractions(self, request: pb.BatchRecordInteractionsRequest,
                                      context) -> pb.BatchRecordInteractionsResponse:
        model = self.users.current()
        if not request.users:
            raise InvalidRequest("users must not be empty")
        if len(request.users) > MAX_USERS_PER_BATCH:
            raise InvalidRequest(f"at most {MAX_USERS_PER_BATCH} users per call, got {len(request.users)}")
        # validate everything before recording anything: a bad entry rejects the call, not half of it
        checked = [self._check(model, user, f"users[{n}].") for n, user in enumerate(request.users)]
        unknown: list[str] = []
        recorded = 0
        for user, (known, missing) in zip(request.users, checked):
            self.users.record(user.user_id, known)
            recorded += len(known)
            unknown.extend(missing)
        return pb.BatchRecordInteractionsResponse(recorded=recorded, unknown_item_ids=unknown)

    def _record(self, model: EmbeddingModel, request: pb.RecordInteractionsRequest,
                prefix: str) -> tuple[int, list[str]]:
        known, unknown = self._check(model, request, prefix)
        self.users.record(request.user_id, known)
        return len(known), unknown

    @staticmethod
    def _check(model: EmbeddingModel, request: pb.RecordInteractionsRequest,
               prefix: str) -> tuple[list[str], list[str]]:
        require_id(request.user_id, f"{prefix}user_id")
        if not request.interactions:
            raise InvalidRequest(f"{prefix}interactions must not be empty")
        if len(request.interactions) > MAX_INTERACTIONS_PER_CALL:
            raise InvalidRequest(f"at most {MAX_INTERACTIONS_PER_CALL} interactions per call, "
                                 f"got {len(request.interactions)}")
        known, unknown = [], []
        for position, interaction in enumerate(request.interactions):
            require_id(interaction.item_id, f"{prefix}interactions[{position}].item_id")
            if interaction.type == common_pb2.INTERACTION_TYPE_UNSPECIFIED:
                raise InvalidRequest(f"{prefix}interactions[{position}].type must be set (view, click, add_to_cart, "
                                     "purchase or rating)")
            item = model.item_index.get(interaction.item_id)
            if item is None:
                unknown.append(interaction.item_id)
            elif not (interaction.type == common_pb2.INTERACTION_TYPE_RATING
                      and interaction.value < MIN_POSITIVE_RATING):
                known.append(model.item_ids[item])  # the model's own string: 8 bytes remembered, not a copy
        return known, unknown
