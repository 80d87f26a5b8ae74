"""The stand-in's objects: one row per Stripe object (a session, an intent, a refund, an event),
kept as the JSON Stripe would answer, so every process and replica sees the same ones."""

from django.db import models


class DemoObject(models.Model):
    id = models.CharField(max_length=120, primary_key=True)
    kind = models.CharField(max_length=40, db_index=True)
    data = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "demo Stripe object"
        verbose_name_plural = "demo Stripe objects"

    def __str__(self) -> str:
        return self.id
