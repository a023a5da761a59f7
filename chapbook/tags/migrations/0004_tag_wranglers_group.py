"""The "Tag wranglers" group, holding the permission to wrangle tags.

Django creates a model's permissions only after all migrations have run, so this one
creates the permission itself (the later automatic pass finds it and leaves it alone).
"""

from django.db import migrations

GROUP = "Tag wranglers"


def create_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="tags", model="tag")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="wrangle_tag", defaults={"name": "Can wrangle tags"}
    )
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tags", "0003_alter_tag_options"),
    ]

    operations = [
        migrations.RunPython(create_group, remove_group),
    ]
