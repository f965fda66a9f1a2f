"""Online serving: the gRPC services (retrieval, scoring, embedding, gateway) and what they share."""
