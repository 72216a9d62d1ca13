"""Indexes of checks for the CAD import: drop the redundant ones, make the nullable foreign keys'
indexes partial, and keep no ``_like`` twin of the address blind index.

- ``WellnessCheck.agency`` and ``.unit``: no single-column index; (agency, received_at) and
  (unit, state) lead with them and serve every lookup by either.
- The nullable foreign keys (initiator, triage, outcome_review, created_by, assigned_to,
  ``CheckDetail.person``): a partial index ``WHERE fk IS NOT NULL`` instead of a full one that
  holds a NULL entry for every imported check. ``fk = x`` lookups (access filters, the ON DELETE
  checks from the referenced tables) still use it.
- ``CheckDetail.address_key``: a plain btree; an HMAC matched by equality needs no
  varchar_pattern_ops index.

The foreign-key fields are altered in the state only, and their single-column indexes dropped by
name from the database: a plain AlterField would also drop and re-add (re-validate over the whole
table) each foreign-key constraint, which changing an index does not need.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (model, field) whose single-column index goes. The field's column is looked up in the state.
PLAIN_FK_INDEXES = (
    ("checkdetail", "person"),
    ("wellnesscheck", "agency"),
    ("wellnesscheck", "assigned_to"),
    ("wellnesscheck", "created_by"),
    ("wellnesscheck", "initiator"),
    ("wellnesscheck", "outcome_review"),
    ("wellnesscheck", "triage"),
    ("wellnesscheck", "unit"),
)


def drop_plain_fk_indexes(apps, schema_editor):
    """Drop the single-column, non-unique index Django made for each foreign key (db_index=True),
    found by introspection rather than by its generated name."""
    for model_name, field_name in PLAIN_FK_INDEXES:
        model = apps.get_model("checks", model_name)
        column = model._meta.get_field(field_name).column
        names = schema_editor._constraint_names(
            model, [column], index=True, unique=False, primary_key=False, type_=models.Index.suffix
        )
        for name in names:
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_plain_fk_indexes(apps, schema_editor):
    """Reverse: the indexes as db_index=True made them (same generated names)."""
    for model_name, field_name in PLAIN_FK_INDEXES:
        model = apps.get_model("checks", model_name)
        field = model._meta.get_field(field_name)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_agency_max_sessions_notification_recoverycode_and_more"),
        ("checks", "0004_encrypt_detail"),
        ("people", "0003_alias_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="checkdetail",
            name="address_key",
            field=models.CharField(
                blank=True,
                help_text="Blind index of the normalised address (core/blind.py), for same-address history.",  # noqa: E501
                max_length=64,
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="checkdetail",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="check_details",
                        to="people.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="wellnesscheck",
                    name="agency",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="checks",
                        to="accounts.agency",
                    ),
                ),
                migrations.AlterField(
                    model_name="wellnesscheck",
                    name="assigned_to",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="wellnesscheck",
                    name="created_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="wellnesscheck",
                    name="initiator",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="checks.code",
                    ),
                ),
                migrations.AlterField(
                    model_name="wellnesscheck",
                    name="outcome_review",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="checks.code",
                    ),
                ),
                migrations.AlterField(
                    model_name="wellnesscheck",
                    name="triage",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="checks.code",
                    ),
                ),
                migrations.AlterField(
                    model_name="wellnesscheck",
                    name="unit",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="checks",
                        to="accounts.unit",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_plain_fk_indexes, create_plain_fk_indexes),
            ],
        ),
        migrations.AddIndex(
            model_name="checkdetail",
            index=models.Index(fields=["address_key"], name="checkdetail_address_key"),
        ),
        migrations.AddIndex(
            model_name="checkdetail",
            index=models.Index(
                condition=models.Q(("person__isnull", False)),
                fields=["person"],
                name="checkdetail_person_partial",
            ),
        ),
        migrations.AddIndex(
            model_name="wellnesscheck",
            index=models.Index(
                condition=models.Q(("initiator__isnull", False)),
                fields=["initiator"],
                name="check_initiator_partial",
            ),
        ),
        migrations.AddIndex(
            model_name="wellnesscheck",
            index=models.Index(
                condition=models.Q(("triage__isnull", False)),
                fields=["triage"],
                name="check_triage_partial",
            ),
        ),
        migrations.AddIndex(
            model_name="wellnesscheck",
            index=models.Index(
                condition=models.Q(("outcome_review__isnull", False)),
                fields=["outcome_review"],
                name="check_outcome_review_partial",
            ),
        ),
        migrations.AddIndex(
            model_name="wellnesscheck",
            index=models.Index(
                condition=models.Q(("created_by__isnull", False)),
                fields=["created_by"],
                name="check_created_by_partial",
            ),
        ),
        migrations.AddIndex(
            model_name="wellnesscheck",
            index=models.Index(
                condition=models.Q(("assigned_to__isnull", False)),
                fields=["assigned_to"],
                name="check_assigned_to_partial",
            ),
        ),
    ]
