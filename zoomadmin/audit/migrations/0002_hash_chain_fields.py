"""The hash chain's columns (chain.py), nullable until 0003 has filled them in."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="row_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("sign_in", "Signed in"),
                    ("sign_in_failed", "Failed sign-in"),
                    ("sign_out", "Signed out"),
                    ("search", "Searched Zoom"),
                    ("force_logout_requested", "Force log out requested"),
                    ("force_logout_result", "Force log out result"),
                    ("denied", "Refused"),
                    ("zoom_connected", "Connected Zoom"),
                    ("zoom_disconnected", "Disconnected Zoom"),
                    ("export", "Exported the audit log"),
                ],
                max_length=32,
            ),
        ),
    ]
