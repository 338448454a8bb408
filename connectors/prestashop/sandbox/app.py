"""The Starlette app that serves ``/api/`` like a PrestaShop 8.2 shop.

``create_app(config)`` builds the app: the store (memory or SQLite), the seed data, the shop model,
the webhook emitter and the fault injector. Requests go through the dispatcher's order of checks
(reference §1): webservice enabled, key present (401 plain text), key valid (codes 17/18/20/21),
shop context (999), ``language`` (78-81), resource (27/26), method (23/101/25), then the handler.
Sandbox controls live under ``/_sandbox/`` (faults, request log, clock, webhook status, health) and require a
valid webservice key, sent the same way as for ``/api/``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
import random
import time
from collections.abc import AsyncIterator
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import orders, render, writes
from .config import ALL_METHODS, ApiKey, SandboxConfig
from .faults import PHP_NOTICE_TEXT, WRITE_METHODS, FaultInjector, Faults
from .model import ShopModel
from .prices import parse_price_params, price_extras
from .query import (
    candidate_rows,
    parse_display,
    parse_filters,
    parse_languages,
    parse_limit,
    parse_sort,
    select,
)
from .schema import CORE_RESOURCES, PSWS_VERSION, Resource
from .seed import seed_shop
from .store import Store
from .webhooks import WebhookEmitter
from .wserrors import EmptyAnswer, PlainAnswer, WsError, did_you_mean

__all__ = ["create_app", "Sandbox"]

log = logging.getLogger(__name__)
_REALM = ('Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the login. '
          'No password required."')
_XML = "text/xml;charset=utf-8"
_JSON = "application/json"


class Sandbox:
    """The shop state shared by all requests of one app."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.keys = config.key_lookup()
        seed = config.random_seed if config.random_seed is not None else config.seed
        self.store = Store(config.db_path)
        resumed = not self.store.is_empty()
        # A shop reopened from SQLite must not replay the random draws of its first run (order
        # references, secure keys): the generator is seeded with how far the shop has come.
        model_seed: int | str = f"{seed}/{sorted(self.store.next_ids.items())}" if resumed else seed
        self.model = ShopModel(self.store, random.Random(model_seed))
        seed_shop(self.model, config.seed, config.shop_name, random.Random(seed))
        self.emitter = WebhookEmitter(config, self.model)
        self.model.on_change = self.emitter.notify
        self.faults = FaultInjector(config.faults, seed)
        self.faults.catalog_size = lambda: self.model.store.count("products")


def _key_from(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:6].lower() == "basic ":
        try:
            user = base64.b64decode(auth[6:].strip()).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            user = ""
        return user.split(":", 1)[0]
    return request.query_params.get("ws_key")


def _is_json(request: Request) -> bool:
    h, q = request.headers, request.query_params
    for value in (h.get("io-format"), h.get("output-format"), q.get("output_format"), q.get("io_format")):
        if value is not None:
            return value == "JSON"
    return False


class _Call:
    """One API request being answered (collects the response headers PrestaShop adds)."""

    def __init__(self, sandbox: Sandbox, request: Request, body: bytes) -> None:
        self.sb, self.request, self.body = sandbox, request, body
        self.json = _is_json(request)
        self.authenticated = False
        self.started = time.perf_counter()
        self.ws = str(request.base_url) + "api/"

    def headers(self, body: bytes | None, error: bool) -> dict[str, str]:
        out = {"Access-Time": str(int(time.time())), "X-Powered-By": "PrestaShop Webservice",
               "Execution-Time": f"{time.perf_counter() - self.started:.3f}"}
        if self.authenticated:
            out["PSWS-Version"] = PSWS_VERSION
        if body and not error:
            out["Content-Sha1"] = hashlib.sha1(body).hexdigest()
        return out

    def answer(self, status: int, body: bytes | str, error: bool = False, extra: dict[str, str] | None = None) -> Response:
        data = body.encode("utf-8") if isinstance(body, str) else body
        headers = self.headers(data, error)
        if extra:
            headers.update(extra)
        if not error and data and self.request.headers.get("local-content-sha1") == headers.get("Content-Sha1"):
            return Response(status_code=304, headers=headers)
        if self.request.method == "HEAD":
            return Response(status_code=status, headers=headers, media_type=_JSON if self.json else _XML)
        return Response(data, status_code=status, headers=headers, media_type=_JSON if self.json else _XML)

    def error(self, exc: WsError) -> Response:
        body = render.json_errors(exc.errors) if self.json else render.xml_errors(exc.errors)
        extra = {"WWW-Authenticate": _REALM} if exc.status == 401 and exc.errors[0][0] in (17, 18, 20, 21) else None
        return self.answer(exc.status, body, error=True, extra=extra)

    # -- the dispatcher -------------------------------------------------------------------------
    def run(self, path: str, notice: bool) -> Response:
        try:
            return self._dispatch(path, notice)
        except WsError as exc:
            return self.error(exc)
        except EmptyAnswer as exc:
            return Response(status_code=exc.status, headers=self.headers(None, True))
        except PlainAnswer as exc:
            return Response(exc.body, status_code=exc.status, headers=self.headers(None, True),
                            media_type=exc.content_type)
        except Exception as exc:  # a sandbox bug must still answer like PrestaShop's exception handler
            log.exception("unexpected error while serving %s %s", self.request.method, path)
            return self.error(WsError(500, 0, f"Internal error in the sandbox ({type(exc).__name__}); "
                                      "see the sandbox log for the traceback."))

    def _auth(self) -> ApiKey:
        if not self.sb.config.webservice_enabled:
            raise WsError(503, 22, "The PrestaShop webservice is disabled. Please activate it in the PrestaShop "
                          "Back Office")
        raw = _key_from(self.request)
        if raw is None:
            raise PlainAnswer(401, "401 Unauthorized")
        key = raw.strip()
        if key == "":
            raise WsError(401, 17, "Authentication key is empty")
        if len(key) != 32:
            raise WsError(401, 18, "Invalid authentication key format")
        account = self.sb.keys.get(key)
        if account is None or not account.active:
            raise WsError(401, 20, "Authentification key is not active",
                          (21, "No permission for this authentication key"))
        if account.permissions is not None and not any(account.permissions.values()):
            raise WsError(401, 21, "No permission for this authentication key")
        self.authenticated = True
        return account

    def _dispatch(self, path: str, notice: bool) -> Response:
        try:
            account = self._auth()
        except PlainAnswer as exc:
            return Response(exc.body, status_code=401, headers={**self.headers(None, True), "WWW-Authenticate": _REALM},
                            media_type="text/plain; charset=utf-8")
        q = self.request.query_params
        for name in ("id_shop_group", "id_group_shop"):
            value = q.get(name)
            if value is not None and value.isdigit() and value != "1":
                raise WsError(500, 999, "This shop group doesn't have shops")
        shop = q.get("id_shop")
        if shop is not None and shop != "all" and not (shop.isdigit() and self.sb.store.get("shops", int(shop))):
            raise WsError(404, 999, "This shop id does not exist")
        model = self.sb.model
        langs = parse_languages(q.get("language"), model.languages(), set(model.languages(active_only=False)))
        parts = [p for p in path.split("/")]
        name = parts[0] if parts else ""
        method = (q.get("ps_method") or self.request.method).upper()
        if notice:
            raise WsError(500, 8, PHP_NOTICE_TEXT)
        if name == "":
            if self.json:
                raise PlainAnswer(500, "PHP Fatal error:  Uncaught TypeError: array_filter(): Argument #1 ($array) "
                                  "must be of type array, string given in classes/webservice/WebserviceOutputJSON.php")
            granted = {r: set(account.granted(r)) - set(res.forbidden_methods)
                       for r, res in model.resources.items() if account.granted(r)}
            return self.answer(200, render.xml_root(self.ws, model.store.settings.get("PS_SHOP_NAME", ""),
                                                    granted, model.resources))
        if name not in CORE_RESOURCES:
            raise WsError(400, 27, f'Resource of type "{name}" does not exists. Did you mean: '
                          f'"{did_you_mean(name, CORE_RESOURCES)}"? The full list is: "'
                          + '", "'.join(CORE_RESOURCES) + '"')
        resource = model.resources.get(name)
        if resource is None or not account.granted(name):
            raise WsError(401, 26, f'Resource of type "{name}" is not allowed with this authentication key')
        if method not in ALL_METHODS:
            raise WsError(405, 23, f"Method {method} is not valid")
        if method in resource.forbidden_methods:
            raise WsError(405, 101, f"Method {method} is not allowed for the resource {name}")
        if method not in account.granted(name):
            raise WsError(405, 25, f"Method {method} is not allowed for the resource {name} with this authentication key")
        raw_id = parts[1] if len(parts) > 1 and parts[1] != "" else None
        if method in ("GET", "HEAD"):
            return self._get(resource, raw_id, langs)
        if method == "DELETE":
            writes.delete(model, resource, raw_id, q.get("id"))
            model.store.commit()
            return Response(status_code=200, headers=self.headers(None, False))
        rows, posted = writes.write(model, resource, self.body, method, dict(q))
        model.store.commit()
        status = 201 if method == "POST" else 200
        if self.json:
            return self.answer(status, render.json_object(model, resource, rows, langs))
        return self.answer(status, render.xml_object(self.ws, model, resource, rows, None, langs))

    def _get(self, resource: Resource, raw_id: str | None, langs: list[int]) -> Response:
        q, model = self.request.query_params, self.sb.model
        numeric_langs = q.get("language") is not None
        prices = parse_price_params(q.multi_items())
        extras = price_extras(model, resource.name, prices)
        display = parse_display(q.get("display"), resource, prices if extras else ())
        if raw_id is not None:
            row = model.store.get(resource.name, int(raw_id)) if raw_id.isdigit() else None
            if row is None:
                raise EmptyAnswer(404)
            if display is None:
                if self.json:
                    return self.answer(200, render.json_object(model, resource, [row], langs, numeric_langs, extras))
                return self.answer(200, render.xml_object(self.ws, model, resource, [row], None, langs, extras))
            rows = [row]
        else:
            schema = q.get("schema")
            if schema is not None:
                if schema not in ("blank", "synopsis"):
                    raise WsError(400, 28, "Please select a schema of type 'synopsis' to get the whole schema "
                                  "informations (which fields are required, which kind of content...) or 'blank' "
                                  "to get an empty schema to fill before using POST request")
                if self.json:
                    return self.answer(200, render._json.encode({resource.node: []}))
                return self.answer(200, render.xml_schema(self.ws, resource, schema, langs))
            with_dates = q.get("date") == "1"
            filters = parse_filters(q.multi_items(), resource, with_dates)
            sort = parse_sort(q.get("sort"), resource, with_dates)
            limit = parse_limit(q.get("limit"))
            rows = select(candidate_rows(model.store, resource.name, filters), filters, sort, limit, langs)
        if self.json:
            return self.answer(200, render.json_list(model, resource, rows, display, langs, numeric_langs, extras))
        return self.answer(200, render.xml_list(self.ws, model, resource, rows, display, langs, extras))


def create_app(config: SandboxConfig) -> Starlette:
    """Build the sandbox app. Seeding happens here (synchronously), webhooks start with the app."""
    sandbox = Sandbox(config)

    async def api(request: Request) -> Response:
        path = request.path_params.get("path", "")
        if request.url.path.endswith("dispatcher.php"):
            path = request.query_params.get("url", "")
        body = await request.body() if request.method in ("POST", "PUT", "PATCH") else b""
        method = request.query_params.get("ps_method") or request.method
        decision = sandbox.faults.decide(method, path, body)
        if decision.status is not None and not decision.notice_xml:
            if decision.delay_s:
                await asyncio.sleep(decision.delay_s)
            return Response(decision.body, status_code=decision.status, headers=decision.headers,
                            media_type=decision.content_type)
        write = method.upper() in WRITE_METHODS
        sandbox.faults.in_flight += 1
        sandbox.faults.writes_in_flight += write
        try:
            if decision.delay_s:
                await asyncio.sleep(decision.delay_s)
            return _Call(sandbox, request, body).run(path, decision.notice_xml)
        finally:
            sandbox.faults.in_flight -= 1
            sandbox.faults.writes_in_flight -= write

    def _admin(request: Request) -> bool:
        key = (_key_from(request) or "").strip()
        account = sandbox.keys.get(key)
        return account is not None and account.active

    async def faults(request: Request) -> Response:
        if not _admin(request):
            return JSONResponse({"error": "a valid webservice key is required for /_sandbox/faults"}, 401)
        if request.method in ("PUT", "POST"):
            try:
                sandbox.faults.configure(Faults.model_validate_json(await request.body() or b"{}"))
            except ValidationError as exc:
                return JSONResponse({"error": f"invalid fault settings: {exc.errors(include_url=False)}"}, 400)
        elif request.method == "DELETE":
            sandbox.faults.configure(Faults())
        return JSONResponse(sandbox.faults.faults.model_dump())

    async def requests_log(request: Request) -> Response:
        """The API requests seen (``FaultInjector.requests``); DELETE empties the log."""
        if not _admin(request):
            return JSONResponse({"error": "a valid webservice key is required for /_sandbox/requests"}, 401)
        if request.method == "DELETE":
            sandbox.faults.requests.clear()
        return JSONResponse({"requests": list(sandbox.faults.requests)})

    async def clock(request: Request) -> Response:
        if not _admin(request):
            return JSONResponse({"error": "a valid webservice key is required for /_sandbox/clock"}, 401)
        if request.method == "PUT":
            data: dict[str, Any] = await request.json()
            try:
                sandbox.store.clock.set(frozen=data.get("frozen"), offset_s=data.get("offset_s"))
            except ValueError:
                return JSONResponse({"error": "frozen must be 'YYYY-MM-DD HH:MM:SS' or empty"}, 400)
        return JSONResponse({"now": sandbox.store.clock.now(), "frozen": sandbox.store.clock.frozen is not None})

    async def webhooks(request: Request) -> Response:
        if not _admin(request):
            return JSONResponse({"error": "a valid webservice key is required for /_sandbox/webhooks"}, 401)
        if request.method == "PUT":  # {"paused": true} switches the module off (see webhooks.py)
            try:
                data: dict[str, Any] = await request.json()
                paused = data["paused"]
                if not isinstance(paused, bool):
                    raise TypeError
            except (ValueError, TypeError, KeyError):
                return JSONResponse({"error": "send a JSON object with paused (true or false)"}, 400)
            sandbox.emitter.paused = paused
        return JSONResponse(sandbox.emitter.status())

    async def checkout(request: Request) -> Response:
        """Not the webservice: the front office's checkout of a cart with an offline payment
        module (``{"id_cart": 5, "module": "ps_wirepayment"}``), which the webservice cannot do."""
        if not _admin(request):
            return JSONResponse({"error": "a valid webservice key is required for /_sandbox/checkout"}, 401)
        try:
            data: dict[str, Any] = await request.json()
            cart_id = int(data.get("id_cart") or 0)
        except (ValueError, TypeError):
            return JSONResponse({"error": "send a JSON object with id_cart (a number) and module"}, 400)
        try:
            order = orders.checkout(sandbox.model, cart_id, str(data.get("module") or ""))
        except WsError as exc:
            return JSONResponse({"error": exc.errors[0][1]}, 400)
        except PlainAnswer as exc:  # validateOrder's die() texts (no cart, cart already ordered...)
            return JSONResponse({"error": exc.body.strip()}, 400)
        return JSONResponse({"id": order["id"], "reference": order["reference"],
                             "current_state": order["current_state"]}, 201)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "psws_version": PSWS_VERSION})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sandbox.emitter.start()
        try:
            yield
        finally:
            await sandbox.emitter.stop()
            sandbox.store.close()

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "COPY"]
    app = Starlette(routes=[
        Route("/api", api, methods=methods),
        Route("/api/{path:path}", api, methods=methods),
        Route("/webservice/dispatcher.php", api, methods=methods),
        Route("/_sandbox/faults", faults, methods=["GET", "PUT", "POST", "DELETE"]),
        Route("/_sandbox/requests", requests_log, methods=["GET", "DELETE"]),
        Route("/_sandbox/clock", clock, methods=["GET", "PUT"]),
        Route("/_sandbox/webhooks", webhooks, methods=["GET", "PUT"]),
        Route("/_sandbox/checkout", checkout, methods=["POST"]),
        Route("/_sandbox/health", health, methods=["GET"]),
    ], lifespan=lifespan)
    app.state.sandbox = sandbox
    return app
