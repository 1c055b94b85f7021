"""CORS for the widget's HTTP API (django-cors-headers), with the allowed origins read from the active inboxes.

Under daphne, Django runs middleware on the event loop, and corsheaders decides there; reading the inboxes is
a query, which must not run on the loop (it raised SynchronousOnlyOperation: every widget call with an Origin
answered 500). So on the widget's paths the decision runs in a thread; every other path has no CORS at all
and passes straight through.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult

from asgiref.sync import sync_to_async
from corsheaders.conf import conf
from corsheaders.middleware import CorsMiddleware

from chat import selectors


class WidgetCorsMiddleware(CorsMiddleware):
    def origin_found_in_white_lists(self, origin: str, url: SplitResult) -> bool:
        return super().origin_found_in_white_lists(origin, url) or selectors.origin_allowed_by_any_inbox(origin)

    async def __acall__(self, request):
        if not re.match(conf.CORS_URLS_REGEX, request.path_info):
            return await self.get_response(request)
        response = await sync_to_async(self.check_preflight)(request)
        if response is None:
            response = await self.get_response(request)
        return await sync_to_async(self.add_response_headers)(request, response)
