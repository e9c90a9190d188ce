"""`certificates`: the platform's e-certificate library (results of earlier applications and the
certificates departments registered there). The subject's newest valid certificate of the
source's type; its data is keyed by data element, so a source's fields are element keys.
A local read, like `table`."""

from __future__ import annotations

from typing import Any

from onething.certificates.models import Certificate
from onething.sharing.connectors import Lookup, SourceUnavailable, connectors


class CertificatesConnector:
    local = True

    def fetch(self, lookup: Lookup, *, timeout: float) -> dict[str, Any] | None:
        certificate_type = lookup.options.get("certificate_type")
        if not certificate_type:
            raise SourceUnavailable(f"source {lookup.source}: no certificate type configured")
        certificate = (
            Certificate.objects.filter(
                type__code=certificate_type,
                holder_id_number=lookup.subject,
                status=Certificate.Status.VALID,
            )
            .order_by("-issued_at")
            .first()
        )
        if certificate is None:
            return None
        values = {**certificate.data, "number": certificate.number}
        return {name: values[name] for name in lookup.fields if name in values}


connectors.register("certificates")(CertificatesConnector())
