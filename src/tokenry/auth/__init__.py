"""The hot path: credential parsing, verification with a cache, usage batching, throttling."""
