"""What every gRPC service shares: error mapping, server bootstrap, health and reflection."""
