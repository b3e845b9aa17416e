"""The real-time pipeline: faust-streaming workers around the pure engine in ``monitor``."""
