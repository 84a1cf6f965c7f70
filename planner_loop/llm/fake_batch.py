"""The OpenAI Batch API endpoints of the fake server: ``/v1/files`` and ``/v1/batches``.

Uploaded JSONL files are kept in memory. A batch is ``in_progress`` until ``delay_s`` has passed
since it was created, then ``completed``: each line is answered by the server's chat handler
(the same replies as live requests), and the first ``failed_items`` items over the server's
life fail with a 500 in the error file instead (so clients can be tested on retrying them).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ChatHandler = Callable[[Mapping[str, Any]], tuple[int, dict[str, Any]]]
"""Answers one chat request body: (HTTP status, JSON body)."""


@dataclass
class _Batch:
    id: str
    input_file_id: str
    endpoint: str
    created_at: float
    status: str = "in_progress"
    output_file_id: str | None = None
    error_file_id: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"total": 0, "completed": 0, "failed": 0})


class FakeBatchAPI:
    """In-memory files and batches; :meth:`handle` answers a request or returns None (not ours)."""

    def __init__(self, chat: ChatHandler, *, delay_s: float = 0.0, failed_items: int = 0) -> None:
        self._chat = chat
        self.delay_s = delay_s
        self._failures_left = failed_items
        self._lock = threading.Lock()
        self.files: dict[str, tuple[str, bytes]] = {}
        """file id -> (purpose, content)."""
        self.batches: dict[str, _Batch] = {}
        self.uploads = 0
        self.batches_created = 0
        self.retrievals = 0
        self.items_answered = 0
        self.items_failed = 0

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Any] | None:
        """(status, JSON object or raw bytes) for the files/batches routes, else None."""
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["v1", "files"]:
            if method == "POST" and len(parts) == 2:
                return self._upload(headers, body)
            if method == "GET" and len(parts) == 4 and parts[3] == "content":
                with self._lock:
                    found = self.files.get(parts[2])
                return (200, found[1]) if found else (404, _error(f"no file {parts[2]}"))
            return 404, _error(f"no route {path}")
        if parts[:2] == ["v1", "batches"]:
            if method == "POST" and len(parts) == 2:
                return self._create(body)
            if method == "GET" and len(parts) == 3:
                return self._retrieve(parts[2])
            return 404, _error(f"no route {path}")
        return None

    def _upload(self, headers: Mapping[str, str], body: bytes) -> tuple[int, Any]:
        head = f"Content-Type: {headers.get('content-type', '')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        fields: dict[str, bytes] = {}
        filename = "upload.jsonl"
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                fields[str(name)] = part.get_payload(decode=True) or b""
                filename = str(part.get_param("filename", filename, header="content-disposition"))
        if "file" not in fields:
            return 400, _error("multipart upload has no 'file' part")
        purpose = fields.get("purpose", b"batch").decode()
        with self._lock:
            self.uploads += 1
            file_id = f"file-fake-{len(self.files) + 1}"
            self.files[file_id] = (purpose, fields["file"])
        return 200, {"id": file_id, "object": "file", "bytes": len(fields["file"]), "created_at": int(time.time()),
                     "filename": filename, "purpose": purpose, "status": "processed"}

    def _create(self, body: bytes) -> tuple[int, Any]:
        try:
            request = json.loads(body)
        except ValueError:
            return 400, _error("body is not JSON")
        input_id = str(request.get("input_file_id", ""))
        with self._lock:
            if input_id not in self.files:
                return 400, _error(f"no input file {input_id!r}")
            self.batches_created += 1
            batch = _Batch(id=f"batch_fake_{self.batches_created}", input_file_id=input_id,
                           endpoint=str(request.get("endpoint", "")), created_at=time.time())
            batch.counts["total"] = len(self.files[input_id][1].splitlines())
            self.batches[batch.id] = batch
        return 200, self._view(batch)

    def _retrieve(self, batch_id: str) -> tuple[int, Any]:
        with self._lock:
            self.retrievals += 1
            batch = self.batches.get(batch_id)
        if batch is None:
            return 404, _error(f"no batch {batch_id}")
        if batch.status == "in_progress" and time.time() - batch.created_at >= self.delay_s:
            self._finish(batch)
        return 200, self._view(batch)

    def _finish(self, batch: _Batch) -> None:
        with self._lock:
            lines = self.files[batch.input_file_id][1].splitlines()
        outputs: list[str] = []
        errors: list[str] = []
        for number, line in enumerate(lines):
            item = json.loads(line)
            custom_id = item.get("custom_id")
            with self._lock:
                fail = self._failures_left > 0
                if fail:
                    self._failures_left -= 1
            if fail:
                errors.append(json.dumps({"id": f"batch_req_{batch.id}_{number}", "custom_id": custom_id,
                                          "response": {"status_code": 500, "request_id": f"req_{number}",
                                                       "body": _error("The server had an error.")},
                                          "error": None}))
                continue
            status, reply = self._chat(item.get("body") or {})
            target = outputs if status == 200 else errors
            target.append(json.dumps({"id": f"batch_req_{batch.id}_{number}", "custom_id": custom_id,
                                      "response": {"status_code": status, "request_id": f"req_{number}",
                                                   "body": reply}, "error": None}))
        with self._lock:
            self.items_answered += len(outputs)
            self.items_failed += len(errors)
            batch.counts.update(completed=len(outputs), failed=len(errors))
            if outputs:
                batch.output_file_id = f"file-fake-{len(self.files) + 1}"
                self.files[batch.output_file_id] = ("batch_output", ("\n".join(outputs) + "\n").encode())
            if errors:
                batch.error_file_id = f"file-fake-{len(self.files) + 1}"
                self.files[batch.error_file_id] = ("batch_output", ("\n".join(errors) + "\n").encode())
            batch.status = "completed"

    def _view(self, batch: _Batch) -> dict[str, Any]:
        return {"id": batch.id, "object": "batch", "endpoint": batch.endpoint, "errors": None,
                "input_file_id": batch.input_file_id, "completion_window": "24h", "status": batch.status,
                "output_file_id": batch.output_file_id, "error_file_id": batch.error_file_id,
                "created_at": int(batch.created_at), "request_counts": dict(batch.counts), "metadata": None}


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
