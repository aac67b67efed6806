"""Canaries in the image itself: every file of every layer (``docker save``, streamed, never
written to disk), the image's ENV, labels and build history."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from releasegate.measure.security.canaries import Canaries, Hit


class _ChunkReader(io.RawIOBase):
    """A file object over the engine's chunked ``docker save`` stream."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


@dataclass
class LayerScan:
    hits: list[Hit] = field(default_factory=list)
    layers: int = 0
    files: int = 0
    bytes: int = 0


def scan_saved_image(chunks: Iterator[bytes], canaries: Canaries) -> LayerScan:
    """Search every regular file in every layer of a ``docker save`` tarball."""
    result = LayerScan()
    stream = io.BufferedReader(_ChunkReader(chunks), buffer_size=1 << 20)
    with tarfile.open(fileobj=stream, mode="r|") as outer:
        for member in outer:
            handle = outer.extractfile(member) if member.isfile() else None
            if handle is None:
                continue
            if _is_layer(member.name):
                result.layers += 1
                _scan_layer(handle, member.name, canaries, result)
            else:  # manifest.json, the image config: small, searched whole
                result.hits += canaries.find(handle.read(), f"docker save: {member.name}")
    return result


def _is_layer(name: str) -> bool:
    # Classic engines write <id>/layer.tar; OCI layouts keep layers as blobs/sha256/<digest>.
    return name.endswith("layer.tar") or name.startswith("blobs/")


def _scan_layer(handle: IO[bytes], name: str, canaries: Canaries, result: LayerScan) -> None:
    layer = name.split("/")[-2] if name.endswith("layer.tar") else name.split("/")[-1]
    try:
        inner = tarfile.open(fileobj=handle, mode="r|")  # noqa: SIM115 - closed just below
    except tarfile.ReadError:  # an OCI blob that is a config or an index, not a layer
        result.hits += canaries.find(handle.read(), f"docker save: {name}")
        return
    with inner:
        for member in inner:
            where = f"layer {layer[:12]}: /{member.name.lstrip('./')}"
            result.hits += canaries.find(member.name, where)
            content = inner.extractfile(member) if member.isfile() else None
            if content is None:
                continue
            result.files += 1
            result.bytes += member.size
            result.hits += canaries.find_in_stream(content, where)


def scan_image_metadata(image: dict[str, Any], history: list[dict[str, Any]],
                        canaries: Canaries) -> tuple[list[Hit], int]:
    """(hits, items examined) over the image's ENV, labels and each build step."""
    config = image.get("Config") or {}
    items: list[tuple[str, str]] = [(f"ENV {e.partition('=')[0]}", str(e))
                                    for e in config.get("Env") or []]
    items += [(f"LABEL {k}", f"{k}={v}") for k, v in (config.get("Labels") or {}).items()]
    items += [(f"history step {i}", str(step.get("CreatedBy", "")))
              for i, step in enumerate(history)]
    hits = [hit for where, text in items for hit in canaries.find(text, where)]
    return hits, len(items)
