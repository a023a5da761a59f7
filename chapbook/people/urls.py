from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from chapbook.people.forms import BackgroundPasswordResetForm, LoginForm
from chapbook.people.views import accounts, invitations, profiles, pseuds

app_name = "people"

# Django's auth views, pointed at our templates and our namespaced URL names.
auth_urlpatterns = [
    path(
        "login",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    # Django's LogoutView accepts only POST: a link or an image tag cannot log anyone out.
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("people:password_change_done")),
        name="password_change",
    ),
    path("password/change/done", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path(
        "password/reset",
        auth_views.PasswordResetView.as_view(
            form_class=BackgroundPasswordResetForm,
            success_url=reverse_lazy("people:password_reset_done"),
            # The email is rendered without a request, so it cannot see the context processor.
            extra_email_context={"site_name": settings.SITE_NAME},
        ),
        name="password_reset",
    ),
    path("password/reset/done", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/complete", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path(
        "password/reset/<uidb64>/<token>",
        auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("people:password_reset_complete")),
        name="password_reset_confirm",
    ),
]

urlpatterns = auth_urlpatterns + [
    path("signup", accounts.signup, name="signup"),
    path("invitations", invitations.invitations, name="invitations"),
    path("invitations/<int:pk>/answer", invitations.invitation_answer, name="invitation_answer"),
    path("users/<str:username>", profiles.profile, name="profile"),
    path("users/<str:username>/edit", profiles.profile_edit, name="profile_edit"),
    path("users/<str:username>/works", profiles.user_works, name="works"),
    path("users/<str:username>/pseuds", pseuds.pseud_list, name="pseuds"),
    # Before the pseud page: "new" is a reserved pseud name for this reason.
    path("users/<str:username>/pseuds/new", pseuds.pseud_new, name="pseud_new"),
    path("users/<str:username>/pseuds/<str:name>", pseuds.pseud_detail, name="pseud"),
    path("users/<str:username>/pseuds/<str:name>/edit", pseuds.pseud_edit, name="pseud_edit"),
]
