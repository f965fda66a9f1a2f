"""Name -> model class, and building a model from the hyperparameters stored in an artifact."""

from __future__ import annotations

from models.base import Recommender
from models.lightgcn import LightGCN
from models.mf import MF
from models.ncf import GMF, MLP, NeuMF
from models.popularity import Popularity

MODELS: dict[str, type[Recommender]] = {
    cls.name: cls for cls in (GMF, MLP, NeuMF, MF, LightGCN, Popularity)
}


def build_model(name: str, n_users: int, n_items: int, **hyperparameters: object) -> Recommender:
    try:
        cls = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model '{name}'; choose from {', '.join(MODELS)}") from None
    return cls(n_users, n_items, **hyperparameters)
