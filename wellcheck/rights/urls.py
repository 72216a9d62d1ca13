from django.urls import path

from wellcheck.rights import views, views_pages

app_name = "rights"

urlpatterns = [
    path("", views_pages.request_list, name="list"),
    path("access/new/<uuid:person_id>/", views_pages.access_new, name="access_new"),
    path("access/<uuid:sar_id>/", views_pages.access_detail, name="access_detail"),
    path("access/<uuid:pk>/answer.<str:fmt>", views.access_answer, name="access_answer"),
    path("requests/new/<uuid:person_id>/", views_pages.request_new, name="request_new"),
    path("requests/<uuid:request_id>/", views_pages.request_detail, name="request_detail"),
]
