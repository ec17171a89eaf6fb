// AudioWorklet: microphone samples (float, any channel count) -> mono 16-bit PCM chunks.
// Each chunk (about 100 ms) is posted to the page as an ArrayBuffer; "flush" posts the rest
// and then "flushed".
class Pcm16Recorder extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.size = Math.max(128, (options.processorOptions || {}).chunk || 4800);
    this.buffer = new Int16Array(this.size);
    this.n = 0;
    this.port.onmessage = (event) => {
      if (event.data === "flush") {
        if (this.n > 0) {
          const rest = this.buffer.slice(0, this.n);
          this.port.postMessage(rest.buffer, [rest.buffer]);
          this.n = 0;
        }
        this.port.postMessage("flushed");
      }
    };
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const channels = input.length;
    const frames = input[0].length;
    for (let i = 0; i < frames; i++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += input[c][i];
      s = Math.max(-1, Math.min(1, s / channels));
      this.buffer[this.n++] = s < 0 ? Math.round(s * 32768) : Math.round(s * 32767);
      if (this.n === this.size) {
        this.port.postMessage(this.buffer.buffer, [this.buffer.buffer]);
        this.buffer = new Int16Array(this.size);
        this.n = 0;
      }
    }
    return true;
  }
}

registerProcessor("pcm16-recorder", Pcm16Recorder);
