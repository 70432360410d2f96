"""Keeping PHI out of error reports and logs.

Exception messages can carry values (``ValueError: invalid date '1958-04-02'``), request
bodies carry form input, local variables carry decrypted fields. None of it may reach a
log file or an error page, so reports and log lines keep only the shape of a failure.
"""

import logging
import traceback
from collections.abc import ItemsView
from types import FrameType, TracebackType
from typing import Any

from django.http import HttpRequest
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

REDACTED = "<redacted>"

# What sys.exc_info() returns, as logging hands it to formatException.
ExcInfo = (tuple[type[BaseException], BaseException, TracebackType | None]
           | tuple[None, None, None])

SETTINGS_SHOWN = {"DEBUG", "PRODUCTION", "TIME_ZONE", "USE_TZ", "INSTALLED_APPS", "MIDDLEWARE"}


class PHISafeExceptionReporterFilter(SafeExceptionReporterFilter):
    def get_safe_settings(self) -> dict[str, Any]:
        return {k: v for k, v in super().get_safe_settings().items() if k in SETTINGS_SHOWN}

    def get_post_parameters(self, request: HttpRequest | None) -> dict[str, Any]:
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}

    def get_traceback_frame_variables(self, request: HttpRequest | None,
                                      tb_frame: FrameType) -> ItemsView[str, Any]:
        # Items of a dict, as Django's own returns them.
        return {name: self.cleansed_substitute for name in tb_frame.f_locals}.items()

    def is_active(self, request: HttpRequest | None) -> bool:
        return True  # also when DEBUG is on


class PHISafeFormatter(logging.Formatter):
    """Tracebacks keep file, line and exception type; the exception's message is dropped."""

    def format(self, record: logging.LogRecord) -> str:
        # Another handler's formatter may have cached the whole traceback, message and all,
        # on the record (logging does that): format it afresh, leave the record as it was.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 (logging's name)
        _, exc, tb = ei
        frames = "".join(traceback.format_tb(tb))
        return f"Traceback (most recent call last):\n{frames}{type(exc).__name__}: <redacted>"

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return stack_info


class PHISafeExceptionReporter(ExceptionReporter):
    """Error reports keep the exception's type and frames, never its message."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if "exception_value" in data:
            data["exception_value"] = REDACTED
        data.pop("exception_notes", None)
        data["unicode_hint"] = ""
        for frame in data.get("frames", []):
            if frame.get("exc_cause") is not None:
                frame["exc_cause"] = f"{type(frame['exc_cause']).__name__}: {REDACTED}"
        return data
