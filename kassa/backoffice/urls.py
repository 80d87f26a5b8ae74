from django.contrib import admin

from kassa.backoffice import views
from kassa.common.routes import route

app_name = "dashboard"

# Under /admin/ and behind the admin's own login: staff only, never cached.
urlpatterns = [
    *route("export", admin.site.admin_view(views.export_paid_orders), "export"),
]
