"""The fake Telegram Bot API HTTP server (aiohttp) and its state.

Usage (async, in the test's event loop)::

    async with FakeBotAPI(token="123:ABC") as api:
        bot = telegram.Bot("123:ABC", base_url=api.base_url)
        ...

Usage from synchronous code (server runs in its own thread + loop)::

    handle = FakeBotAPI.start_in_thread(token="123:ABC")
    try:
        handle.send_user_message(42, "/start")      # any FakeBotAPI method/attribute
        handle.wait_for_messages(42, 1, timeout=5)   # synchronous waits
    finally:
        handle.stop()

All injection helpers (``send_user_message`` & co.) and inspection helpers are synchronous and
thread-safe; the async ``wait_for*`` methods must be awaited in the loop the server runs in
(otherwise they delegate to a worker thread).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import inspect
import itertools
import json
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from aiohttp import web

from .injection import UpdateInjectionMixin
from .methods import DEFAULT_ALLOWED_UPDATES, BotMethodsMixin, scope_key
from .validation import ApiError, Params

__all__ = ["FakeBotAPI", "ThreadedFakeBotAPI"]


class FakeBotAPI(UpdateInjectionMixin, BotMethodsMixin):
    """An in-process fake of the Telegram Bot API for end-to-end tests."""

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        bot_username: str = "fake_news_bot",
        bot_first_name: str = "Newsroom Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        callback_query_timeout: float = 15.0,
        inline_query_timeout: float = 15.0,
        strict_ampersand: bool = True,
        strict_chats: bool = False,
        max_long_poll: float = 50.0,
    ) -> None:
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123
        self.bot_user = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self.callback_query_timeout = callback_query_timeout
        self.inline_query_timeout = inline_query_timeout
        self.strict_ampersand = strict_ampersand
        self.strict_chats = strict_chats
        self.max_long_poll = max_long_poll

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._changed: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False

        # --- recorded traffic (public, read-only by convention) ---
        self.requests: list[dict] = []
        self.callback_answers: list[dict] = []
        self.inline_answers: list[dict] = []
        self.chat_actions: list[dict] = []
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.rate_violations: list[dict] = []
        self.updates_log: list[dict] = []
        self.webhook: dict = {"url": ""}
        self.closed = False
        self.logged_out = False

        # --- state ---
        self._updates: list[dict] = []
        self._update_ids = itertools.count(10_000_001)
        self._delivered_update_ids: set[int] = set()
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self.active_long_polls = 0  # getUpdates requests currently waiting
        self.requests_in_flight = 0  # requests received and not answered yet (long polls too)
        self._query_ids = itertools.count(4_382_193_506_234_000_001)
        self._users: dict[int, dict] = {}
        self._chats: dict[int, dict] = {}
        self._next_message_id: dict[int, int] = collections.defaultdict(lambda: 1)
        self._messages: dict[tuple[int, int], dict] = {}  # (chat_id, message_id) -> record
        self._bot_messages: list[dict] = []
        self._callback_queries: dict[str, dict] = {}
        self._inline_queries: dict[str, dict] = {}
        self._admins: dict[int, list[int]] = {}
        self._creators: dict[int, int] = {}
        self._blocked: set[int] = set()
        self._left: set[int] = set()
        self._deleted: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._faults: list[dict] = []
        self._rate_limits: dict | None = None
        self._rate_global: collections.deque[float] = collections.deque()
        self._rate_chat: dict[int, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._rate_group: dict[int, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """Pass to ``telegram.Bot(base_url=...)`` / ``ApplicationBuilder().base_url(...)``."""
        if self.port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> FakeBotAPI:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._changed = asyncio.Event()
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=2.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        server = site._server
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @classmethod
    def start_in_thread(cls, *args: Any, **kwargs: Any) -> ThreadedFakeBotAPI:
        """Run a new FakeBotAPI in a daemon thread with its own loop; returns a handle."""
        return ThreadedFakeBotAPI(cls(*args, **kwargs))

    # ------------------------------------------------------------------ notification / waiting

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread:
            self._wake()
        else:
            with contextlib.suppress(RuntimeError):  # loop closed meanwhile
                loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        if event is not None:
            event.set()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked after every API call/injection)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover
            running = None
        if running is not self._loop or self._changed is None:
            return await asyncio.to_thread(self.wait_for_sync, predicate, timeout)
        deadline = running.time() + timeout
        while True:
            event = self._changed
            with self._lock:
                value = predicate()
            if value:
                return value
            remaining = deadline - running.time()
            if remaining <= 0:
                raise TimeoutError(self._timeout_message(timeout))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def wait_for_sync(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Blocking variant of :meth:`wait_for` for threads other than the server's loop."""
        with self._cond:
            value = self._cond.wait_for(predicate, timeout)
        if not value:
            raise TimeoutError(self._timeout_message(timeout))
        return value

    async def wait_for_messages(self, chat_id: int, n: int = 1, timeout: float = 5.0) -> list[dict]:
        """Wait until the bot sent at least ``n`` messages to ``chat_id``; returns them all."""
        return await self.wait_for(lambda: self._messages_if_at_least(chat_id, n), timeout)

    def wait_for_messages_sync(self, chat_id: int, n: int = 1, timeout: float = 5.0) -> list[dict]:
        return self.wait_for_sync(lambda: self._messages_if_at_least(chat_id, n), timeout)

    async def wait_for_request(self, method: str, n: int = 1, timeout: float = 5.0) -> list[dict]:
        """Wait until ``method`` was called at least ``n`` times; returns those requests."""

        def check() -> list[dict] | None:
            found = self.calls(method)
            return found if len(found) >= n else None

        return await self.wait_for(check, timeout)

    async def wait_until_delivered(
        self, update_id: int | None = None, timeout: float = 5.0
    ) -> bool:
        """Wait until ``update_id`` (default: every injected update) was confirmed by offset."""

        def check() -> bool:
            if update_id is None:
                return not self._updates
            return all(u["update_id"] != update_id for u in self._updates)

        return await self.wait_for(check, timeout)

    async def wait_until_idle(self, timeout: float = 5.0) -> bool:
        """Wait until the bot is idle as the server sees it: every injected update confirmed
        by offset, no request in flight but one waiting long poll.

        That says the bot asked for more and is doing nothing the server would see. It
        cannot say a handler finished work that does not call the API yet: queue one more
        update whose answer is known, wait for it, then call this (``all_handled`` in
        ``tests/helpers.py``).
        """

        def check() -> bool:
            return (
                not self._updates
                and self.active_long_polls == 1
                and self.requests_in_flight == self.active_long_polls
            )

        return await self.wait_for(check, timeout)

    def _messages_if_at_least(self, chat_id: int, n: int) -> list[dict] | None:
        found = self.sent_messages(chat_id)
        return found if len(found) >= n else None

    def _timeout_message(self, timeout: float) -> str:
        tail = [
            f"{r['method']} -> {r['status']} {r.get('description') or ''}".strip()
            for r in self.requests[-8:]
        ]
        return f"FakeBotAPI: condition not met within {timeout}s; last requests: {tail}"

    # ------------------------------------------------------------------ inspection

    def sent_messages(
        self, chat_id: int | None = None, *, include_deleted: bool = True
    ) -> list[dict]:
        """Messages sent by the bot (live records: edits update them in place)."""
        with self._lock:
            return [
                m
                for m in self._bot_messages
                if (chat_id is None or m["chat_id"] == chat_id)
                and (include_deleted or not m["deleted"])
            ]

    def calls(self, method: str) -> list[dict]:
        """Recorded requests for ``method`` (case-insensitive)."""
        wanted = method.lower()
        with self._lock:
            return [r for r in self.requests if r["method"].lower() == wanted]

    def unanswered_callback_queries(self) -> list[dict]:
        with self._lock:
            return [dict(q) for q in self._callback_queries.values() if not q["answered"]]

    def pending_updates(self) -> list[dict]:
        """Updates not yet confirmed via getUpdates' ``offset``."""
        with self._lock:
            return copy.deepcopy(self._updates)

    def get_commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        with self._lock:
            return list(self.commands.get((scope_key(scope), language_code), []))

    def count_rate_violations(self) -> int:
        with self._lock:
            return len(self.rate_violations)

    # ------------------------------------------------------------------ configuration / faults

    def set_chat_admins(
        self, chat_id: int, user_ids: list[int], *, creator_id: int | None = None
    ) -> None:
        """Configure getChatMember/getChatAdministrators.

        The creator defaults to the first id; include ``api.bot_id`` to make the bot an admin.
        """
        with self._lock:
            self._admins[chat_id] = list(user_ids)
            if creator_id is not None:
                self._creators[chat_id] = creator_id
            elif user_ids and chat_id not in self._creators:
                self._creators[chat_id] = user_ids[0]

    def enforce_rate_limits(
        self,
        global_per_second: int | None = 30,
        per_chat_per_second: int | None = 1,
        per_group_per_minute: int | None = 20,
    ) -> None:
        """Enable flood limits for sendMessage/editMessage*; ``None`` disables a single limit."""
        with self._lock:
            self._rate_limits = {
                "global": global_per_second,
                "chat": per_chat_per_second,
                "group": per_group_per_minute,
            }
            self._rate_global.clear()
            self._rate_chat.clear()
            self._rate_group.clear()

    def disable_rate_limits(self) -> None:
        with self._lock:
            self._rate_limits = None

    def fail_next(
        self,
        method: str,
        chat_id: int | None = None,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        *,
        times: int = 1,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ('*' = any) fail with the given error."""
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after or 1}",
                403: "Forbidden: bot was blocked by the user",
                400: "Bad Request: injected failure",
                401: "Unauthorized",
                409: "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            }.get(error_code, "Internal Server Error")
        parameters: dict = {}
        if error_code == 429:
            parameters["retry_after"] = retry_after or 1
        elif retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        with self._lock:
            self._faults.append(
                {
                    "method": method.lower(),
                    "chat_id": chat_id,
                    "error": ApiError(error_code, description, parameters or None),
                    "remaining": times,
                }
            )

    def garble_next(
        self,
        method: str,
        chat_id: int | None = None,
        *,
        body: bytes = b"<html><body>upstream proxy error</body></html>",
        status: int = 200,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ('*' = any) with ``body`` as is: by
        default HTTP 200 with a body that is not JSON (a broken proxy), which PTB reports as
        a plain ``TelegramError("Invalid server response")``. The call is not carried out."""
        with self._lock:
            self._faults.append(
                {
                    "method": method.lower(),
                    "chat_id": chat_id,
                    "raw": (body, status),
                    "remaining": times,
                }
            )

    def block_chat(self, chat_id: int) -> None:
        """Every send to ``chat_id`` returns 403 (bot blocked by the user / kicked)."""
        with self._lock:
            self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Sends to ``old_id`` return 400 with ``parameters.migrate_to_chat_id = new_id``."""
        with self._lock:
            self._migrated[old_id] = new_id
            old = self._chats.get(old_id, {})
            self._ensure_chat(new_id, "supergroup", title=old.get("title"))

    def delete_chat(self, chat_id: int) -> None:
        """Every request about ``chat_id`` returns 400 "chat not found"."""
        with self._lock:
            self._deleted.add(chat_id)

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_params(self, request: web.Request) -> tuple[dict, str | None]:
        params: dict[str, Any] = dict(request.query)
        body_text: str | None = None
        if request.method != "POST" or not request.can_read_body:
            return params, body_text
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            post = await request.post()
            for key, value in post.items():
                if isinstance(value, web.FileField):
                    params[key] = {"__file__": value.filename, "content_type": value.content_type}
                else:
                    params[key] = value
            return params, None
        raw = await request.read()
        body_text = raw.decode("utf-8", "replace")
        if ctype == "application/json":
            try:
                data = json.loads(body_text or "{}")
            except ValueError:
                raise ApiError.bad_request("can't parse JSON request body") from None
            if not isinstance(data, dict):
                raise ApiError.bad_request("JSON request body must be an object")
            params.update(data)
        else:  # application/x-www-form-urlencoded (what PTB 22 sends)
            params.update(parse_qsl(body_text, keep_blank_values=True))
        return params, body_text

    async def _handle_file(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        token = request.match_info["token"]
        record: dict[str, Any] = {
            "method": method,
            "params": {},
            "time": time.time(),
            "status": None,
            "url": str(request.rel_url),
            "http_method": request.method,
            "content_type": request.content_type,
            "body": None,
            "description": None,
        }
        with self._lock:
            self.requests_in_flight += 1
        try:
            return await self._answer(request, method, token, record)
        finally:
            with self._lock:
                self.requests_in_flight -= 1
            self._notify()

    async def _answer(
        self, request: web.Request, method: str, token: str, record: dict[str, Any]
    ) -> web.Response:
        try:
            params, body_text = await self._read_params(request)
            record["params"] = params
            record["body"] = body_text
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._handlers.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            garbled = self._apply_fault(method, params)
            if garbled is not None:  # recorded with its status, and not carried out
                record["status"] = garbled.status
                record["description"] = "injected raw body"
                response = garbled
            else:
                if inspect.iscoroutinefunction(handler):
                    result = await handler(self, Params(params))
                else:
                    with self._lock:
                        result = handler(self, Params(params))
                record["status"] = 200
                record["response"] = result
                response = web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            record["status"] = exc.error_code
            record["description"] = exc.description
            record["response"] = exc.payload()
            response = web.json_response(exc.payload(), status=exc.error_code)
        with self._lock:
            self.requests.append(record)
        return response  # _handle notifies waiters once the request is out of flight

    def _apply_fault(self, method: str, params: dict) -> web.Response | None:
        """Raise the next matching injected error, or return an injected raw response."""
        with self._lock:
            chat_raw = params.get("chat_id")
            try:
                chat_id = int(chat_raw) if chat_raw is not None else None
            except (TypeError, ValueError):
                chat_id = None
            for fault in self._faults:
                if fault["method"] not in ("*", method.lower()):
                    continue
                if fault["chat_id"] is not None and fault["chat_id"] != chat_id:
                    continue
                fault["remaining"] -= 1
                if fault["remaining"] <= 0:
                    self._faults.remove(fault)
                if "raw" in fault:
                    body, status = fault["raw"]
                    return web.Response(body=body, status=status, content_type="text/html")
                raise fault["error"]
        return None

    _handlers: ClassVar[dict[str, Callable[..., Any]]] = {}


FakeBotAPI._handlers = {
    name[len("_m_") :]: getattr(FakeBotAPI, name)
    for name in dir(FakeBotAPI)
    if name.startswith("_m_")
}


class ThreadedFakeBotAPI:
    """Handle of a FakeBotAPI running in a background thread (see FakeBotAPI.start_in_thread).

    Attribute access is forwarded to the FakeBotAPI (so ``handle.send_user_message(...)``,
    ``handle.sent_messages()``, ``handle.base_url`` work); waits are synchronous here.
    """

    def __init__(self, api: FakeBotAPI, start_timeout: float = 10.0) -> None:
        self.api = api
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="FakeBotAPI", daemon=True)
        self._thread.start()
        if not self._started.wait(start_timeout):
            raise RuntimeError("FakeBotAPI thread did not start")
        if self._error is not None:
            raise RuntimeError("FakeBotAPI failed to start") from self._error

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.api.start())
        except BaseException as exc:
            self._error = exc
            self._started.set()
            self._loop.close()
            return
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.api, name)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        return self.api.wait_for_sync(predicate, timeout)

    def wait_for_messages(self, chat_id: int, n: int = 1, timeout: float = 5.0) -> list[dict]:
        return self.api.wait_for_messages_sync(chat_id, n, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self.api.stop(), self._loop)
        future.result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    def __enter__(self) -> ThreadedFakeBotAPI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
