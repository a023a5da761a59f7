from django.urls import path

from chapbook.collections.views import collections as views
from chapbook.collections.views import prompts as prompt_views

# Included at the site root: every path here names its own /collections/ prefix.
app_name = "collections"
urlpatterns = [
    path("collections", views.index, name="index"),
    path("collections/new", views.new, name="new"),
    path("collections/invitations", views.invitations, name="invitations"),
    path("collections/invitations/<int:pk>", views.invitation_answer, name="invitation_answer"),
    path("collections/<slug:name>", views.detail, name="detail"),
    path("collections/<slug:name>/edit", views.edit, name="edit"),
    path("collections/<slug:name>/delete", views.delete, name="delete"),
    path("collections/<slug:name>/moderators", views.moderators, name="moderators"),
    path("collections/<slug:name>/moderators/<int:pk>/remove", views.moderator_remove, name="moderator_remove"),
    path("collections/<slug:name>/items", views.items, name="items"),
    path("collections/<slug:name>/items/<int:pk>/<slug:action>", views.item_action, name="item_action"),
    path("collections/<slug:name>/reveal", views.reveal, name="reveal"),
    path("collections/<slug:name>/add", views.add, name="add"),
    # --- Prompt memes (helper H): prompt and claim URLs go below this line. ---
    *prompt_views.urlpatterns,
    # --- End of prompt memes. ---
]
