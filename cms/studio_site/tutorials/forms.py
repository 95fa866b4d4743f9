"""Upload limits for documents (notebooks above all) in the Wagtail admin."""

from __future__ import annotations

from django import forms
from django.conf import settings
from wagtail.documents.forms import BaseDocumentForm


class LimitedDocumentForm(BaseDocumentForm):
    """Rejects documents over the size cap and .ipynb files that are not notebooks."""

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is None or not hasattr(upload, "size"):
            return upload
        name = getattr(upload, "name", "") or ""
        limit = settings.LS_DOCUMENT_MAX_UPLOAD_SIZE
        if name.lower().endswith(".ipynb"):
            limit = settings.LS_NOTEBOOK_MAX_UPLOAD_SIZE
        if upload.size > limit:
            raise forms.ValidationError(
                f"{name} is {upload.size // 1024} KiB; the limit for this kind of file is "
                f"{limit // 1024} KiB. Clear large outputs or split the file, then upload again."
            )
        if name.lower().endswith(".ipynb"):
            import nbformat

            upload.seek(0)
            try:
                nbformat.validate(nbformat.reads(upload.read().decode("utf-8"), as_version=4))
            except Exception as error:
                raise forms.ValidationError(
                    f"{name} is not a valid Jupyter notebook ({type(error).__name__}). "
                    "Save it from JupyterLab and upload it again."
                ) from error
            finally:
                upload.seek(0)
        return upload
