"""The media pipeline: decide what an upload is from its bytes, refuse what is unsafe or too big,
and produce metadata-free renditions. Pure functions over bytes and PIL images (CPU-bound: call
them through `asyncio.to_thread`); storage and MongoDB live in `services/`."""
