"""`collectstatic` compresses a file once: again only when the file changed."""

import os

from taizhang.core.staticfiles import CompressOnceManifestStorage

ORIGINAL, HASHED = "web/app.js", "web/app.0123456789ab.js"


def test_collected_files_are_compressed_once_and_again_only_when_changed(tmp_path):
    (tmp_path / "web").mkdir()
    for name in (ORIGINAL, HASHED):
        (tmp_path / name).write_text("console.log('台账');\n" * 200)
    storage = CompressOnceManifestStorage(location=tmp_path)
    storage.hashed_files = {ORIGINAL: HASHED}

    def compressed() -> list[str]:
        return sorted(name for name, _copy in storage.compress_files([ORIGINAL, HASHED]))

    assert compressed() == [HASHED, HASHED, ORIGINAL, ORIGINAL]  # a Brotli and a gzip copy each
    assert {p.name for p in (tmp_path / "web").iterdir()} >= {"app.js.br", "app.js.gz"}
    assert compressed() == []

    # A newer version of the original was collected; the hashed file was saved again with the same content
    # (Django saves files it adjusts on every run), which its name vouches for.
    (tmp_path / ORIGINAL).write_text("console.log('新版本');\n" * 200)
    later = os.stat(tmp_path / ORIGINAL).st_mtime + 60
    for name in (ORIGINAL, HASHED):
        os.utime(tmp_path / name, (later, later))
    assert compressed() == [ORIGINAL, ORIGINAL]
    assert compressed() == []


def test_a_file_whose_compression_did_not_pay_is_tried_again(tmp_path):
    (tmp_path / "tiny.txt").write_bytes(b"x")
    storage = CompressOnceManifestStorage(location=tmp_path)
    assert not storage.compressed_copy_is_current("tiny.txt", hashed=False)
    assert list(storage.compress_files(["tiny.txt"])) == []
    assert not storage.compressed_copy_is_current("tiny.txt", hashed=True)
