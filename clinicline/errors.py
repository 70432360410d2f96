"""Keeping PHI out of error reports and logs.

Exception messages can carry values (``ValueError: invalid date '1958-04-02'``), request
bodies carry form input, local variables carry decrypted fields. None of it may reach a
log file or an error page, so reports and log lines keep only the shape of a failure.
"""

import logging
import traceback

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

REDACTED = "<redacted>"

SETTINGS_SHOWN = {"DEBUG", "PRODUCTION", "TIME_ZONE", "USE_TZ", "INSTALLED_APPS", "MIDDLEWARE"}


class PHISafeExceptionReporterFilter(SafeExceptionReporterFilter):
    def get_safe_settings(self) -> dict:
        return {k: v for k, v in super().get_safe_settings().items() if k in SETTINGS_SHOWN}

    def get_post_parameters(self, request):  # noqa: ANN001, ANN201 (Django's signature)
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}

    def get_traceback_frame_variables(self, request, tb_frame):  # noqa: ANN001, ANN201
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def is_active(self, request) -> bool:  # noqa: ANN001
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

    def formatException(self, ei) -> str:  # noqa: ANN001, N802 (logging's name)
        exc_type, exc, tb = ei
        frames = "".join(traceback.format_tb(tb))
        return f"Traceback (most recent call last):\n{frames}{exc_type.__name__}: <redacted>"

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return stack_info


class PHISafeExceptionReporter(ExceptionReporter):
    """Error reports keep the exception's type and frames, never its message."""

    def get_traceback_data(self) -> dict:
        data = super().get_traceback_data()
        if "exception_value" in data:
            data["exception_value"] = REDACTED
        data.pop("exception_notes", None)
        data["unicode_hint"] = ""
        for frame in data.get("frames", []):
            if frame.get("exc_cause") is not None:
                frame["exc_cause"] = f"{type(frame['exc_cause']).__name__}: {REDACTED}"
        return data
