"""User vectors for requests: the loaded LightGCN model plus the interactions recorded since it was
trained. Transport-free: the gRPC servicer and `serve all`'s in-process gateway both call it."""

from __future__ import annotations

from core.errors import InvalidRequest, Unavailable
from core.ids import require_id
from services.common.metrics import set_model_version
from services.embedding.store import EmbeddingModel, RecentInteractions, UserVector

# A low rating says the user did not like the item: it must not pull their vector towards it.
MIN_POSITIVE_RATING = 3.0


class UserEmbeddings:
    """Users' vectors from whatever model was last loaded, updated by the interactions recorded
    since it was trained."""

    def __init__(self, recent: RecentInteractions | None = None) -> None:
        self.recent = recent or RecentInteractions()
        self._model: EmbeddingModel | None = None

    def load(self, model: EmbeddingModel) -> None:
        self._model = model
        set_model_version("embedding", model.version)

    def current(self) -> EmbeddingModel:
        if self._model is None:
            raise Unavailable("no model loaded yet; retry once the health check says SERVING")
        return self._model

    def user_state(self, user_id: str, model_version: str = "") -> tuple[EmbeddingModel, UserVector]:
        """The user's vector (trained, updated with fresh interactions, folded in, or None for a cold
        user) and the items they have."""
        model = self.current()
        require_id(user_id, "user_id")
        if model_version and model_version != model.version:
            raise InvalidRequest(f"model_version '{model_version}' is not served (serving '{model.version}')")
        return model, model.user_vector(user_id, model.indices(self.recent.get(user_id)))

    def record(self, user_id: str, items: list[str]) -> None:
        """Remember ``items`` (item ids) as the user's fresh interactions; whichever model is loaded
        when the user is next asked for maps them to its own indices."""
        if items:
            self.recent.add(user_id, items)
