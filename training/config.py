"""Training configuration: one typed object, with per-model defaults from the papers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from training.recency import RECENCY_SHAPES

# The papers' own settings (NCF official code; LightGCN paper). Unset fields take these.
MODEL_DEFAULTS: dict[str, dict[str, object]] = {
    "gmf": {"embedding_dim": 32, "batch_size": 256, "lr": 0.001, "num_negatives": 4, "loss": "bce",
            "protocol": "sampled", "metric": "ndcg@10"},
    "mlp": {"layers": (64, 32, 16, 8), "batch_size": 256, "lr": 0.001, "num_negatives": 4, "loss": "bce",
            "protocol": "sampled", "metric": "ndcg@10"},
    "neumf": {"embedding_dim": 32, "layers": (64, 32, 16, 8), "batch_size": 256, "lr": 0.001,
              "num_negatives": 4, "loss": "bce", "protocol": "sampled", "metric": "ndcg@10"},
    "mf": {"embedding_dim": 64, "batch_size": 256, "lr": 0.001, "num_negatives": 4, "loss": "bce",
           "protocol": "sampled", "metric": "ndcg@10"},
    "lightgcn": {"embedding_dim": 64, "n_layers": 3, "batch_size": 2048, "lr": 0.001, "reg": 1e-4,
                 "loss": "bpr", "protocol": "full", "metric": "recall@20"},
    "pop": {"epochs": 0, "protocol": "full", "metric": "recall@20"},
}

# What each evaluation reports, hence what early stopping may watch (training.evaluation).
FULL_RANKING_METRICS = ("ndcg", "recall", "precision", "hr", "map", "mrr", "coverage")
SAMPLED_RANKING_METRICS = ("ndcg", "hr", "mrr")  # one positive among sampled negatives: no recall/precision
RATING_METRICS = ("rmse", "mae")
LR_SCHEDULES = ("constant", "cosine")
LOSSES = ("bce", "bpr", "softmax", "mse")
SOFTMAX_NEGATIVES = 1024  # items drawn once per batch for the sampled softmax


def check_device(name: str) -> None:
    """Refuse a device this machine cannot use, before any data is loaded."""
    import torch  # here, not at module level: configs are built where torch is not needed

    if name == "auto":
        return
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ValueError(f"unknown device '{name}'; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            why = "this PyTorch build has no CUDA support" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise ValueError(f"CUDA is not available here ({why}); use --device cpu or --device auto")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ValueError(f"device '{name}' does not exist: {count} CUDA device(s) here, cuda:0 to cuda:{count - 1}")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("MPS is not available here; use --device cpu or --device auto")


@dataclass
class TrainConfig:
    model: str = "neumf"
    feedback: str = "implicit"  # implicit (ranking) or explicit (rating regression)
    epochs: int = 20
    batch_size: int | None = None
    lr: float | None = None
    optimizer: str = "adam"
    # constant, or cosine: annealed towards 0 over the time budget when one is set, else over the epochs
    lr_schedule: str = "constant"
    weight_decay: float = 0.0
    reg: float | None = None  # per-batch L2 on touched embeddings (BPR / rating losses)
    loss: str | None = None  # bce | bpr | softmax | mse
    num_negatives: int | None = None  # per pair (bce); shared by each batch (softmax)
    temperature: float = 0.1  # softmax: cosine similarities are divided by this
    # bpr: candidates drawn per pair, the one the model scores highest trains (1: uniform, the paper's)
    hard_negatives: int = 1
    hard_negative_rank: int = 1  # bpr with hard negatives: train on the N-th highest-scored candidate
    # bpr with hard negatives: synthesise the negative from the candidates and the positive, layer by
    # layer (MixGCF) instead of training on the hardest candidate
    hard_negative_mixing: bool = False
    # bpr with hard negatives: the share of the training (of the time budget, else of the epochs) that
    # draws them; the uniform draw after it (on Gowalla a third of 15 minutes trained worse than 5
    # minutes of hard negatives alone: docs/benchmarks.md)
    hard_negatives_share: float = 1.0
    # bpr: weigh each pair by 1 + w * its place along the user's history (0 first, 1 last; by
    # timestamp, else row order), mean 1 (training/recency.py); 0: every pair alike, the paper's
    recency_weight: float = 0.0
    recency_shape: str = "linear"  # or exponential: each pair weighted exp(w * its place), mean 1
    embedding_dim: int | None = None
    layers: tuple[int, ...] | None = None
    n_layers: int | None = None
    dropout: float = 0.0
    protocol: str | None = None  # full | sampled
    ks: tuple[int, ...] = (10, 20)
    metric: str | None = None  # early-stopping metric on the validation set
    patience: int = 5
    eval_every: int = 1
    seed: int = 0
    device: str = "auto"
    eval_batch_users: int = 1024
    time_budget_s: float | None = None  # stop after the epoch that crosses this much training + validation time
    pretrain: bool = False  # NeuMF: train GMF and MLP first and start from them (the paper's scheme)
    pretrain_alpha: float = 0.5
    pretrain_optimizer: str = "sgd"
    # LightGCN: start from the interaction matrix's top singular vectors times this scale (0: random)
    svd_init_scale: float = 0.0
    # LightGCN: each user's top items shipped in the artifact for retrieval to look up (0: none)
    precomputed_candidates: int = 256
    # LightGCN: blend each user's most recent training item into its query at this weight
    # (core/recent_item.py; 0: the plain user vector); the order is the data's time or row order
    recent_item_weight: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    def resolved(self) -> TrainConfig:
        """A copy with per-model defaults filled in and explicit-feedback defaults applied."""
        values = asdict(self)
        for key, value in MODEL_DEFAULTS.get(self.model, {}).items():
            if key == "epochs" or values.get(key) is None:
                values[key] = value
        if self.feedback == "explicit":
            values["loss"] = "mse"
            values["metric"] = "rmse" if self.metric is None else self.metric
        values["reg"] = 0.0 if values["reg"] is None else values["reg"]
        if values["num_negatives"] is None:
            values["num_negatives"] = SOFTMAX_NEGATIVES if values["loss"] == "softmax" else 4
        values["ks"] = tuple(values["ks"])
        if values["layers"] is not None:
            values["layers"] = tuple(values["layers"])
        config = TrainConfig(**values)
        config.validate()
        return config

    def validate(self) -> None:
        if self.feedback not in ("implicit", "explicit"):
            raise ValueError(f"feedback must be implicit or explicit, got '{self.feedback}'")
        if self.protocol not in ("full", "sampled"):
            raise ValueError(f"protocol must be full or sampled, got '{self.protocol}'")
        if self.model != "pop" and self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got '{self.loss}'")
        if self.loss == "softmax" and self.model != "lightgcn":
            raise ValueError(f"the softmax loss trains lightgcn (cosine similarities); model '{self.model}' "
                             "takes bce or bpr")
        if self.loss == "softmax" and (self.temperature <= 0 or (self.num_negatives or 0) <= 0):
            raise ValueError("the softmax loss needs a temperature > 0 and at least one negative")
        if self.epochs < 0 or (self.batch_size or 1) <= 0 or (self.lr or 1) <= 0:
            raise ValueError("epochs must be >= 0, batch size and learning rate > 0")
        if self.svd_init_scale < 0:
            raise ValueError(f"the SVD initialisation's scale must be >= 0, got {self.svd_init_scale}")
        if self.hard_negatives < 1:
            raise ValueError(f"hard negatives count the candidates drawn per pair: >= 1, got {self.hard_negatives}")
        if not 1 <= self.hard_negative_rank <= self.hard_negatives:
            raise ValueError(f"the hard negative's rank picks one of the {self.hard_negatives} candidates by score: "
                             f"1..{self.hard_negatives}, got {self.hard_negative_rank}")
        if self.hard_negative_mixing and (self.hard_negatives < 2 or self.hard_negative_rank != 1):
            raise ValueError("mixing hard negatives (MixGCF) needs at least 2 candidates per pair and the "
                             f"hardest at each layer (rank 1), got {self.hard_negatives} and rank "
                             f"{self.hard_negative_rank}")
        if not 0 < self.hard_negatives_share <= 1:
            raise ValueError(f"the share of the training on hard negatives is in (0, 1], "
                             f"got {self.hard_negatives_share}")
        if self.hard_negatives > 1 and (self.model != "lightgcn" or self.loss != "bpr"):
            raise ValueError(f"hard negatives pick BPR's negative for lightgcn; model '{self.model}' with loss "
                             f"'{self.loss}' takes --hard-negatives 1")
        if self.recency_weight < 0:
            raise ValueError(f"the recency weight must be >= 0, got {self.recency_weight}")
        if self.recency_weight and self.loss != "bpr":
            raise ValueError(f"the recency weight weighs BPR's pairs; loss '{self.loss}' takes 0")
        if self.recency_shape not in RECENCY_SHAPES:
            raise ValueError(f"the recency shape must be one of {', '.join(RECENCY_SHAPES)}, "
                             f"got '{self.recency_shape}'")
        if self.recent_item_weight < 0:
            raise ValueError(f"the recent-item weight must be >= 0, got {self.recent_item_weight}")
        if self.recent_item_weight and self.model != "lightgcn":
            raise ValueError(f"the recent-item weight applies to lightgcn's query vectors, not to '{self.model}'")
        if self.precomputed_candidates < 0:
            raise ValueError(f"precomputed candidates must be >= 0, got {self.precomputed_candidates}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be adam or sgd, got '{self.optimizer}'")
        if self.lr_schedule not in LR_SCHEDULES:
            choices = ", ".join(LR_SCHEDULES)
            raise ValueError(f"learning-rate schedule must be one of {choices}, got '{self.lr_schedule}'")
        if self.feedback == "explicit" and self.model in ("lightgcn", "pop"):
            raise ValueError(f"model '{self.model}' ranks items; explicit feedback needs gmf, mlp, neumf or mf")

    def metric_choices(self) -> tuple[str, ...]:
        """The metrics evaluation reports under this feedback, protocol and ``ks`` (resolved configs)."""
        if self.feedback == "explicit":
            return RATING_METRICS
        names = SAMPLED_RANKING_METRICS if self.protocol == "sampled" else FULL_RANKING_METRICS
        return tuple(f"{name}@{k}" for name in names for k in self.ks)

    def check_metric(self) -> None:
        """Refuse an early-stopping metric the validation run would not report (resolved configs).

        Not part of validate(): re-evaluating an artifact with other ``ks`` must not trip over it.
        """
        choices = self.metric_choices()
        if self.metric in choices:
            return
        name, _, k = (self.metric or "").partition("@")
        ks = ",".join(str(value) for value in self.ks)
        if self.ks and f"{name}@{self.ks[0]}" in choices and k.isdigit():
            raise ValueError(f"metric '{self.metric}' needs {k} among the cut-offs (--ks is {ks}); add it to --ks "
                             f"or choose one of: {', '.join(choices)}")
        where = "explicit feedback" if self.feedback == "explicit" else f"the {self.protocol} protocol, --ks {ks}"
        raise ValueError(f"unknown metric '{self.metric}'; with {where} choose one of: {', '.join(choices)}")

    def model_kwargs(self) -> dict[str, object]:
        """Constructor arguments for the chosen model."""
        keys = {
            "gmf": ("embedding_dim",),
            "mlp": ("layers", "dropout"),
            "neumf": ("embedding_dim", "layers", "dropout"),
            "mf": ("embedding_dim",),
            "lightgcn": ("embedding_dim", "n_layers"),
            "pop": (),
        }[self.model]
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}

    def to_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
