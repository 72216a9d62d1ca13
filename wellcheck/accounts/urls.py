"""Sign-in, MFA, passwords, notifications, reasons, break-the-glass and grants."""

from django.urls import path

from wellcheck.accounts import views, views_access

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("mfa/", views.mfa_verify, name="mfa_verify"),
    path("mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("mfa/replace/", views.mfa_replace, name="mfa_replace"),
    path("mfa/recovery-codes/", views.recovery_codes_new, name="recovery_codes_new"),
    path("password/", views.password_change, name="password_change"),
    path("password/done/", views.password_change_done, name="password_change_done"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password/reset/done/", views.password_reset_complete, name="password_reset_complete"),
    path("notifications/", views.notifications, name="notifications"),
    path("reason/<uuid:check_id>/", views_access.look_reason, name="look_reason"),
    path("break-glass/", views_access.break_glass, name="break_glass"),
    path(
        "break-glass/review/",
        views_access.break_glass_review_queue,
        name="break_glass_review_queue",
    ),
    path("grants/", views_access.grants, name="grants"),
]
