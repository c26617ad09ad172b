"""What the portal needs to exist in Intercom: its data attributes, the tags it puts on contacts
(the tier tags, see contact_tags.py), and the map of teammates to portal users. Idempotent."""

from dataclasses import dataclass, field

from integrations.intercom.client import IntercomClient
from integrations.intercom.sender import admins_sync

# name -> (data type, description). Dates are epoch seconds in Intercom.
DATA_ATTRIBUTES = {
    "advanced_tier": ("string", "Advanced support tier (from the portal)"),
    "advanced_owner": ("string", "Advanced support specialist who owns the account"),
    "advanced_next_check_in_due": ("date", "Next scheduled check-in"),
    "advanced_health_score": ("integer", "Account health, 0-100"),
    "advanced_status": ("string", "Account status in the portal"),
    "advanced_open_disputes": ("integer", "Open dispute cases"),
    "advanced_portal_url": ("string", "The account in the Advanced Support Portal"),
}


@dataclass
class SetupReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    admins_added: int = 0
    admins_matched: int = 0


def intercom_setup(client: IntercomClient, *, contact_tags: list[str]) -> SetupReport:
    report = SetupReport()
    present = {a["name"] for a in client.data_attributes("contact")}
    for name, (data_type, description) in DATA_ATTRIBUTES.items():
        if name in present:
            report.existing.append(f"attribute {name}")
        else:
            client.data_attribute_create(name=name, data_type=data_type, description=description)
            report.created.append(f"attribute {name}")
    tags = {t["name"].lower() for t in client.tags()}
    for tag in contact_tags:
        if tag.lower() in tags:
            report.existing.append(f"tag {tag}")
        else:
            client.tag_create(tag)
            report.created.append(f"tag {tag}")
    report.admins_added, report.admins_matched = admins_sync(client)
    return report
