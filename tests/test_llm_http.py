"""HTTP backends against REAL servers on 127.0.0.1 started by the tests.

- an OpenAI-compatible llama.cpp server (``python -m llama_cpp.server``) serving the embedded Gemma
  3 270M, with an API key: the ``openai`` and ``hf_inference`` backends talk to it;
- a small real HTTP server that fails the first requests with 429/503, to test retries and backoff.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from maestromotif.llm._http import RetryableError, with_retries
from maestromotif.llm.base import GenerationConfig, make_backend
from maestromotif.utils.errors import UserError

llama_cpp = pytest.importorskip("llama_cpp")
pytest.importorskip("llama_cpp.server.app", reason="needs the server extra (requirements-dev.txt)")

TOKEN_ENV = "MAESTROMOTIF_TEST_TOKEN"
SECRET = "s3cret-token-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from maestromotif.llm.llamacpp import embedded_model_path

    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_model_path()), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "2048", "--n_threads", "1", "--logits_all", "True",
           "--model_alias", "gemma-270m", "--chat_format", "gemma", "--api_key", SECRET, "--verbose", "False"]
    with open(log, "wb") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    import httpx

    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {SECRET}"}, timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not start in 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, SECRET)


CHAT = [{"role": "system", "content": "You judge NetHack play."},
        {"role": "user", "content": "Which is better for a player who wants gold? 1: You kill the newt! "
                                    "2: $ - 5 gold pieces."}]


@pytest.mark.slow
def test_openai_chat_and_score_on_a_real_server(server, token):
    be = make_backend("openai", model="gemma-270m", base_url=server, api_key_env=TOKEN_ENV, concurrency=2)
    out = be.chat([CHAT, CHAT], GenerationConfig(max_tokens=8, temperature=0.0))
    assert len(out) == 2 and all(isinstance(t, str) for t in out)
    assert out[0] == out[1]  # greedy decoding is deterministic
    prompts = ['The best description is ("best_description": ', "Description 1 or 2? Answer: "]
    lp = be.score_prompts(prompts, ["1", "2"])
    assert lp.shape == (2, 2) and np.isfinite(lp).all() and (lp <= 0).all()
    assert be.calls == 4
    desc = json.dumps(be.describe())
    assert SECRET not in desc and TOKEN_ENV in desc  # the variable's name, never its value
    be.close()


@pytest.mark.slow
def test_openai_scores_agree_with_the_embedded_backend(server, token):
    from maestromotif.llm.llamacpp import LlamaCppBackend

    prompt = 'You judge NetHack play. The best description is ("best_description": '
    http_lp = make_backend("openai", model="gemma-270m", base_url=server, api_key_env=TOKEN_ENV).score_prompts(
        [prompt], ["1", "2"])
    local = LlamaCppBackend(n_threads=1, n_ctx=1024)
    local_lp = local.score_prompts([prompt], ["1", "2"])
    local.close()
    # same model, same prompt: the option margins match up to llama.cpp's batch-shape rounding
    assert abs((http_lp[0, 0] - http_lp[0, 1]) - (local_lp[0, 0] - local_lp[0, 1])) < 0.3


@pytest.mark.slow
def test_wrong_token_fails_fast_without_leaking_it(server, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "wrong-token")
    be = make_backend("openai", model="gemma-270m", base_url=server, api_key_env=TOKEN_ENV, max_retries=3)
    t = time.time()
    with pytest.raises(UserError) as e:
        be.chat([CHAT], GenerationConfig(max_tokens=2))
    assert time.time() - t < 20 and "401" in str(e.value) and "wrong-token" not in str(e.value)


@pytest.mark.slow
def test_hf_inference_client_against_the_same_server(server, token):
    be = make_backend("hf_inference", model="gemma-270m", base_url=server, api_key_env=TOKEN_ENV, concurrency=2)
    out = be.chat([CHAT, CHAT], GenerationConfig(max_tokens=8, temperature=0.0))
    assert len(out) == 2 and out[0] == out[1] and isinstance(out[0], str)
    assert SECRET not in json.dumps(be.describe())
    assert not be.supports_score


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Fails the first ``fail`` requests (429 then 503), then answers like an OpenAI server."""

    fail = 2
    seen: list[float] = []

    def do_POST(self):  # noqa: N802 - http.server naming
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).seen.append(time.time())
        n = len(type(self).seen)
        if n <= type(self).fail:
            self.send_response(429 if n == 1 else 503)
            if n == 1:
                self.send_header("Retry-After", "0.2")
            self.end_headers()
            return
        body = json.dumps({"choices": [{"message": {"role": "assistant", "content": '("best_description": 2)'}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *a):
        pass


@pytest.fixture
def flaky():
    _Flaky.seen = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()


def test_openai_retries_429_and_503_with_backoff(flaky):
    be = make_backend("openai", model="m", base_url=flaky, max_retries=3, backoff=0.3, concurrency=1)
    assert be.chat([CHAT]) == ['("best_description": 2)']
    gaps = np.diff(_Flaky.seen)
    assert len(_Flaky.seen) == 3
    assert gaps[0] >= 0.19  # Retry-After honoured
    assert gaps[1] >= 0.6  # then exponential backoff: 0.3 * 2**1


def test_openai_gives_up_after_max_retries(flaky):
    _Flaky.fail = 10
    try:
        be = make_backend("openai", model="m", base_url=flaky, max_retries=1, backoff=0.01)
        with pytest.raises(UserError, match="gave up after 2 attempts"):
            be.chat([CHAT])
    finally:
        _Flaky.fail = 2


def test_openai_timeout_is_retried_then_reported():
    # a real socket that accepts and never answers
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    try:
        be = make_backend("openai", model="m", base_url=f"http://127.0.0.1:{srv.getsockname()[1]}/v1",
                          timeout=0.3, max_retries=1, backoff=0.01)
        with pytest.raises(UserError, match="Timeout"):
            be.chat([CHAT])
    finally:
        srv.close()


def test_with_retries_backoff_schedule():
    waits = []
    calls = {"n": 0}

    def fn():
        calls["n"] += 1
        if calls["n"] < 4:
            raise RetryableError("busy")
        return "ok"

    assert with_retries(fn, max_retries=5, backoff=1.0, sleep=waits.append) == "ok"
    assert [round(w) for w in waits] == [1, 2, 4]


def test_token_env_is_required_only_when_named(monkeypatch):
    from maestromotif.llm._http import read_token

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert read_token(TOKEN_ENV) is None
    with pytest.raises(UserError, match=TOKEN_ENV):
        read_token(TOKEN_ENV, required=True)
    assert os.environ.get(TOKEN_ENV) is None
