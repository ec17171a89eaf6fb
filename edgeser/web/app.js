// The edgeser page: record from the microphone (live predictions over the WebSocket
// /v1/stream, then the utterance's result) or upload a file (POST /v1/predict?timeline=1).
// No external resources; the API key, when the server needs one, stays in memory.
"use strict";

const EMOJI = {
  anger: "😠", happiness: "😄", neutral: "😐", sadness: "😢", boredom: "🥱",
  disgust: "🤢", fear: "😨", calm: "😌", surprise: "😲",
};
const COLOURS = {
  anger: "#c62828", happiness: "#e69500", neutral: "#607d8b", sadness: "#3559b7",
  boredom: "#8d6e63", disgust: "#558b2f", fear: "#6a4fb3", calm: "#00897b", surprise: "#d81b60",
};
const NO_SPEECH_EMOJI = "🔇";
const OTHER_EMOJI = "🎭";

const $ = (id) => document.getElementById(id);
const state = { apiKey: null, labels: [], streaming: false, recording: null };

function emojiFor(p) {
  if (!p.is_speech || p.label === null) return NO_SPEECH_EMOJI;
  return EMOJI[p.label] || OTHER_EMOJI;
}

function emojiSpan(text) {
  const span = document.createElement("span");
  span.className = "emoji";
  span.setAttribute("aria-hidden", "true");
  span.textContent = text;
  return span;
}

function percent(v) {
  return `${(100 * v).toFixed(0)}%`;
}

function showError(message) {
  $("error").textContent = message || "";
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.apiKey) headers.Authorization = `Bearer ${state.apiKey}`;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error ? body.error.message : `HTTP ${response.status}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return body;
}

// ---- start-up ---------------------------------------------------------------------------------
async function init() {
  $("auth-form").addEventListener("submit", useKey);
  $("upload-form").addEventListener("submit", upload);
  $("record").addEventListener("click", toggleRecording);
  try {
    const health = await api("/v1/health");
    if (health.auth_required) {
      $("auth").hidden = false;
      $("model").textContent = "(API key needed)";
      $("key").focus();
      return;
    }
    await loadModel();
  } catch (error) {
    showError(`Cannot reach the server: ${error.message}`);
  }
}

async function useKey(event) {
  event.preventDefault();
  state.apiKey = $("key").value.trim() || null;
  try {
    await loadModel();
    $("auth").hidden = true;
    showError("");
  } catch (error) {
    state.apiKey = null;
    showError(error.status === 401 ? "That API key was not accepted." : error.message);
  }
}

async function loadModel() {
  const model = await api("/v1/model");
  state.labels = model.labels || [];
  state.streaming = Boolean(model.streaming);
  $("model").textContent = model.name;
  $("labels").replaceChildren(
    ...state.labels.flatMap((l, i) => [
      ...(i ? [", "] : []), emojiSpan(EMOJI[l] || OTHER_EMOJI), ` ${l}`,
    ]),
  );
  $("upload").disabled = false;
  const canRecord = Boolean(navigator.mediaDevices && window.AudioWorkletNode && window.isSecureContext);
  $("record").disabled = !(state.streaming && canRecord);
  if (!state.streaming) {
    $("record-status").textContent = "This model cannot stream; upload a file instead.";
  } else if (!canRecord) {
    $("record-status").textContent =
      "Recording needs a secure page (https or localhost) and AudioWorklet support.";
  }
}

// ---- results ----------------------------------------------------------------------------------
function showResult(p, windows, source) {
  const result = $("result");
  result.hidden = false;
  result.dataset.source = source;
  result.dataset.label = p.label || "";
  $("result-emoji").textContent = emojiFor(p);
  $("result-label").textContent = p.is_speech ? p.label : "no speech";
  $("result-confidence").textContent = p.is_speech ? percent(p.confidence) : "";
  const what = source === "upload" ? "uploaded file" : "recording";
  $("result-meta").textContent =
    `${p.duration_s.toFixed(2)} s ${what}` +
    (p.is_speech ? `, ${p.windows} speech window(s)` : ` — ${p.reason}`) +
    (p.warnings && p.warnings.length ? ` — ${p.warnings.join("; ")}` : "");
  renderBars(p);
  renderTimeline(windows || []);
}

function renderBars(p) {
  const list = $("bars");
  list.replaceChildren();
  const names = state.labels.length ? state.labels : Object.keys(p.scores || {});
  const ordered = names.slice().sort((a, b) => (p.scores[b] || 0) - (p.scores[a] || 0));
  for (const name of ordered) {
    const value = (p.scores && p.scores[name]) || 0;
    const item = document.createElement("li");
    item.setAttribute("aria-label", `${name} ${percent(value)}`);
    const label = document.createElement("span");
    label.append(emojiSpan(EMOJI[name] || OTHER_EMOJI), ` ${name}`);
    const track = document.createElement("span");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.display = "block";
    bar.style.width = `${(100 * value).toFixed(1)}%`;
    bar.style.background = COLOURS[name] || "#2f5fd0";
    track.appendChild(bar);
    const number = document.createElement("span");
    number.className = "value";
    number.textContent = percent(value);
    item.append(label, track, number);
    list.appendChild(item);
  }
}

function renderTimeline(windows) {
  const strip = $("timeline");
  strip.replaceChildren();
  for (const w of windows) {
    const cell = document.createElement("li");
    cell.className = "emoji";
    const span = `${w.start_s.toFixed(1)}–${w.end_s.toFixed(1)} s`;
    if (w.is_speech && w.label) {
      cell.style.background = COLOURS[w.label] || "#2f5fd0";
      cell.title = `${span}: ${w.label} ${percent(w.confidence)}`;
    } else {
      cell.classList.add("none");
      cell.title = `${span}: no speech`;
    }
    cell.setAttribute("aria-label", cell.title);
    cell.textContent = emojiFor(w);
    strip.appendChild(cell);
  }
}

// ---- upload -----------------------------------------------------------------------------------
async function upload(event) {
  event.preventDefault();
  showError("");
  const file = $("file").files[0];
  if (!file) {
    showError("Choose an audio file first.");
    $("file").focus();
    return;
  }
  $("upload").disabled = true;
  try {
    const p = await api("/v1/predict?timeline=1", {
      method: "POST",
      body: file,
      headers: { "Content-Type": file.type || "application/octet-stream" },
    });
    showResult(p, p.timeline, "upload");
  } catch (error) {
    showError(error.message);
  } finally {
    $("upload").disabled = false;
  }
}

// ---- recording --------------------------------------------------------------------------------
function streamUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/v1/stream`;
}

function streamProtocols() {
  const protocols = ["edgeser"];
  if (state.apiKey) {
    const b64 = btoa(state.apiKey).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    protocols.push(`edgeser.key.${b64}`);
  }
  return protocols;
}

async function toggleRecording() {
  if (state.recording) {
    await stopRecording();
  } else {
    await startRecording();
  }
}

async function startRecording() {
  showError("");
  const button = $("record");
  button.disabled = true;
  let media = null;
  try {
    media = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    const context = new AudioContext();
    await context.audioWorklet.addModule("/recorder-worklet.js");
    const source = context.createMediaStreamSource(media);
    const node = new AudioWorkletNode(context, "pcm16-recorder", {
      processorOptions: { chunk: Math.round(context.sampleRate / 10) },
    });
    const mute = context.createGain();
    mute.gain.value = 0;
    source.connect(node).connect(mute).connect(context.destination);
    const rec = { media, context, node, source, ws: null, ready: false, pending: [], windows: [] };
    rec.done = new Promise((resolve) => { rec.finish = resolve; });
    const ws = new WebSocket(streamUrl(), streamProtocols());
    ws.binaryType = "arraybuffer";
    rec.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ sample_rate: context.sampleRate, format: "pcm16" }));
    ws.onmessage = (event) => onStreamMessage(rec, JSON.parse(event.data));
    ws.onerror = () => showError("The stream connection failed.");
    ws.onclose = () => rec.finish(null);
    node.port.onmessage = (event) => {
      if (event.data === "flushed") {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "flush" }));
        return;
      }
      if (rec.ready && ws.readyState === WebSocket.OPEN) ws.send(event.data);
      else rec.pending.push(event.data);
    };
    state.recording = rec;
    button.textContent = "Stop recording";
    button.setAttribute("aria-pressed", "true");
    $("record-status").textContent = "Recording…";
    $("live").textContent = "listening";
    $("live-emoji").textContent = "";
  } catch (error) {
    if (media) media.getTracks().forEach((t) => t.stop());
    showError(`Cannot record: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

function onStreamMessage(rec, message) {
  if (message.type === "ready") {
    rec.ready = true;
    for (const chunk of rec.pending) rec.ws.send(chunk);
    rec.pending = [];
  } else if (message.type === "error") {
    showError(message.error.message);
  } else if (message.type === "end") {
    rec.finish(message.utterance);
  } else {
    rec.windows.push(message);
    $("live-emoji").textContent = emojiFor(message);
    $("live").textContent = message.is_speech
      ? `${message.label} ${percent(message.confidence)} (${message.start_s.toFixed(1)}–${message.end_s.toFixed(1)} s)`
      : "no speech";
    renderTimeline(rec.windows);
    $("result").hidden = false;
  }
}

async function stopRecording() {
  const rec = state.recording;
  state.recording = null;
  const button = $("record");
  button.disabled = true;
  $("record-status").textContent = "Finishing…";
  rec.source.disconnect();
  rec.node.port.postMessage("flush");
  const utterance = await Promise.race([
    rec.done,
    new Promise((resolve) => setTimeout(() => resolve(null), 15000)),
  ]);
  rec.media.getTracks().forEach((t) => t.stop());
  rec.context.close();
  if (rec.ws.readyState === WebSocket.OPEN) rec.ws.close();
  button.textContent = "Start recording";
  button.setAttribute("aria-pressed", "false");
  button.disabled = false;
  $("record-status").textContent = "";
  if (utterance) showResult(utterance, rec.windows, "recording");
  else if (!$("error").textContent) showError("The recording got no result from the server.");
}

init();
