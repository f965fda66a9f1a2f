"""The gateway: RecommendationService, chaining embedding -> retrieval -> scoring -> blend."""
