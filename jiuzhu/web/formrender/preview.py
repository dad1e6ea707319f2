"""A local preview of forms for designers: ``python -m jiuzhu.web.formrender.preview forms/``.

It draws each ``*-schema.json`` (with its ``*-uischema.json``) found under the
given folders, reads posts back, validates them as the engine would and shows
the data. It has no sign-in and is not mounted in ``jiuzhu serve``: run it on
127.0.0.1 only.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from engine.forms.validate import FormRef
from integrations.attachments_fs import FileAttachmentStore
from jiuzhu.web.formrender.attachments import AttachmentStore
from jiuzhu.web.formrender.compile import FormRefused
from jiuzhu.web.formrender.page import handle_post, render_refusal, show_form
from jiuzhu.web.formrender.render import STATIC, env


def find_forms(folders: list[Path]) -> dict[str, FormRef]:
    found: dict[str, FormRef] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*-schema.json")):
            ui = path.with_name(path.name.removesuffix("-schema.json") + "-uischema.json")
            schema = json.loads(path.read_text(encoding="utf-8"))
            ui_schema = json.loads(ui.read_text(encoding="utf-8")) if ui.exists() else None
            ref = FormRef(path.name, schema, ui.name if ui.exists() else None, ui_schema)
            found.setdefault(path.name.removesuffix("-schema.json"), ref)
    return found


def preview_app(folders: list[Path], attachments: AttachmentStore) -> FastAPI:
    forms = find_forms(folders)
    app = FastAPI(title="表单预览", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    page = env.get_template("preview.html")

    def ref_of(name: str) -> FormRef:
        if name not in forms:
            raise HTTPException(404, f"没有表单 {name}")
        return forms[name]

    def title(ref: FormRef) -> str:
        return str(ref.schema.get("title") or ref.schema_file) if isinstance(ref.schema, dict) else ref.schema_file

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page.render(title="表单预览", forms=sorted(forms), body=None, result=None)

    @app.get("/forms/{name}", response_class=HTMLResponse)
    def show(name: str) -> str:
        ref = ref_of(name)
        body = show_form(ref, None, action=f"/forms/{name}", drafts=False)
        return page.render(title=title(ref), forms=None, body=body, result=None)

    @app.post("/forms/{name}", response_class=HTMLResponse)
    async def post(name: str, request: Request) -> str:
        ref = ref_of(name)
        try:
            async with request.form() as posted:  # closes the uploaded files' temporary files
                out = handle_post(ref, posted, attachments=attachments, action=f"/forms/{name}", drafts=False)
        except FormRefused as refused:
            return page.render(title=title(ref), forms=None, body=render_refusal(refused), result=None)
        result = json.dumps(out.data, ensure_ascii=False, indent=2) if out.complete else None
        return page.render(title=title(ref), forms=None, body=out.html, result=result)

    return app


def main() -> None:  # pragma: no cover - a developer's command
    import uvicorn

    folders = [Path(a) for a in sys.argv[1:]] or [Path("forms")]
    store = FileAttachmentStore(Path(tempfile.gettempdir()) / "jiuzhu-preview-attachments")
    uvicorn.run(preview_app(folders, store), host="127.0.0.1", port=8010)


if __name__ == "__main__":  # pragma: no cover
    main()
