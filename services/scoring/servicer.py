"""ScoringService: translates protobuf to :class:`Scorer` calls and back, nothing else."""

from __future__ import annotations

from recsys.v1 import scoring_service_pb2 as pb
from recsys.v1 import scoring_service_pb2_grpc as pb_grpc
from services.scoring.scorer import Scorer


class ScoringServicer(pb_grpc.ScoringServiceServicer):
    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer

    async def Score(self, request: pb.ScoreRequest, context) -> pb.ScoreResponse:
        scored = await self.scorer.score_ids(request.user_id, request.item_ids, request.model_version)
        return pb.ScoreResponse(scores=scored.scores.tolist(), model_version=scored.model_version,
                                user_known=scored.user_known)
