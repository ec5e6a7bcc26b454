"""`Idempotency-Key` on creations and actions: a retry replays the first result and creates nothing new.

The key is claimed by inserting a row unique per (user, key) in the transaction of the write; a
concurrent retry waits on that row and, once the first request commits, replays its answer. A failed
request rolls its claim back, so a retry runs again."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response

from taizhang.api.errors import error_response
from taizhang.api.models import IdempotencyRecord
from taizhang.core import clock, rows

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("ETag", "Location")


def _file_fingerprint(upload: Any) -> dict[str, Any]:
    digest = hashlib.sha256()
    if hasattr(upload, "chunks"):
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
    return {"name": getattr(upload, "name", ""), "size": getattr(upload, "size", 0), "sha256": digest.hexdigest()}


def fingerprint(request: Request) -> str:
    """A hash of what the request asks for: method, path and body (uploaded files by content)."""
    data: Any = request.data
    if isinstance(data, QueryDict):
        data = {key: data.getlist(key) for key in sorted(data.keys())}
    files = {key: [_file_fingerprint(f) for f in request.FILES.getlist(key)] for key in sorted(request.FILES.keys())}
    body = json.dumps({"data": data, "files": files}, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    text = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Run on every creation and action: written out, since building them through the ORM costs many times what
# they take to run.
TABLE = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
FIELDS = {field.name: field for field in IdempotencyRecord._meta.concrete_fields}
CLAIM_FIELDS = [FIELDS[name] for name in (
    "user", "key", "method", "path", "body_hash", "status", "response_body", "response_headers", "created_at")]
CLAIM_SQL = (f"INSERT INTO {TABLE} ({', '.join(rows.column(field) for field in CLAIM_FIELDS)}) "
             f"VALUES ({', '.join(['%s'] * len(CLAIM_FIELDS))}) "
             'ON CONFLICT ("user_id", "key") DO NOTHING RETURNING "id"')
# The body and headers go as JSON text, which both databases take for a JSON column.
ANSWER_SQL = f'UPDATE {TABLE} SET "status" = %s, "response_body" = %s, "response_headers" = %s WHERE "id" = %s'


def _claim(request: Request, key: str, body_hash: str) -> int | IdempotencyRecord:
    """The id of the new record once this request holds the key, or the earlier record for the key.

    One `INSERT … ON CONFLICT DO NOTHING`: no savepoint. A concurrent holder of the key makes it wait
    until that request commits (nothing inserted: replay) or rolls back (inserted: run)."""
    user: Any = request.user
    values = [user.pk, key, str(request.method), request.path[:500], body_hash, 0, None, {}, clock.now()]
    params = [field.get_db_prep_save(value, connection) for field, value in zip(CLAIM_FIELDS, values, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, params)
        row = cursor.fetchone()
    if row is not None:
        return int(row[0])
    return IdempotencyRecord.objects.get(user=user, key=key)


def _answer(claim: int, response: Response) -> None:
    """Keep the response for retries of the request that holds the key."""
    body = json.dumps(response.data, cls=DjangoJSONEncoder)
    headers = json.dumps({name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)})
    with connection.cursor() as cursor:
        cursor.execute(ANSWER_SQL, [response.status_code, body, headers, claim])


def _replay(record: IdempotencyRecord, body_hash: str) -> Response:
    if record.body_hash != body_hash:
        return error_response("idempotency.key_reused",
                              _("This Idempotency-Key was already used for a different request."), 422)
    response = Response(record.response_body, status=record.status)
    for name, value in (record.response_headers or {}).items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(request: Request, perform: Callable[[], Response]) -> Response:
    """Run `perform` once per Idempotency-Key of the user; without the header, just run it."""
    key = request.headers.get(HEADER)
    if key is None:
        return perform()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        return error_response("idempotency.key_invalid",
                              _("An Idempotency-Key is 1 to 255 printable characters."), 422)
    body_hash = fingerprint(request)
    with transaction.atomic():
        claim = _claim(request, key, body_hash)
        if isinstance(claim, IdempotencyRecord):
            return _replay(claim, body_hash)
        response = perform()
        if response.status_code >= 300:
            transaction.set_rollback(True)
            return response
        _answer(claim, response)
    return response
