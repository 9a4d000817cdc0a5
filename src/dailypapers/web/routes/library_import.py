"""Importing a reference file (BibTeX, RIS, Zotero CSL-JSON) into a collection: the upload form
and its report, which lists every entry, matched or not."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dailypapers.services import collections, ratelimits
from dailypapers.services.library_import import import_references
from dailypapers.sources.references import ReferenceFileError
from dailypapers.web.auth import CSRF, CurrentUser, limit_by_user
from dailypapers.web.deps import MAX_ID, FormId, get_db
from dailypapers.web.rendering import render
from dailypapers.web.routes.library import Name, private

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]


def _form(request: Request, db: Session, user_id: int, *, chosen: int | None, error: str = "",
          status: int = 200) -> Response:
    context = {"collections": collections.collections_of(db=db, user_id=user_id), "chosen": chosen,
               "error": error, "section": "library"}
    return private(render(request, "library/import.html", context, status=status, db=db))


@router.get("/library/import")
def import_page(request: Request, db: DB, user: CurrentUser,
                collection: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> Response:
    return _form(request, db, user.id, chosen=collection)


@router.post("/library/import", dependencies=[*CSRF, limit_by_user(ratelimits.IMPORT_USER)])
def import_file(request: Request, db: DB, user: CurrentUser,
                      file: Annotated[UploadFile | None, File()] = None, collection: FormId = None,
                      new_collection: Name = "") -> Response:
    # A plain def: the matching runs on a worker thread, not the event loop. The body limit
    # (DAILYPAPERS_MAX_BODY_BYTES) already bounds the upload, spooled by the form parser.
    content = file.file.read() if file is not None else b""
    name = file.filename or "" if file is not None else ""
    target: int | str | None = new_collection if new_collection.strip() else collection
    try:
        with db.begin():
            report = import_references(db=db, user_id=user.id, filename=name, content=content,
                                       collection=target)
    except ReferenceFileError as exc:
        return _form(request, db, user.id, chosen=collection, status=400,
                     error=f"{name or 'The file'}: {exc}. Nothing was imported.")
    return private(render(request, "library/import_result.html", {"report": report, "filename": name,
                                                                  "section": "library"}, db=db))
