"""Staff sign-in accounts: Amazon Cognito in the cloud, local ids on the emulator.

The town's staff list in DynamoDB is the source of truth; these adapters keep the sign-in
side in step: the user's town and departments as custom attributes, roles as groups, so
the ID token carries exactly what ``adapters.tokens`` expects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import Conflict, StorageUnavailable
from chalicelib.domain.towns import StaffMember


class CognitoIdentity:
    def __init__(self, make_client: Callable[[], Any], user_pool_id: str) -> None:
        self._make_client = make_client
        self._pool = user_pool_id

    def provision(self, member: StaffMember) -> str:
        client = self._make_client()
        attributes = [
            {"Name": "email", "Value": member.email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": member.name},
            {"Name": "custom:town", "Value": member.town_id or ""},
            {"Name": "custom:departments", "Value": ",".join(member.departments)},
        ]
        try:
            # Cognito e-mails the person a temporary password to sign in with.
            user = client.admin_create_user(UserPoolId=self._pool, Username=member.email,
                                            UserAttributes=attributes,
                                            DesiredDeliveryMediums=["EMAIL"])["User"]
            for role in member.roles:
                client.admin_add_user_to_group(UserPoolId=self._pool, Username=member.email,
                                               GroupName=role)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "UsernameExistsException":
                raise Conflict(f"{member.email} already has a Town311 sign-in") from e
            raise StorageUnavailable("the sign-in service is unavailable") from e
        except BotoCoreError as e:
            raise StorageUnavailable("the sign-in service is unavailable") from e
        subject = next((a["Value"] for a in user.get("Attributes", []) if a["Name"] == "sub"),
                       None)
        return str(subject or user["Username"])

    def disable(self, member: StaffMember) -> None:
        try:
            self._make_client().admin_disable_user(UserPoolId=self._pool, Username=member.email)
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable("the sign-in service is unavailable") from e


class LocalIdentity:
    """On the emulator staff sign in with tokens the local runner signs; an account is
    just an id (``local/tokens.py`` mints tokens for it)."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self._new_id = new_id

    def provision(self, member: StaffMember) -> str:
        return member.user_id or f"local-{self._new_id().lower()}"

    def disable(self, member: StaffMember) -> None:
        return None
