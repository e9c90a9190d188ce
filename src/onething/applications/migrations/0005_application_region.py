import django.db.models.deletion
from django.db import migrations, models


def regions_of_existing_applications(apps, schema_editor):
    """The enterprise's region for an enterprise's application, else the applicant's household
    region; unknown when neither is known."""
    Application = apps.get_model("applications", "Application")
    for application in (
        Application.objects.filter(region__isnull=True)
        .select_related("enterprise", "applicant")
        .iterator()
    ):
        enterprise = application.enterprise
        region_id = enterprise.region_id if enterprise else application.applicant.region_id
        if region_id is not None:
            Application.objects.filter(pk=application.pk).update(region_id=region_id)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_household_region"),
        ("applications", "0004_exemptions"),
        ("catalog", "0008_rule_inputs"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="region",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="catalog.region",
                verbose_name="region",
            ),
        ),
        migrations.RunPython(regions_of_existing_applications, migrations.RunPython.noop),
    ]
