"""Where the simulator runs and the few things the suite needs from outside the SDK.

hack/sdk-test.sh starts azdo-sim and exports AZDO_SIM_DEV_URL, AZDO_SIM_VSSPS_URL,
AZDO_SIM_LOGIN_URL and AZDO_SIM_CA (the simulator's CA certificate). Outside the SDK the suite
only uses the simulator's control API (reset, state) and the simulated Entra token endpoint.
"""

import os
from dataclasses import dataclass

import requests

# The default seed (sim/seeds/default.yaml).
ORGANIZATION = "contoso"
TENANT_ID = "8d3c5f4e-2b1a-4c6d-9e8f-7a6b5c4d3e2f"
AZURE_DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"
OPERATOR_PAT = "simoperatorpat0000000000000000000000000000000000000000"
OPERATOR_CLIENT_ID = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
OPERATOR_SECRET = "sim-operator-secret"
# Other seed identities: (client id, client secret).
AUDITOR = ("6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "sim-auditor-secret")
STOREFRONT_AUTOMATION = ("3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f", "sim-storefront-secret")
OUTSIDER = ("1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a", "sim-outsider-secret")

REQUEST_TIMEOUT = 30


def _required(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"{name} is not set: run the suite through hack/sdk-test.sh, or export "
            "AZDO_SIM_DEV_URL, AZDO_SIM_VSSPS_URL, AZDO_SIM_LOGIN_URL and AZDO_SIM_CA "
            "for a running azdo-sim"
        )
    return value.rstrip("/")


@dataclass(frozen=True)
class Simulator:
    dev_url: str
    vssps_url: str
    login_url: str
    ca_file: str

    @staticmethod
    def from_environment():
        return Simulator(
            dev_url=_required("AZDO_SIM_DEV_URL"),
            vssps_url=_required("AZDO_SIM_VSSPS_URL"),
            login_url=_required("AZDO_SIM_LOGIN_URL"),
            ca_file=_required("AZDO_SIM_CA"),
        )

    @property
    def organization_url(self):
        return f"{self.dev_url}/{ORGANIZATION}"

    def _control(self, method, path):
        response = requests.request(
            method,
            f"{self.dev_url}/_sim/{path}",
            verify=self.ca_file,
            timeout=REQUEST_TIMEOUT,
        )
        response.raise_for_status()
        return response

    def reset(self):
        """State, behaviours and faults back to the seed."""
        self._control("POST", "reset")

    def state(self):
        """The simulator's whole state (the seed plus what tests changed), as JSON."""
        return self._control("GET", "state").json()

    def entra_object_id(self, kind, display_name):
        """The Entra object id of a directory entry: `users` by UPN, `groups` and
        `servicePrincipals` by display name."""
        directory = self.state()["directory"]
        key = "upn" if kind == "users" else "displayName"
        for entry in directory[kind]:
            if entry.get(key, "").lower() == display_name.lower():
                return entry["objectId"]
        raise KeyError(f"no Entra {kind} entry {display_name}")

    def access_token(self, client_id, client_secret):
        """An access token for Azure DevOps from the simulated Entra (client credentials)."""
        response = requests.post(
            f"{self.login_url}/{TENANT_ID}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
                "scope": AZURE_DEVOPS_SCOPE,
            },
            verify=self.ca_file,
            timeout=REQUEST_TIMEOUT,
        )
        response.raise_for_status()
        body = response.json()
        assert body["token_type"] == "Bearer"
        return body["access_token"]
