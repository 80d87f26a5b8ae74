from django.http import HttpRequest


def page_path(request: HttpRequest) -> dict[str, object]:
    """This page's address with its query, for the header's language switch to return to."""
    return {"page_path": request.get_full_path()}
