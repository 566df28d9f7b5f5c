//! Resource areas the official SDKs know but azdo-sim does not serve. `_apis/ResourceAreas`
//! still lists them, on the host the real service uses, so that clients which resolve every
//! area they know at start-up (the Go SDK behind the Terraform provider creates about twenty
//! clients that way) start; calls into them are not served (a host of the simulator answers
//! 404, a real host is never contacted unless the client calls it).
//!
//! Ids are the `ResourceAreaId`s of `github.com/microsoft/azure-devops-go-api/azuredevops/v7`
//! (v7.1.1-0.20241014080628-3045bdf43455); hosts as the real service answers.

use super::Host;

/// Where a known area lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaHost {
    /// On one of the simulator's hosts (with the organization in the URL).
    Sim(Host),
    /// On another host of the real service, with the organization: `https://{host}/{org}/`.
    Organization(&'static str),
    /// On a global host of the real service, without the organization: `https://{host}/`.
    Global(&'static str),
}

#[derive(Debug)]
pub struct KnownArea {
    pub id: &'static str,
    pub name: &'static str,
    pub host: AreaHost,
}

const fn area(id: &'static str, name: &'static str, host: AreaHost) -> KnownArea {
    KnownArea { id, name, host }
}

use AreaHost::{Global, Organization, Sim};

pub static KNOWN_AREAS: &[KnownArea] = &[
    area(
        "0d55247a-1c47-4462-9b1f-5e2125590ee6",
        "Account",
        Global("app.vssps.visualstudio.com"),
    ),
    area(
        "94ff054d-5ee1-413d-9341-3f4a7827de2e",
        "Audit",
        Organization("auditservice.dev.azure.com"),
    ),
    area(
        "8477aec9-a4c7-4bd4-a456-ba4c53c989cb",
        "Contribution",
        Sim(Host::Dev),
    ),
    area(
        "31c84e0a-3ece-48fd-a29d-100849af99ba",
        "Dashboard",
        Sim(Host::Dev),
    ),
    area(
        "6c2b0933-3600-42ae-bf8b-93d4f7e83594",
        "ExtensionManagement",
        Organization("extmgmt.dev.azure.com"),
    ),
    area(
        "7ab4e64e-c4d8-4f50-ae73-5ef2e21642a5",
        "Packaging",
        Organization("feeds.dev.azure.com"),
    ),
    area(
        "69d21c00-f135-441b-b5ce-3626378e0819",
        "gallery",
        Global("marketplace.visualstudio.com"),
    ),
    area(
        "8a3d49b8-91f0-46ef-b33d-dda338c25db3",
        "IMS",
        Sim(Host::Vssps),
    ),
    area(
        "6f7f8c07-ff36-473c-bcf3-bd6cc9b6c066",
        "maven",
        Organization("pkgs.dev.azure.com"),
    ),
    area(
        "4c83cfc1-f33a-477e-a789-29d38ffca52e",
        "npm",
        Organization("pkgs.dev.azure.com"),
    ),
    area(
        "b3be7473-68ea-4a81-bfc7-9530baaa19ad",
        "nuget",
        Organization("pkgs.dev.azure.com"),
    ),
    area(
        "5b55a9b6-2e0f-40d7-829d-3741d2b8c4e4",
        "approval",
        Sim(Host::Dev),
    ),
    area(
        "fb13a388-40dd-4a04-b530-013a739c72ef",
        "policy",
        Sim(Host::Dev),
    ),
    area(
        "8ccfef3d-2b87-4e99-8ccb-66e343d2daa8",
        "Profile",
        Global("app.vssps.visualstudio.com"),
    ),
    area(
        "7658fa33-b1bf-4580-990f-fac5896773d3",
        "projectanalysis",
        Sim(Host::Dev),
    ),
    area(
        "b40c1171-807a-493a-8f3f-5c26d5e2f5aa",
        "Provenance",
        Organization("pkgs.dev.azure.com"),
    ),
    area(
        "92f0314b-06c5-46e0-abe7-15fd9d13276a",
        "pypi",
        Organization("pkgs.dev.azure.com"),
    ),
    area(
        "efc2f575-36ef-48e9-b672-0c6fb4a48ac5",
        "Release",
        Organization("vsrm.dev.azure.com"),
    ),
    area(
        "ea48a0a1-269c-42d8-b8ad-ddc8fcdcf578",
        "search",
        Organization("almsearch.dev.azure.com"),
    ),
    area(
        "af607f94-69ba-4821-8159-f04e37b66350",
        "symbol",
        Organization("artifacts.dev.azure.com"),
    ),
    area(
        "c2aa639c-3ccc-4740-b3b6-ce2a1e1d984e",
        "Test",
        Sim(Host::Dev),
    ),
    area(
        "c83eaf52-edf3-4034-ae11-17d38f25404c",
        "TestResults",
        Organization("vstmr.dev.azure.com"),
    ),
    area(
        "8aa40520-446d-40e6-89f6-9c9f9ce44c48",
        "tfvc",
        Sim(Host::Dev),
    ),
    area(
        "af68438b-ed04-4407-9eb6-f1dbae3f922e",
        "TokenAdmin",
        Sim(Host::Vssps),
    ),
    area(
        "d397749b-f115-4027-b6dd-77a65dd10d21",
        "upack",
        Organization("pkgs.dev.azure.com"),
    ),
    area(
        "bf7d82a0-8aa5-4613-94ef-6172a5ea01f3",
        "wiki",
        Sim(Host::Dev),
    ),
    area(
        "1d4f49f9-02b9-4e26-b826-2cdb6195f2a9",
        "work",
        Sim(Host::Dev),
    ),
    area(
        "5264459e-e5e0-4bd8-b118-0985e68a4ec5",
        "wit",
        Sim(Host::Dev),
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::super::AREAS;
    use super::*;

    #[test]
    fn known_areas_are_unique_and_not_served() {
        let mut ids = HashSet::new();
        for known in KNOWN_AREAS {
            assert!(ids.insert(known.id.to_string()), "{} twice", known.id);
            assert!(
                !AREAS.iter().any(|a| a.id == Some(known.id)),
                "{} is served: list it in the catalog only",
                known.name
            );
        }
    }
}
