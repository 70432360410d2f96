from __future__ import annotations

from django import forms

from clinicline.triage import service, yamlio


class ProtocolUploadForm(forms.Form):
    file = forms.FileField(label="Protocol file (YAML)",
                           help_text="Download the version in force, edit it, upload it here.")

    def clean_file(self) -> str:
        """The file's text, once it has passed every check a protocol must pass."""
        upload = self.cleaned_data["file"]
        if upload.size > yamlio.MAX_CHARS * 4:  # four bytes per character at most
            raise forms.ValidationError(f"The file is over {yamlio.MAX_CHARS // 1024} KB.")
        try:
            text = upload.read().decode("utf-8-sig")  # a BOM from Windows editors is fine
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
        try:
            service.parse(text)
        except yamlio.ProtocolError as exc:
            raise forms.ValidationError([str(p) for p in exc.problems]) from None
        return text
