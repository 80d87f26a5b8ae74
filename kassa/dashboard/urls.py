from django.contrib import admin

from kassa.common.routes import route
from kassa.dashboard import views

app_name = "dashboard"

# Under /admin/ and behind the admin's own login: staff only, never cached.
urlpatterns = [
    *route("export", admin.site.admin_view(views.export_paid_orders), "export"),
]
