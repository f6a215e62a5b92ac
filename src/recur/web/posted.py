"""A POST's form, read on the event loop before its route runs in the thread pool.

Back-office routes are plain `def` functions: FastAPI runs them in its thread pool,
so the synchronous services they call (the database, PDFs, password hashing) never
hold the event loop and every other request of the process. Reading the body is the
one step that must be awaited, and this dependency takes it.
"""

from typing import Annotated

from fastapi import Depends, Request

from recur.web.forms import Form


async def posted_form(request: Request) -> Form:
    return Form(await request.form())


Posted = Annotated[Form, Depends(posted_form)]
