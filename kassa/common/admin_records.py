"""Admin screens of records the shop writes itself (mail sent, refunds made, deliveries tried,
held stock): staff read them; nobody adds, edits or deletes one by hand."""

from django.http import HttpRequest


class RecordsOnly:
    """Put first among an admin's bases: no add, change or delete, whatever the permissions."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
