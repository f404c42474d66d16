"""The on-disk cache of parsed templates (template_cache): a later run reuses the trees, any
change of text or function names misses, and a cache that cannot be used is no cache."""
from __future__ import annotations

import os

import pytest

from kubectl_inject import disk_cache, load_config, template_cache
from kubectl_inject.config_source import builtin_texts
from kubectl_inject.errors import InjectError

TEMPLATES = load_config.parse_injector_config(builtin_texts("1.30.4")["config"]).raw_templates
DATA = {"Values": {}, "ObjectMeta": {"Name": "x"}}


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(template_cache.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / "templates"  # (disk_cache: each kind of entry in its own directory)


def test_a_second_parse_reads_the_trees_instead_of_parsing(cache, monkeypatch):
    first = load_config.parse_templates(TEMPLATES)
    assert len(os.listdir(cache)) == len(TEMPLATES)

    def no_parsing(self, text):
        raise AssertionError("parsed again although the cache has the trees")
    monkeypatch.setattr(load_config.Template, "parse", no_parsing)
    second = load_config.parse_templates(TEMPLATES)
    for name in TEMPLATES:
        assert second[name].parse_trees().keys() == first[name].parse_trees().keys()
    # the same trees execute to the same text
    simple = {"x": "{{ .ObjectMeta.Name }}-{{ with .Values.missing }}y{{ end }}"}
    monkeypatch.undo()
    monkeypatch.setenv(template_cache.CACHE_ENV, str(cache.parent))
    fresh = load_config.parse_templates(simple)["x"].execute(DATA)
    cached = load_config.parse_templates(simple)["x"].execute(DATA)
    assert fresh == cached == "x-"


def test_changed_text_or_functions_miss(cache):
    load_config.parse_templates({"t": "{{ .A }}"})
    load_config.parse_templates({"t": "{{ .B }}"})
    load_config.parse_templates({"t": "{{ .A }}"}, env={"X": "1"})  # same function names: a hit
    assert len(os.listdir(cache)) == 2
    funcs = load_config.istio_template_funcs()
    assert template_cache.load(template_cache.key("t", "{{ .A }}", funcs)) is not None
    assert template_cache.load(template_cache.key("t", "{{ .A }}", dict(funcs, extra=len))) is None


def test_a_syntax_error_is_never_cached(cache):
    with pytest.raises(InjectError, match="unclosed action"):
        load_config.parse_templates({"bad": "{{ .A "})
    assert not cache.exists() or os.listdir(cache) == []


def test_a_damaged_entry_is_parsed_again(cache):
    load_config.parse_templates({"t": "{{ .A }}"})
    (entry,) = os.listdir(cache)
    (cache / entry).write_bytes(b"not a pickle")
    assert load_config.parse_templates({"t": "{{ .A }}"})["t"].execute({"A": 1}) == "1"


def test_no_usable_cache_directory_is_no_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(template_cache.CACHE_ENV, str(blocker / "cache"))  # under a file: unusable
    assert load_config.parse_templates({"t": "{{ .A }}"})["t"].execute({"A": 2}) == "2"
    monkeypatch.setenv(template_cache.CACHE_ENV, "off")
    assert disk_cache.directory() is None


def test_files_key_changes_with_any_file_and_is_none_for_a_missing_one(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("x = 1\n")
    b.write_text("y = 2\n")
    first = disk_cache.files_key(b"label", [a, b])
    assert first == disk_cache.files_key(b"label", [a, b])
    assert first != disk_cache.files_key(b"other", [a, b])
    b.write_text("y = 22\n")  # another size
    second = disk_cache.files_key(b"label", [a, b])
    assert second != first
    os.utime(a, ns=(0, 12345))  # same size, another modification time
    assert disk_cache.files_key(b"label", [a, b]) not in (first, second)
    assert disk_cache.files_key(b"label", [a, tmp_path / "gone.py"]) is None


def test_no_parser_fingerprint_is_no_cache(cache, monkeypatch):
    monkeypatch.setattr(template_cache, "_parser_fingerprint", lambda: None)
    load_config.parse_templates({"t": "{{ .A }}"})
    assert not cache.exists()
    assert template_cache.key("t", "{{ .A }}", load_config.istio_template_funcs()) is None


def _branch_bodies(lst):
    """Every branch body (list, else list) under a list, outermost first."""
    from kubectl_inject.gotemplate.nodes import BranchNode
    for node in lst.nodes:
        if isinstance(node, BranchNode):
            for body in (node.list, node.else_list):
                if body is not None:
                    yield body
                    yield from _branch_bodies(body)


def test_branch_bodies_are_unpacked_when_first_looked_at(cache):
    fresh = load_config.parse_templates(TEMPLATES)["sidecar"]
    fresh_trees = fresh.parse_trees()
    # storing left the caller's trees as they were
    assert not any(isinstance(b, template_cache.DeferredList)
                   for t in fresh_trees.values() if t.root is not None for b in _branch_bodies(t.root))
    cached = load_config.parse_templates(TEMPLATES)["sidecar"]
    root = cached.parse_trees()["sidecar"].root
    top = [n for n in root.nodes if hasattr(n, "else_list")]
    deferred = [n.list for n in top if isinstance(n.list, template_cache.DeferredList)]
    assert deferred and not any(_unpacked(d) for d in deferred)
    # the same text as Go's String() of every tree (this unpacks every body), and only then
    assert {n: str(t.root) for n, t in cached.parse_trees().items()} == \
        {n: str(t.root) for n, t in fresh_trees.items()}
    assert all(_unpacked(d) for d in deferred)


def _unpacked(deferred) -> bool:
    try:
        object.__getattribute__(deferred, "nodes")
    except AttributeError:
        return False
    return True


def test_a_deferred_body_runs_and_fails_as_the_parsed_one(cache):
    body = "{{ .A }}" + "x" * 300 + "{{ .B.C }}"
    text = "start\n{{ if .On }}" + body + "{{ else }}" + body + "{{ end }}"
    results = []
    for _ in range(2):  # parsed, then from the cache
        template = load_config.parse_templates({"t": text})["t"]
        results.append(template.execute({"On": True, "A": 1, "B": {"C": 2}}))
        with pytest.raises(Exception) as err:
            template.execute({"On": False, "A": 1, "B": 3})
        results.append(str(err.value))
    assert results[0] == results[2] and results[0].startswith("start\n1xxx")
    assert results[1] == results[3] and "t:2:" in results[1]
    root = load_config.parse_templates({"t": text})["t"].parse_trees()["t"].root
    assert isinstance(root.nodes[1].list, template_cache.DeferredList)


def test_with_the_cache_off_nothing_is_keyed_or_packed(monkeypatch):
    monkeypatch.setenv(template_cache.CACHE_ENV, "off")

    def not_with_the_cache_off(*args):
        raise AssertionError("keyed or packed trees for a cache that is off")
    monkeypatch.setattr(template_cache, "_with_deferred_branches", not_with_the_cache_off)
    monkeypatch.setattr(template_cache, "_parser_fingerprint", not_with_the_cache_off)
    assert load_config.parse_templates({"t": "{{ .A }}"})["t"].execute({"A": 3}) == "3"


def test_a_damaged_byte_anywhere_in_an_entry_means_a_new_parse(cache):
    """Branch bodies are unpacked in the middle of a run: the checksum over the whole entry
    makes damage inside one of them a miss at load time instead of a failure later."""
    body = "{{ .A }}" + "x" * 400
    text = "{{ if .On }}" + body + "{{ else }}" + body + "{{ end }}"
    want = load_config.parse_templates({"t": text})["t"].execute({"On": True, "A": 7})
    (entry,) = os.listdir(cache)
    data = bytearray((cache / entry).read_bytes())
    inner = data.index(b"x" * 400)  # inside the packed body of the {{if}}
    data[inner + 100] ^= 0x01
    (cache / entry).write_bytes(bytes(data))
    assert template_cache.load(template_cache.key("t", text, load_config.istio_template_funcs())) is None
    assert load_config.parse_templates({"t": text})["t"].execute({"On": True, "A": 7}) == want
