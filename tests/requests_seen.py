"""Every request a browser page makes, to check that the desk's pages load nothing from outside the desk."""

from __future__ import annotations


class RequestsSeen:
    """Records the URL of each request of the pages it watches (scripts, styles, images, fonts, fetches, sockets)."""

    def __init__(self):
        self.urls: list[str] = []

    def watch(self, page):
        """Watches a page, or every page of a browser context from its creation on; returns it."""
        page.on("request", lambda request: self.urls.append(request.url))
        if hasattr(page, "new_page"):
            page.on("page", lambda new: new.on("websocket", lambda socket: self.urls.append(socket.url)))
        else:
            page.on("websocket", lambda socket: self.urls.append(socket.url))
        return page

    def outside(self, *origins: str) -> list[str]:
        """The requests that went neither to one of these origins (or their websockets) nor to data: or blob:."""
        own = ["data:", "blob:"]
        for origin in origins:
            scheme, rest = origin.split("://", 1)
            own += [f"{scheme}://{rest}/", f"{'wss' if scheme == 'https' else 'ws'}://{rest}/"]
        return [url for url in self.urls if not url.startswith(tuple(own))]
