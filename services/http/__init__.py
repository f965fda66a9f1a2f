"""HTTP/JSON API and web interface in front of the gateway (`recsys serve http`, `serve all`)."""
