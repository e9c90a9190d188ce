import django.db.models.deletion
from django.db import migrations, models


def household_regions_from_the_register(apps, schema_editor):
    """Existing accounts get the household region the population register holds for them (as
    the demo's real-name stand-in now records it at sign-up); the others stay unknown."""
    User = apps.get_model("accounts", "User")
    Region = apps.get_model("catalog", "Region")
    RegisterRecord = apps.get_model("sharing", "RegisterRecord")
    regions = dict(Region.objects.values_list("code", "pk"))
    for user in User.objects.filter(region__isnull=True).exclude(id_number="").iterator():
        record = RegisterRecord.objects.filter(
            register__code="population", key=user.id_number
        ).first()
        region_id = regions.get(str((record.data if record else {}).get("region", "")))
        if region_id is not None:
            User.objects.filter(pk=user.pk).update(region_id=region_id)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("catalog", "0008_rule_inputs"),
        ("sharing", "0004_related_consent"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="region",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="catalog.region",
                verbose_name="registered household region",
            ),
        ),
        migrations.RunPython(household_regions_from_the_register, migrations.RunPython.noop),
    ]
