"""The ceiling for the intake benchmark: a bare Flask view that reads the body and answers 200.

Served by gunicorn with the same settings as the real app (`benchmarks/intake.py` starts both)."""

from __future__ import annotations

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/webhooks/<platform>")
def receive(platform: str):  # type: ignore[no-untyped-def]
    request.get_data(cache=False)
    return jsonify(status="accepted"), 200


@app.get("/healthz")
def health():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")
