"""The web page in a real browser: Debian's headless Chromium driven by Selenium.

A WAV file is the microphone (`--use-file-for-fake-audio-capture`): an EmoDB clip when the
corpora are present (../shared/datasets or $EDGESER_DATASETS), else synthetic speech-like audio.
The server runs in this process on a free loopback port. The page must show a label and its
emoji after record/stop (live predictions over the WebSocket) and after a file upload; each
step saves a screenshot to pytest's tmp folder and prints its path.

Without /usr/bin/chromium, /usr/bin/chromedriver or selenium the tests skip (install with
`bash .ci/browser-deps.sh`), unless EDGESER_REQUIRE_BROWSER=1, which makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
EMOJI = {
    "anger": "😠",
    "happiness": "😄",
    "neutral": "😐",
    "sadness": "😢",
    "boredom": "🥱",
    "disgust": "🤢",
    "fear": "😨",
    "calm": "😌",
    "surprise": "😲",
}
NO_SPEECH = ("no speech", "🔇")
KEY = "browser-test-key-0123456789"
EMODB_CLIP = "emodb/wav/03a04Wc.wav"  # anger, 2 s


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    for module in ("selenium", "uvicorn", "starlette"):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"the Python package {module}")
    if missing:
        why = f"the browser test needs {', '.join(missing)} (run: bash .ci/browser-deps.sh)"
        if os.environ.get("EDGESER_REQUIRE_BROWSER", "").strip() == "1":
            pytest.fail(f"EDGESER_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(why)


@pytest.fixture(scope="module")
def microphone_wav(tmp_path_factory) -> tuple[Path, bool]:
    """(a WAV to record from, whether it is real speech)."""
    from train.shared_data import datasets_dir

    out = tmp_path_factory.mktemp("audio") / "speech.wav"
    clip = datasets_dir() / EMODB_CLIP
    if clip.is_file():
        shutil.copy(clip, out)
        return out, True
    import numpy as np
    import soundfile as sf

    from tests.runtime.support import speechlike

    x = np.concatenate([speechlike(3.0, seed=21, rate=48000, level=0.3), np.zeros(4800)])
    sf.write(out, x.astype(np.float32), 48000, subtype="PCM_16")
    return out, False


@pytest.fixture(scope="module")
def recognizer():
    _require_browser()
    import edgeser

    return edgeser.Recognizer("default")


def _start_server(recognizer, **cfg):
    from edgeser.server import App, Server, ServerConfig

    return Server(App(recognizer, ServerConfig(port=0, **cfg), baseline_bytes=0)).start()


@pytest.fixture(scope="module")
def server(recognizer):
    s = _start_server(recognizer)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser(microphone_wav):
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone_wav[0]}",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=900,1400",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _wait(driver, predicate, what: str, timeout_s: float = 20.0):
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout_s, poll_frequency=0.1).until(lambda d: predicate(d))
    except Exception as exc:
        error = driver.find_element("id", "error").text
        raise AssertionError(f"timed out waiting for {what} (page error: {error!r})") from exc


def _text(driver, element_id: str) -> str:
    return driver.find_element("id", element_id).text.strip()


def _assert_result(driver, labels, real_speech: bool) -> tuple[str, str]:
    label, emoji = _text(driver, "result-label"), _text(driver, "result-emoji")
    if not real_speech and (label, emoji) == NO_SPEECH:
        return label, emoji  # synthetic audio may be rejected by the speech gate
    assert label in labels, (label, labels)
    assert emoji == EMOJI[label], (label, emoji)
    bars = driver.find_elements("css selector", "#bars li")
    assert len(bars) == len(labels)
    return label, emoji


def _screenshot(driver, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def _open(driver, url: str) -> None:
    driver.get(url)
    _wait(driver, lambda d: _text(d, "model") not in ("", "…"), "the model name")


def test_record_and_stop_shows_live_windows_then_label_and_emoji(
    browser, server, recognizer, microphone_wav, tmp_path
):
    _open(browser, server.url + "/")
    assert _text(browser, "model") == recognizer.name
    record = browser.find_element("id", "record")
    _wait(browser, lambda d: record.is_enabled(), "the record button")
    record.click()
    _wait(browser, lambda d: record.get_attribute("aria-pressed") == "true", "recording")
    _wait(
        browser,
        lambda d: len(d.find_elements("css selector", "#timeline li")) >= 2,
        "live predictions over the stream",
    )
    assert _text(browser, "live") not in ("", "—", "listening")
    time.sleep(0.5)
    record.click()  # stop
    _wait(
        browser,
        lambda d: d.find_element("id", "result").get_attribute("data-source") == "recording",
        "the utterance result",
    )
    assert record.get_attribute("aria-pressed") == "false"
    label, emoji = _assert_result(browser, recognizer.labels, microphone_wav[1])
    _screenshot(browser, tmp_path, "page-recording")
    print(f"recording: {emoji} {label}")


def test_file_upload_shows_label_emoji_bars_and_timeline(
    browser, server, recognizer, microphone_wav, tmp_path
):
    _open(browser, server.url + "/")
    browser.find_element("id", "file").send_keys(str(microphone_wav[0]))
    upload = browser.find_element("id", "upload")
    _wait(browser, lambda d: upload.is_enabled(), "the upload button")
    upload.click()
    _wait(
        browser,
        lambda d: d.find_element("id", "result").get_attribute("data-source") == "upload",
        "the upload result",
    )
    label, emoji = _assert_result(browser, recognizer.labels, microphone_wav[1])
    want = recognizer.predict(microphone_wav[0])
    assert label == (want.label or NO_SPEECH[0])
    assert browser.find_elements("css selector", "#timeline li")
    _screenshot(browser, tmp_path, "page-upload")
    print(f"upload: {emoji} {label}")


def test_page_asks_for_the_api_key_and_keeps_it_in_memory(
    browser, recognizer, microphone_wav, tmp_path
):
    from selenium.webdriver.common.keys import Keys

    keyed = _start_server(recognizer, api_key=KEY)
    try:
        browser.get(keyed.url + "/")
        auth = browser.find_element("id", "auth")
        _wait(browser, lambda d: auth.is_displayed(), "the API key form")
        key = browser.find_element("id", "key")
        key.send_keys("wrong-key-wrong-key")
        key.send_keys(Keys.ENTER)  # keyboard only
        _wait(browser, lambda d: "not accepted" in _text(d, "error"), "the refusal")
        key.clear()
        key.send_keys(KEY + Keys.ENTER)
        _wait(browser, lambda d: _text(d, "model") == recognizer.name, "the model after the key")
        assert not auth.is_displayed()
        stored = browser.execute_script(
            "return [document.cookie, window.localStorage.length, window.sessionStorage.length]"
        )
        assert stored == ["", 0, 0]  # the key is in memory only
        browser.find_element("id", "file").send_keys(str(microphone_wav[0]))
        browser.find_element("id", "upload").click()
        _wait(
            browser,
            lambda d: d.find_element("id", "result").get_attribute("data-source") == "upload",
            "the upload result with the key",
        )
        _assert_result(browser, recognizer.labels, microphone_wav[1])
        _screenshot(browser, tmp_path, "page-api-key")
    finally:
        keyed.stop()
