"""Log lines: one line per event, each carrying the request id of the request it belongs to."""

import logging

from kassa.common.request_id import META_KEY, current_request_id


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request), for the formatter to print."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id == "-":
            # django.request's "Not Found: /x" is logged after the middleware has finished.
            meta = getattr(getattr(record, "request", None), "META", None)
            if isinstance(meta, dict):
                request_id = meta.get(META_KEY, "-")
        record.request_id = request_id
        return True


class OneLineFormatter(logging.Formatter):
    """Folds multi-line messages and tracebacks into one line, so a log collector that splits on
    newlines keeps an event (and its traceback) together."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "").replace("\n", "\\n")


class OneWarningLine(logging.Filter):
    """Turns a record into one WARNING line without its traceback: for what Django logs at ERROR
    with the exception attached but a client caused (django.security's refusals of a bad Host
    or an oversized body), which says all it needs in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = (
                logging.WARNING,
                logging.getLevelName(logging.WARNING),
            )
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True
