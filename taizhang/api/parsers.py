"""The API's JSON parser: DRF's, also refusing arrays or objects nested too deep for Python's parser."""

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:  # a malformed body (400, with the error handler's message), not a server error
            raise ParseError from None
