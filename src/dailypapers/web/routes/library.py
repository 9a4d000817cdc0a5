"""A member's library on the site: save, collect, mark read and note a paper (in place with
site.js, plain forms without), the library and collection pages, shared and public collections,
and their exports.

Every page here shows one member's own data or a collection that may be unshared at any moment:
none is kept by a shared cache (``private, no-store``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from dailypapers.services import collections, library, ratelimits
from dailypapers.services.citations import CitationFormat
from dailypapers.services.library import PaperMark
from dailypapers.web import inplace
from dailypapers.web.auth import CSRF, CurrentUser, Viewed, Viewer, limit_by_user
from dailypapers.web.deps import FormId, PathId, get_db
from dailypapers.web.rendering import render
from dailypapers.web.routes.exports import Format, export_response

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
LIMIT = [*CSRF, limit_by_user(ratelimits.LIBRARY_USER)]
PRIVATE = {"cache-control": "private, no-store"}
Text = Annotated[str, Form(max_length=20_000)]
Name = Annotated[str, Form(max_length=200)]


def private(response: Response) -> Response:
    response.headers["cache-control"] = PRIVATE["cache-control"]
    return response


def _answer(request: Request, db: Session, viewer: Viewer, mark: PaperMark, *, next_url: str,
            panel: str, said: str) -> Response:
    """The changed part in place (site.js): the paper page's panel or a card's save box; else
    back to the page the form was on."""
    if not inplace.wants_fragment(request):
        return inplace.back(request, next_url, default=f"/papers/{mark.key}", anchor=f"t-{mark.id}")
    if panel == "1":
        panel_view = collections.paper_panel(db=db, user_id=viewer.user.id,  # type: ignore[union-attr]
                                             paper_id=mark.id, mark=mark)
        return inplace.fragment(request, "library/_panel.html", {"panel": panel_view}, status=said)
    viewer.preload_votes(db=db, paper_ids=[mark.id])
    return inplace.fragment(request, "library/_save.html", {"card": mark}, status=said)


def _collection(collection: int | None, new_collection: str) -> library.CollectionRef:
    return new_collection if new_collection.strip() else collection


@router.post("/papers/{key:path}/save", dependencies=LIMIT)
def save(request: Request, key: str, db: DB, user: CurrentUser, viewer: Viewed,
         collection: FormId = None, new_collection: Name = "",
         next: Annotated[str, Form()] = "", panel: Annotated[str, Form()] = "") -> Response:
    with db.begin():
        mark = library.save_paper(db=db, user_id=user.id, paper_key=key,
                                  collection=_collection(collection, new_collection))
    return _answer(request, db, viewer, mark, next_url=next, panel=panel,
                   said="Saved to your library.")


@router.post("/papers/{key:path}/unsave", dependencies=LIMIT)
def unsave(request: Request, key: str, db: DB, user: CurrentUser, viewer: Viewed,
           collection: FormId = None, next: Annotated[str, Form()] = "",
           panel: Annotated[str, Form()] = "") -> Response:
    with db.begin():
        mark = library.unsave_paper(db=db, user_id=user.id, paper_key=key, collection=collection)
    said = "Removed from the collection." if mark.saved else "Removed from your library."
    return _answer(request, db, viewer, mark, next_url=next, panel=panel, said=said)


@router.post("/papers/{key:path}/read", dependencies=LIMIT)
def mark_read(request: Request, key: str, db: DB, user: CurrentUser, viewer: Viewed,
              read: Annotated[str, Form()] = "1", next: Annotated[str, Form()] = "",
              panel: Annotated[str, Form()] = "") -> Response:
    with db.begin():
        mark = library.mark_read(db=db, user_id=user.id, paper_key=key, read=read != "0")
    return _answer(request, db, viewer, mark, next_url=next, panel=panel,
                   said="Marked read." if mark.read else "Marked unread.")


@router.post("/papers/{key:path}/note", dependencies=LIMIT)
def note(request: Request, key: str, db: DB, user: CurrentUser, viewer: Viewed,
         note: Text = "", next: Annotated[str, Form()] = "") -> Response:
    with db.begin():
        mark = library.set_note(db=db, user_id=user.id, paper_key=key, note=note)
    return _answer(request, db, viewer, mark, next_url=next, panel="1",
                   said="Note saved." if mark.note else "Note removed.")


@router.get("/library")
def library_page(request: Request, db: DB, user: CurrentUser, viewer: Viewed,
                 unread: Annotated[bool, Query()] = False) -> Response:
    view = collections.library_view(db=db, user_id=user.id, unread_only=unread)
    viewer.preload_votes(db=db, paper_ids=[entry.card.id for entry in view.entries])
    return private(render(request, "library/library.html", {"view": view, "section": "library"}, db=db))


@router.post("/library/collections", dependencies=LIMIT)
def create_collection(request: Request, db: DB, user: CurrentUser, name: Name = "",
                      description: Text = "", visibility: Annotated[str, Form()] = "private") -> Response:
    with db.begin():
        cid = collections.create_collection(db=db, user_id=user.id, name=name,
                                            description=description, visibility=visibility)
    return RedirectResponse(f"/library/collections/{cid}", status_code=303)


@router.get("/library/collections/{cid}")
def collection_page(request: Request, cid: PathId, db: DB, viewer: Viewed) -> Response:
    view = collections.collection_view(db=db, collection_id=cid,
                                       viewer_id=viewer.user.id if viewer.user else None)
    viewer.preload_votes(db=db, paper_ids=[card.id for card in view.cards])
    export = f"/exports/library/collections/{cid}"
    return private(render(request, "library/collection.html",
                          {"view": view, "export_path": export, "section": "library"}, db=db))


@router.get("/c/{token}")
def shared_page(request: Request, token: str, db: DB, viewer: Viewed) -> Response:
    view = collections.shared_collection(db=db, token=token,
                                         viewer_id=viewer.user.id if viewer.user else None)
    viewer.preload_votes(db=db, paper_ids=[card.id for card in view.cards])
    return private(render(request, "library/collection.html",
                          {"view": view, "export_path": f"/exports/c/{token}", "shared": True}, db=db))


@router.get("/collections")
def public_page(request: Request, db: DB) -> Response:
    return private(render(request, "library/public.html",
                          {"collections": collections.public_collections(db=db)}, db=db))


@router.post("/library/collections/{cid}/settings", dependencies=LIMIT)
def collection_settings(request: Request, cid: PathId, db: DB, user: CurrentUser, name: Name = "",
                        description: Text = "",
                        visibility: Annotated[str, Form()] = "private") -> Response:
    with db.begin():
        collections.rename_collection(db=db, user_id=user.id, collection_id=cid, name=name,
                                      description=description)
        collections.set_visibility(db=db, user_id=user.id, collection_id=cid, visibility=visibility)
    return RedirectResponse(f"/library/collections/{cid}", status_code=303)


@router.post("/library/collections/{cid}/share-link", dependencies=LIMIT)
def new_share_link(request: Request, cid: PathId, db: DB, user: CurrentUser) -> Response:
    with db.begin():
        collections.new_share_link(db=db, user_id=user.id, collection_id=cid)
    return RedirectResponse(f"/library/collections/{cid}", status_code=303)


@router.post("/library/collections/{cid}/delete", dependencies=LIMIT)
def delete_collection(request: Request, cid: PathId, db: DB, user: CurrentUser) -> Response:
    with db.begin():
        collections.delete_collection(db=db, user_id=user.id, collection_id=cid)
    return RedirectResponse("/library", status_code=303)


def _export(request: Request, view: collections.CollectionView, fmt: CitationFormat) -> Response:
    return private(export_response(request, cards=view.cards, fmt=fmt, name=view.info.name))


@router.get("/exports/library.{fmt}")
def export_library(request: Request, fmt: Format, db: DB, user: CurrentUser) -> Response:
    view = collections.library_view(db=db, user_id=user.id)
    cards = [entry.card for entry in view.entries]
    return private(export_response(request, cards=cards, fmt=fmt, name="library"))


@router.get("/exports/library/collections/{cid}.{fmt}")
def export_collection(request: Request, cid: PathId, fmt: Format, db: DB, viewer: Viewed) -> Response:
    view = collections.collection_view(db=db, collection_id=cid,
                                       viewer_id=viewer.user.id if viewer.user else None)
    return _export(request, view, fmt)


@router.get("/exports/c/{token}.{fmt}")
def export_shared(request: Request, token: str, fmt: Format, db: DB) -> Response:
    return _export(request, collections.shared_collection(db=db, token=token, viewer_id=None), fmt)
