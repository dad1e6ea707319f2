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
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from integrations.attachments_fs import FileAttachmentStore
from jiuzhu.web.formrender.attachments import AttachmentStore
from jiuzhu.web.formrender.compile import FormRefused, compile_form
from jiuzhu.web.formrender.model import Form
from jiuzhu.web.formrender.parse import apply_action, parse_submission, validate
from jiuzhu.web.formrender.render import STATIC, _env, render_form


def find_forms(folders: list[Path]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*-schema.json")):
            found.setdefault(path.name.removesuffix("-schema.json"), path)
    return found


def load(path: Path) -> Form:
    ui = path.with_name(path.name.removesuffix("-schema.json") + "-uischema.json")
    return compile_form(
        json.loads(path.read_text(encoding="utf-8")),
        json.loads(ui.read_text(encoding="utf-8")) if ui.exists() else None,
        source=path.name,
        ui_source=ui.name if ui.exists() else None,
    )


def preview_app(folders: list[Path], attachments: AttachmentStore) -> FastAPI:
    forms = find_forms(folders)
    app = FastAPI(title="表单预览", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    page = _env.get_template("preview.html")

    def form_of(name: str) -> tuple[Path, Form | FormRefused]:
        if name not in forms:
            raise HTTPException(404, f"没有表单 {name}")
        try:
            return forms[name], load(forms[name])
        except FormRefused as refused:
            return forms[name], refused

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page.render(title="表单预览", forms=sorted(forms), body=None, result=None, refused=None)

    @app.get("/forms/{name}", response_class=HTMLResponse)
    def show(name: str) -> str:
        _, form = form_of(name)
        if isinstance(form, FormRefused):
            return page.render(title=name, forms=None, body=None, result=None, refused=form)
        body = render_form(form, None, full=True, action=f"/forms/{name}", drafts=False)
        return page.render(title=form.root.title or name, forms=None, body=body, result=None, refused=None)

    @app.post("/forms/{name}", response_class=HTMLResponse)
    async def post(name: str, request: Request) -> str:
        _, form = form_of(name)
        if isinstance(form, FormRefused):
            return page.render(title=name, forms=None, body=None, result=None, refused=form)
        async with request.form() as posted:  # closes the uploaded files' temporary files
            sub = parse_submission(form, posted, attachments=attachments)
        data: dict[str, Any] = apply_action(form, sub.data, sub.action)
        errors = sub.errors + (validate(form, data) if sub.completes else [])
        result = json.dumps(data, ensure_ascii=False, indent=2) if sub.completes and not errors else None
        body = render_form(form, data, errors, submitted=True, full=True, action=f"/forms/{name}", drafts=False)
        return page.render(title=form.root.title or name, forms=None, body=body, result=result, refused=None)

    return app


def main() -> None:  # pragma: no cover - a developer's command
    import uvicorn

    folders = [Path(a) for a in sys.argv[1:]] or [Path("forms")]
    store = FileAttachmentStore(Path(tempfile.gettempdir()) / "jiuzhu-preview-attachments")
    uvicorn.run(preview_app(folders, store), host="127.0.0.1", port=8010)


if __name__ == "__main__":  # pragma: no cover
    main()
