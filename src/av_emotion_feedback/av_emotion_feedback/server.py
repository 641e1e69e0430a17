"""The web view's HTTP server, ROS-free: one page (static files of this package, nothing
fetched from elsewhere) and a WebSocket that pushes the LiveView's messages to each page.

aiohttp's event loop runs in a thread of its own, beside the caller's (web_node's rclpy
executor): `submit` hands it work from any thread, and the view is only ever touched in the
loop's thread. Each page has an Outbox and a task sending from it, so a slow page falls
behind alone (newest estimates and image only) and is dropped when it cannot keep up.
"""
import asyncio
import json
import threading
from pathlib import Path

from aiohttp import WSMsgType, web

from av_emotion_feedback.view import Outbox, access

STATIC = Path(__file__).with_name('static')
COOKIE = 'av_emotion_token'
# The page loads only this server's files and talks only to it (blob: for camera images).
HEADERS = {'Content-Security-Policy': "default-src 'self'; img-src 'self' blob:; "
                                      "connect-src 'self'; frame-ancestors 'none'",
           'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer',
           'X-Content-Type-Options': 'nosniff'}
# Keys of the messages a newer one replaces while waiting (see Outbox).
REPLACED = {'estimate': 'key', 'device': 'device'}


class WebServer:
    """Serves `view` (a LiveView) on host:port; `token` ('' none) guards every request,
    given as ?token=, as the cookie the first page sets, or as `Authorization: Bearer`.
    on_pages() is called (in the server thread) whenever a page comes or goes."""

    def __init__(self, view, host, port, token, outbox_limit, on_pages):
        self.view, self.host, self.token, self.limit = view, host, token, outbox_limit
        self.on_pages = on_pages
        self.port = port
        self.pages = {}  # WebSocketResponse -> (Outbox, asyncio.Event)
        self.sent = {'sent_messages': 0, 'sent_images': 0, 'dropped_pages': 0}
        self.loop = asyncio.new_event_loop()
        self.thread = None
        self.failure = None

    @property
    def clients(self):
        """Pages connected now."""
        return len(self.pages)

    def start(self):
        """Listen (in the server thread); OSError when it cannot (port in use, ...)."""
        started = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(started,), daemon=True,
                                       name='web_server')
        self.thread.start()
        started.wait()
        if self.failure:
            self.thread.join()
            raise self.failure

    def _serve(self, started):
        asyncio.set_event_loop(self.loop)
        app = web.Application(middlewares=[self._guard])
        app.router.add_get('/', self._index)
        app.router.add_get('/ws', self._socket)
        app.router.add_static('/static/', STATIC)
        app.on_shutdown.append(self._close_pages)
        # No access log: request lines would hold the token.
        self.runner = web.AppRunner(app, access_log=None)
        try:
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, self.host, self.port)
            self.loop.run_until_complete(site.start())
        except OSError as error:
            self.failure = OSError(f'cannot listen on {self.host}:{self.port}: '
                                   f'{error.strerror or error}')
            self.loop.run_until_complete(self.runner.cleanup())
            self.loop.close()
            started.set()
            return
        self.port = self.runner.addresses[0][1]  # the one taken, for port 0
        # Browsers share cookies between the ports of a host: one name per server.
        self.cookie = f'{COOKIE}_{self.port}'
        expiry = self.loop.create_task(self._expire())
        started.set()
        self.loop.run_forever()
        expiry.cancel()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def stop(self):
        if self.thread and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)

    def submit(self, update, *args):
        """Call update(*args) (a LiveView method) in the server thread and send the
        messages it returns to every page. From any thread."""
        self._call(self._send, update, args)

    def image(self, data):
        """A JPEG of this robot's camera for every page. From any thread."""
        self._call(self._put, data, 'image')

    def _call(self, function, *args):
        try:
            self.loop.call_soon_threadsafe(function, *args)
        except RuntimeError:
            pass  # stopped: nobody to send to

    def _send(self, update, args):
        for message in update(*args):
            field = REPLACED.get(message['type'])
            key = f"{message['type']} {message[field]}" if field else None
            self._put(json.dumps(message, separators=(',', ':')), key)

    def _put(self, message, key):
        for ws, (outbox, ready) in list(self.pages.items()):
            if outbox.put(message, key):
                ready.set()
            else:  # it cannot keep up; it reconnects and starts afresh
                self.sent['dropped_pages'] += 1
                self.pages.pop(ws)
                self.on_pages()
                self.loop.create_task(ws.close(message=b'too slow'))

    async def _expire(self):
        while True:
            await asyncio.sleep(1.0)
            self._send(self.view.expire, ())

    @web.middleware
    async def _guard(self, request, handler):
        given = (request.query.get('token') or request.cookies.get(self.cookie) or
                 request.headers.get('Authorization', '').removeprefix('Bearer '))
        status = access(self.token, given, request.host, request.headers.get('Origin', ''))
        if status == 401:
            raise web.HTTPUnauthorized(text='this page needs its token: open '
                                       'http://HOST:PORT/?token=TOKEN\n')
        if status == 403:
            raise web.HTTPForbidden(text='refused: wrong token, or another site\n')
        response = await handler(request)
        if self.token and request.query.get('token') and not response.prepared:
            # The page's own requests (files, WebSocket) then carry it.
            response.set_cookie(self.cookie, self.token, httponly=True, samesite='Strict')
        if not response.prepared:
            response.headers.update(HEADERS)
        return response

    async def _index(self, request):
        return web.FileResponse(STATIC / 'index.html')

    async def _socket(self, request):
        # No compression: the JSON is small and the images are JPEG already.
        ws = web.WebSocketResponse(heartbeat=10.0, compress=False)
        await ws.prepare(request)
        outbox, ready = Outbox(self.limit), asyncio.Event()
        outbox.put(json.dumps(self.view.snapshot(), separators=(',', ':')))
        ready.set()
        self.pages[ws] = (outbox, ready)
        self.on_pages()
        sender = asyncio.create_task(self._sender(ws, outbox, ready))
        try:
            async for message in ws:  # pages send nothing; this sees the close
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            if self.pages.pop(ws, None):
                self.on_pages()
            sender.cancel()
        return ws

    async def _sender(self, ws, outbox, ready):
        try:
            while not ws.closed:
                await ready.wait()
                ready.clear()
                for message in outbox.take():
                    if isinstance(message, bytes):
                        await ws.send_bytes(message)
                        self.sent['sent_images'] += 1
                    else:
                        await ws.send_str(message)
                        self.sent['sent_messages'] += 1
        except ConnectionError:
            pass  # the page went; _socket sees it close

    async def _close_pages(self, app):
        for ws in list(self.pages):
            await ws.close(message=b'server stopping')
