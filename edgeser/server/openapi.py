"""The hand-written OpenAPI 3.1 description served at /openapi.json."""

from __future__ import annotations

from typing import Any

from .config import ServerConfig


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def spec(version: str, config: ServerConfig) -> dict[str, Any]:
    prediction = {
        "type": "object",
        "description": "edgeser.Prediction.to_dict(): label is null when no speech was found.",
        "properties": {
            "source": {"type": "string"},
            "model": {"type": "string"},
            "label": {"type": ["string", "null"]},
            "confidence": {"type": "number"},
            "scores": {"type": "object", "additionalProperties": {"type": "number"}},
            "is_speech": {"type": "boolean"},
            "reason": {"type": "string"},
            "start_s": {"type": "number"},
            "end_s": {"type": "number"},
            "duration_s": {"type": "number"},
            "windows": {"type": "integer"},
            "timings": {"type": "object", "additionalProperties": {"type": "number"}},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "timeline": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Prediction"},
                "description": "per-window predictions (only with ?timeline=1)",
            },
        },
        "required": ["label", "confidence", "scores", "is_speech"],
    }
    secured: list[dict[str, list[str]]] = [{"bearer": []}] if config.api_key is not None else []
    busy = _error("busy (workers, queue, connections or memory): retry after Retry-After s")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "edgeser",
            "version": version,
            "description": "Speech emotion recognition. Errors are "
            '{"error": {"code": ..., "message": ...}}.',
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Prediction": prediction,
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                            "required": ["code", "message"],
                        }
                    },
                    "required": ["error"],
                },
            },
        },
        "paths": {
            "/v1/predict": {
                "post": {
                    "summary": "The emotion of an uploaded audio file",
                    "description": "The raw file as the body (any Content-Type but "
                    "multipart/form-data), or a multipart/form-data form with one file "
                    f"field. At most {config.max_upload_bytes} bytes and "
                    f"{config.max_duration_s:g} s of audio (read from the header).",
                    "security": secured,
                    "parameters": [
                        {
                            "name": "timeline",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["0", "1", "true", "false"]},
                            "description": "1: add per-window predictions (front-end models)",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            },
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"file": {"type": "string", "format": "binary"}},
                                }
                            },
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "the prediction",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Prediction"}
                                }
                            },
                        },
                        "400": _error("not readable audio, empty, bad framing or bad form"),
                        "401": _error("missing or wrong API key"),
                        "403": _error("cross-origin request"),
                        "408": _error("the upload was not received in time"),
                        "411": _error("no body"),
                        "413": _error("upload, audio duration or its memory over the limit"),
                        "421": _error("unknown Host"),
                        "422": _error("timeline asked of a model without windows"),
                        "503": busy,
                    },
                }
            },
            "/v1/stream": {
                "get": {
                    "summary": "WebSocket: live audio in, one prediction per window out",
                    "description": "Upgrade to a WebSocket. First message (text): "
                    '{"sample_rate": N, "format": "pcm16" | "float32", "channels": 1}; the '
                    'server answers {"type": "ready", ...}. Then binary messages of '
                    "little-endian samples (interleaved when channels > 1); each completed "
                    "window is answered with one Prediction (Recognizer.stream().push). "
                    'Text {"type": "flush"} ends the stream: the last windows, then '
                    '{"type": "end", "utterance": Prediction} and close 1000. Errors: '
                    '{"type": "error", "error": {...}} and a close code. Browsers send the '
                    "API key as the subprotocol edgeser.key.<base64url(key)> next to "
                    "'edgeser'.",
                    "security": secured,
                    "responses": {"101": {"description": "switching protocols"}},
                }
            },
            "/v1/health": {
                "get": {
                    "summary": "Liveness; says whether an API key is needed",
                    "responses": {"200": {"description": '{"status": "ok", ...}'}},
                }
            },
            "/v1/model": {
                "get": {
                    "summary": "The served model (labels, features, training) and limits",
                    "security": secured,
                    "responses": {"200": {"description": "model card fields"}},
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus text: requests, errors, latency, queue, memory",
                    "security": secured,
                    "responses": {"200": {"description": "text/plain; version=0.0.4"}},
                }
            },
            "/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": {"description": "JSON"}}}
            },
            "/": {
                "get": {
                    "summary": "The record-and-predict web page",
                    "responses": {"200": {"description": "HTML"}},
                }
            },
        },
    }
