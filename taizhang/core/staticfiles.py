"""Static files stored as WhiteNoise serves them (hashed names, Brotli and gzip copies), compressed once.

WhiteNoise compresses every collected file on every `collectstatic`, which takes most of its time. A file
whose compressed copy exists is not compressed again when the copy is current: always for a hashed name
(its content is in its name), else when the copy carries the file's modification time, as WhiteNoise
gives it.
"""

import os
from collections.abc import Iterable, Iterator

from whitenoise.storage import CompressedManifestStaticFilesStorage

COMPRESSED_SUFFIXES = (".br", ".gz")
SAME_TIME_SECONDS = 0.001  # the copies' times are set from a float: allow for rounding


class CompressOnceManifestStorage(CompressedManifestStaticFilesStorage):  # type: ignore[misc]  # untyped base
    def compress_files(self, paths: Iterable[str]) -> Iterator[tuple[str, str]]:
        hashed = set(self.hashed_files.values())  # filled by the hashing that runs before compression
        stale = [path for path in paths if not self.compressed_copy_is_current(path, hashed=path in hashed)]
        yield from super().compress_files(stale)

    def compressed_copy_is_current(self, path: str, *, hashed: bool) -> bool:
        source = self.path(path)
        copies = [source + suffix for suffix in COMPRESSED_SUFFIXES if os.path.exists(source + suffix)]
        if hashed:
            return bool(copies)
        made = os.stat(source).st_mtime
        return any(abs(os.stat(copy).st_mtime - made) < SAME_TIME_SECONDS for copy in copies)
