"""Postmark's ``POST /email``, which the app's email notifications go through."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .api_base import ApiRoom, arrival_of, json_body
from .sim_clock import iso_ms


def postmark_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"ErrorCode": code, "Message": message}, status_code=status)


class PostmarkApi(ApiRoom):

    async def postmark_email(self, request: Request) -> Response:
        """Postmark's ``POST /email``: checks the server token and the message, then records it."""
        world = self.world
        token = request.headers.get("x-postmark-server-token", "")
        try:
            data = await json_body(request)
        except ValueError:
            return postmark_error(422, 402, "Received invalid JSON input.")
        with world.lock:
            if not token or token != world.postmark_token:
                return postmark_error(401, 10, "Request does not contain a valid Server token.")
            sender, to = str(data.get("From") or ""), str(data.get("To") or "")
            if not sender or "@" not in sender:
                return postmark_error(422, 300, "Invalid 'From' address: '" + sender + "'.")
            if not to or "@" not in to:
                return postmark_error(422, 300, "Invalid 'To' address: '" + to + "'.")
            if not (data.get("HtmlBody") or data.get("TextBody")):
                return postmark_error(422, 300, "Provide either email TextBody or HtmlBody or both.")
            rejects = world.email_rejects
            if rejects.remaining > 0:
                rejects.remaining -= 1
                return postmark_error(422, rejects.error_code, rejects.message)
            message_id = str(uuid.uuid4())
            submitted = iso_ms(arrival_of(request))
            world.emails.append({
                "MessageID": message_id, "SubmittedAt": submitted, "From": sender, "To": to,
                "Subject": str(data.get("Subject") or ""), "TextBody": data.get("TextBody"),
                "HtmlBody": data.get("HtmlBody"), "MessageStream": data.get("MessageStream") or "outbound",
            })
        return JSONResponse({"To": to, "SubmittedAt": submitted, "MessageID": message_id, "ErrorCode": 0,
                             "Message": "OK"})
