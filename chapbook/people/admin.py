from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest

from chapbook.people import services
from chapbook.people.models import ApiToken, Pseud, User


class PseudInline(admin.TabularInline):
    model = Pseud
    fields = ["name", "is_default", "created_at"]
    # Pseuds are renamed on their own admin page, where the model's rules are checked;
    # here they are only listed, so the user page stays one form.
    readonly_fields = ["name", "is_default", "created_at"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Django's forms name auth.User in their Meta; with AUTH_USER_MODEL swapped they must name ours.
class UserCreationAdminForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User


class UserChangeAdminForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationAdminForm
    form = UserChangeAdminForm
    fieldsets = (*(DjangoUserAdmin.fieldsets or ()), ("Profile", {"fields": ("bio", "links")}))
    inlines = [PseudInline]

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[type[admin.options.InlineModelAdmin]]:
        # A user being added has no pseuds to list yet; save_model gives them the first.
        return self.inlines if obj is not None else []

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Accounts made here skip signup, but every account needs its default pseud to be credited.
        if not change:
            services.ensure_default_pseud(user=obj)


@admin.register(Pseud)
class PseudAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "is_default", "created_at"]
    list_filter = ["is_default"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username"]
    raw_id_fields = ["user"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["label", "user", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["label", "user__username"]
    raw_id_fields = ["user"]
    # Only the digest is stored, so a token made here could never be shown to anyone:
    # tokens are issued by `chapbook token` or the API. Staff can see and revoke them.
    readonly_fields = ["digest", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
