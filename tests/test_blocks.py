"""kg.blocks: a file rewritten block by block equals the file written whole."""

from __future__ import annotations

import os

import pytest

from kg.blocks import read_index, write_blocks

FP = "code-1"


class Writer:
    """Writes blocks (key, digest) whose bytes are "<key:digest>\\n", checks the
    file equals a whole write, and records which blocks were rendered."""

    def __init__(self, tmp_path):
        self.path = tmp_path / "out.txt"
        self.index = tmp_path / ".cache" / "out.txt.blocks"
        self.rendered: list[str] = []

    def write(self, *pairs, fingerprint=FP):
        self.rendered = []

        def render(k, v):
            def go():
                self.rendered.append(k)
                return f"<{k}:{v}>\n".encode()
            return go

        seen = []
        w = write_blocks(self.path, [(k, v, render(k, v)) for k, v in pairs], self.index,
                         fingerprint, each=lambda k, c, data: seen.append((k, data is None)))
        expected = b"".join(f"<{k}:{v}>\n".encode() for k, v in pairs)
        assert self.path.read_bytes() == expected  # what a whole write gives
        assert [k for k, _ in seen] == [k for k, _ in pairs]
        assert [k for k, copied in seen if not copied] == self.rendered
        return w


@pytest.fixture
def w(tmp_path):
    return Writer(tmp_path)


BASE = [("a", "1"), ("b", "1"), ("c", "1"), ("d", "1"), ("e", "1")]


def test_first_write_renders_every_block_and_indexes_them(w):
    written = w.write(*BASE)
    assert w.rendered == list("abcde") and written.copied == 0 and not written.warnings
    index, why = read_index(w.index, w.path, FP)
    assert why is None and list(index) == list("abcde")
    assert [(b.offset, b.length) for b in index.values()] == [(i * 6, 6) for i in range(5)]


def test_nothing_changed_copies_everything_in_one_run(w):
    w.write(*BASE)
    written = w.write(*BASE)
    assert w.rendered == [] and written.copied == 5 and written.copied_bytes == 30


def test_changes_inserts_and_removals(w):
    w.write(*BASE)
    written = w.write(("a", "1"), ("b", "2"), ("bb", "1"), ("c", "1"), ("e", "1"), ("f", "1"))
    assert w.rendered == ["b", "bb", "f"] and written.copied == 3
    # and the index it left is right for the next round
    written = w.write(("a", "1"), ("b", "2"), ("c", "1"), ("f", "1"))
    assert w.rendered == [] and written.copied == 4


def test_reorder_copies_from_anywhere_in_the_old_file(w):
    w.write(*BASE)
    written = w.write(*reversed(BASE))
    assert w.rendered == [] and written.copied == 5


def test_empty_blocks_and_an_empty_file(w):
    w.write(("a", ""), ("b", "1"))
    w.write(("a", ""), ("b", "1"), ("c", "2"))
    assert w.rendered == ["c"]
    w.write()
    assert w.path.read_bytes() == b""
    w.write(("a", "1"))
    assert w.rendered == ["a"]


@pytest.mark.parametrize("damage", ["index bytes", "checksum", "fingerprint", "file edited",
                                    "file replaced", "index gone"])
def test_an_untrusted_index_means_a_whole_write_with_a_warning(w, damage):
    w.write(*BASE)
    fingerprint = FP
    if damage == "index bytes":
        data = bytearray(w.index.read_bytes())
        data[20] ^= 1
        w.index.write_bytes(bytes(data))
    elif damage == "checksum":
        w.index.write_bytes(w.index.read_bytes()[:-5] + b"000\n")
    elif damage == "fingerprint":
        fingerprint = "code-2"
    elif damage == "file edited":  # same size, other bytes: the index is of another file
        st = w.path.stat()
        w.path.write_bytes(w.path.read_bytes().replace(b"<a", b"<z"))
        os.utime(w.path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    elif damage == "file replaced":
        w.path.write_bytes(b"x" * 30)
    elif damage == "index gone":
        w.index.unlink()
    written = w.write(*BASE, fingerprint=fingerprint)
    assert w.rendered == list("abcde") and written.copied == 0
    # an index of another file is no damage (a build killed before its rename)
    # another version's index is not damage: rewritten silently, as after an upgrade
    assert bool(written.warnings) == (damage in ("index bytes", "checksum"))


def test_a_failed_render_leaves_the_previous_file_and_index(w):
    w.write(*BASE)
    before, index = w.path.read_bytes(), w.index.read_bytes()

    def boom():
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_blocks(w.path, [("a", "2", boom)], w.index, FP)
    assert w.path.read_bytes() == before and w.index.read_bytes() == index
    assert w.write(*BASE).copied == 5
    assert sorted(p.name for p in w.path.parent.iterdir()) == [".cache", "out.txt"]


def test_an_index_of_a_file_never_renamed_into_place_is_not_trusted(w):
    # a kill between the index and the rename: the index describes the temporary file
    w.write(*BASE)
    old = w.path.read_bytes()
    saved = w.path.with_name("saved")
    os.link(w.path, saved)
    w.write(("a", "2"))
    os.replace(saved, w.path)  # the previous file is back, the new index stays
    assert w.path.read_bytes() == old
    written = w.write(*BASE)
    assert written.copied == 0 and written.warnings == []
