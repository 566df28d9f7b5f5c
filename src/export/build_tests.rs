use super::*;
use crate::ado::{Project, ResourceRef, RoleScope};
use crate::api::OrganizationKind;
use crate::export::inventory::ResourceRoles;

const WEB: &str = "00000000-0000-0000-0000-0000000000a1";

fn group(descriptor: &str, principal: &str, project: Option<&str>) -> GraphGroup {
    let name = principal.rsplit('\\').next().unwrap().to_string();
    GraphGroup {
        descriptor: descriptor.into(),
        display_name: name,
        description: None,
        principal_name: Some(principal.into()),
        origin: Some("vsts".into()),
        origin_id: None,
        domain: project.map(|id| format!("vstfs:///Classification/TeamProject/{id}")),
        mail_address: None,
        subject_kind: Some("group".into()),
        url: None,
        is_deleted: false,
    }
}

fn subject(descriptor: &str, principal: Option<&str>, origin_id: &str) -> GraphSubject {
    GraphSubject {
        descriptor: descriptor.into(),
        subject_kind: None,
        display_name: None,
        principal_name: principal.map(str::to_string),
        origin: Some("aad".into()),
        origin_id: Some(origin_id.into()),
        mail_address: None,
        domain: None,
    }
}

const ALICE_OID: &str = "11111111-1111-1111-1111-111111111111";
const DEVS_OID: &str = "22222222-2222-2222-2222-222222222222";
const BOT_OID: &str = "33333333-3333-3333-3333-333333333333";

/// An organization `contoso` with project Web: a custom group (Release Approvers, with a user,
/// an Entra group and a nested custom group), Contributors (built in, with the Team and a
/// service principal), Project Administrators (protected, with Ops nested in it), Project
/// Valid Users (service-maintained), an organization group, and two authorizations.
fn inventory() -> Inventory {
    let groups = vec![
        group("vssgp.approvers", "[Web]\\Release Approvers", Some(WEB)),
        group("vssgp.frontend", "[Web]\\Frontend", Some(WEB)),
        group("vssgp.contributors", "[Web]\\Contributors", Some(WEB)),
        group("vssgp.team", "[Web]\\Web Team", Some(WEB)),
        group("vssgp.admins", "[Web]\\Project Administrators", Some(WEB)),
        group("vssgp.ops", "[Web]\\Ops", Some(WEB)),
        group("vssgp.valid", "[Web]\\Project Valid Users", Some(WEB)),
        group("vssgp.auditors", "[contoso]\\Auditors", None),
        GraphGroup {
            origin: Some("aad".into()),
            origin_id: Some(DEVS_OID.into()),
            ..group("aadgp.devs", "[TEAM FOUNDATION]\\Developers", None)
        },
    ];
    let members = BTreeMap::from([
        (
            "vssgp.approvers".to_string(),
            vec![
                "aad.alice".into(),
                "aadgp.devs".into(),
                "vssgp.frontend".into(),
            ],
        ),
        ("vssgp.frontend".to_string(), vec!["aad.alice".into()]),
        (
            "vssgp.contributors".to_string(),
            vec!["vssgp.team".into(), "aadsp.bot".into()],
        ),
        ("vssgp.team".to_string(), vec![]),
        ("vssgp.admins".to_string(), vec!["vssgp.ops".into()]),
        ("vssgp.ops".to_string(), vec!["aad.alice".into()]),
        ("vssgp.auditors".to_string(), vec!["aad.nameless".into()]),
    ]);
    let subjects = HashMap::from([
        (
            "aad.alice".to_string(),
            subject("aad.alice", Some("alice@contoso.com"), ALICE_OID),
        ),
        (
            "aad.nameless".to_string(),
            subject("aad.nameless", Some("Alice"), ALICE_OID),
        ),
        (
            "aadsp.bot".to_string(),
            subject("aadsp.bot", Some("deploy-bot"), BOT_OID),
        ),
    ]);
    let pipelines = BTreeMap::from([(
        "Web".to_string(),
        vec![
            PipelineRef {
                id: 1,
                name: "ci".into(),
                folder: "\\".into(),
            },
            PipelineRef {
                id: 2,
                name: "deploy".into(),
                folder: "\\Prod".into(),
            },
        ],
    )]);
    let authorizations = vec![
        ResourceAuthorizations {
            project: "Web".into(),
            resource: ResourceRef {
                kind: ResourceKind::Queue,
                id: "31".into(),
                name: "Default".into(),
            },
            pipelines: vec![2, 1, 99],
            all_pipelines: false,
        },
        ResourceAuthorizations {
            project: "Web".into(),
            resource: ResourceRef {
                kind: ResourceKind::Endpoint,
                id: "e1".into(),
                name: "github".into(),
            },
            pipelines: vec![],
            all_pipelines: true,
        },
    ];
    Inventory {
        organization: "contoso".into(),
        projects: vec![Project {
            id: WEB.into(),
            name: "Web".into(),
            state: None,
        }],
        groups,
        members,
        subjects,
        pipelines,
        authorizations,
        roles: vec![],
    }
}

fn options() -> BuildOptions {
    BuildOptions {
        namespace: "platform".into(),
        organization_ref: OrganizationRef {
            kind: OrganizationKind::ClusterDevOpsOrganization,
            name: "contoso".into(),
        },
        membership_mode: MembershipMode::Additive,
        kinds: [
            ExportKind::Group,
            ExportKind::Membership,
            ExportKind::Authorization,
            ExportKind::RoleAssignment,
        ]
        .into(),
        group_patterns: vec![],
        include_protected: false,
    }
}

fn groups(export: &Export) -> BTreeMap<String, DevOpsGroup> {
    export
        .objects
        .iter()
        .filter_map(|o| match o {
            ExportObject::Group(g) => Some((o.name().to_string(), g.clone())),
            _ => None,
        })
        .collect()
}

fn memberships(export: &Export) -> BTreeMap<String, DevOpsMembership> {
    export
        .objects
        .iter()
        .filter_map(|o| match o {
            ExportObject::Membership(m) => Some((o.name().to_string(), m.clone())),
            _ => None,
        })
        .collect()
}

fn keys(m: &DevOpsMembership) -> Vec<String> {
    m.spec.members.iter().map(Member::key).collect()
}

#[test]
fn custom_groups_are_exported_built_in_and_protected_ones_are_not() {
    let export = build(&inventory(), &options(), false);
    let groups = groups(&export);
    assert_eq!(
        groups.keys().collect::<Vec<_>>(),
        ["contoso-auditors", "web-frontend", "web-release-approvers"]
    );
    let approvers = &groups["web-release-approvers"];
    assert_eq!(approvers.spec.project.as_deref(), Some("Web"));
    assert_eq!(
        approvers.spec.display_name.as_deref(),
        Some("Release Approvers")
    );
    assert_eq!(approvers.spec.deletion_policy, Some(DeletionPolicy::Orphan));
    assert_eq!(approvers.spec.management_policy, ManagementPolicy::Observe);
    assert_eq!(approvers.metadata.namespace.as_deref(), Some("platform"));
    assert_eq!(groups["contoso-auditors"].spec.project, None);
    // Project Administrators (listed) and Ops (nested in it) are protected and left out, with
    // a note each; Project Valid Users silently (service-maintained).
    assert_eq!(export.notes.len(), 2, "{:?}", export.notes);
    assert!(export.notes.iter().any(|n| n.contains("[Web]\\Ops")));
}

#[test]
fn memberships_name_members_readably_and_refer_to_exported_groups() {
    let export = build(&inventory(), &options(), false);
    let memberships = memberships(&export);
    assert_eq!(
        memberships.keys().collect::<Vec<_>>(),
        [
            "contoso-auditors-members",
            "web-contributors-members",
            "web-frontend-members",
            "web-release-approvers-members",
        ]
    );
    let approvers = &memberships["web-release-approvers-members"];
    assert_eq!(
        approvers
            .spec
            .group
            .group_ref
            .as_ref()
            .map(|r| r.name.as_str()),
        Some("web-release-approvers")
    );
    assert_eq!(
        keys(approvers),
        [
            format!("entraGroup:{DEVS_OID}"),
            "groupRef:web-frontend".to_string(),
            "user:alice@contoso.com".to_string(),
        ]
    );
    assert_eq!(approvers.spec.mode, MembershipMode::Additive);
    assert_eq!(approvers.spec.deletion_policy, DeletionPolicy::Orphan);
    assert_eq!(approvers.spec.management_policy, ManagementPolicy::Observe);
    // A built-in group is targeted by principal name; its members too.
    let contributors = &memberships["web-contributors-members"];
    assert_eq!(
        contributors.spec.group.principal_name.as_deref(),
        Some("[Web]\\Contributors")
    );
    assert!(contributors.spec.group.group_ref.is_none());
    assert_eq!(
        keys(contributors),
        [
            "group:[Web]\\Web Team".to_string(),
            format!("servicePrincipal:{BOT_OID}"),
        ]
    );
    // A user without a usable principal name: by object id.
    assert_eq!(
        keys(&memberships["contoso-auditors-members"]),
        [format!("entraUser:{ALICE_OID}")]
    );
}

#[test]
fn unknown_members_fall_back_to_the_descriptor() {
    let member = member_for(
        "svc.unknown",
        &BTreeMap::new(),
        &HashMap::new(),
        &HashMap::new(),
    );
    assert_eq!(member.key(), "descriptor:svc.unknown");
    let sp_without_guid = HashMap::from([(
        "aadsp.x".to_string(),
        subject("aadsp.x", None, "not-a-guid"),
    )]);
    assert_eq!(
        member_for(
            "aadsp.x",
            &BTreeMap::new(),
            &HashMap::new(),
            &sp_without_guid
        )
        .key(),
        "descriptor:aadsp.x"
    );
}

#[test]
fn protected_groups_can_be_included_and_patterns_select() {
    let mut opts = options();
    opts.include_protected = true;
    let export = build(&inventory(), &opts, false);
    let names: Vec<String> = memberships(&export).into_keys().collect();
    assert!(names.contains(&"web-project-administrators-members".to_string()));
    assert!(groups(&export).contains_key("web-ops"));
    assert!(export.notes.is_empty());

    let mut opts = options();
    opts.group_patterns = vec!["release*".into(), "[contoso]\\*".into()];
    let export = build(&inventory(), &opts, false);
    assert_eq!(
        groups(&export).into_keys().collect::<Vec<_>>(),
        ["contoso-auditors", "web-release-approvers"]
    );
    // Frontend was not selected: it is named by principal name, not groupRef.
    let approvers = &memberships(&export)["web-release-approvers-members"];
    assert!(keys(approvers).contains(&"group:[Web]\\Frontend".to_string()));
}

#[test]
fn only_projects_leaves_organization_groups_out_and_kinds_filter() {
    let export = build(&inventory(), &options(), true);
    assert!(!groups(&export).contains_key("contoso-auditors"));
    let mut opts = options();
    opts.kinds = [ExportKind::Membership].into();
    let export = build(&inventory(), &opts, false);
    assert!(export
        .objects
        .iter()
        .all(|o| o.kind() == "DevOpsMembership"));
    // Without DevOpsGroups, memberships name their groups by principal name.
    let approvers = &memberships(&export)["web-release-approvers-members"];
    assert_eq!(
        approvers.spec.group.principal_name.as_deref(),
        Some("[Web]\\Release Approvers")
    );
}

#[test]
fn exclusive_memberships_beyond_the_limit_fall_back_to_additive_chunks() {
    let mut inv = inventory();
    let many: Vec<String> = (0..MAX_MEMBERS + 5)
        .map(|i| format!("aad.user{i:05}"))
        .collect();
    for d in &many {
        inv.subjects.insert(
            d.clone(),
            subject(d, Some(&format!("{d}@contoso.com")), ALICE_OID),
        );
    }
    inv.members.insert("vssgp.frontend".into(), many);
    let mut opts = options();
    opts.membership_mode = MembershipMode::Exclusive;
    let export = build(&inv, &opts, false);
    let memberships = memberships(&export);
    let first = &memberships["web-frontend-members"];
    let second = &memberships["web-frontend-members-2"];
    assert_eq!(first.spec.members.len(), MAX_MEMBERS);
    assert_eq!(second.spec.members.len(), 5);
    assert_eq!(first.spec.mode, MembershipMode::Additive);
    assert_eq!(
        memberships["web-release-approvers-members"].spec.mode,
        MembershipMode::Exclusive
    );
    assert!(export.notes.iter().any(|n| n.contains("[Web]\\Frontend")));
}

#[test]
fn authorizations_name_resources_and_pipelines() {
    let export = build(&inventory(), &options(), false);
    let pras: BTreeMap<String, PipelineResourceAuthorization> = export
        .objects
        .iter()
        .filter_map(|o| match o {
            ExportObject::Authorization(a) => Some((o.name().to_string(), a.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        pras.keys().collect::<Vec<_>>(),
        ["web-endpoint-github", "web-queue-default"]
    );
    let queue = &pras["web-queue-default"].spec;
    assert_eq!(queue.project, "Web");
    assert_eq!(queue.resource.type_, ResourceType::Queue);
    assert_eq!(queue.resource.name.as_deref(), Some("Default"));
    assert_eq!(
        queue
            .pipelines
            .iter()
            .map(PipelineSelector::key)
            .collect::<Vec<_>>(),
        ["id:99", "name:\\Prod\\deploy", "name:ci"]
    );
    assert_eq!(queue.all_pipelines, None);
    assert_eq!(queue.deletion_policy, RevocationPolicy::Orphan);
    assert_eq!(queue.management_policy, ManagementPolicy::Observe);
    let endpoint = &pras["web-endpoint-github"].spec;
    assert!(endpoint.pipelines.is_empty());
    assert_eq!(endpoint.all_pipelines, Some(true));
}

#[test]
fn namesake_resources_and_pipelines_are_named_by_id_or_folder() {
    let pipelines = vec![
        PipelineRef {
            id: 1,
            name: "deploy".into(),
            folder: "\\".into(),
        },
        PipelineRef {
            id: 2,
            name: "deploy".into(),
            folder: "\\Prod".into(),
        },
        PipelineRef {
            id: 3,
            name: "twin".into(),
            folder: "\\A".into(),
        },
        PipelineRef {
            id: 4,
            name: "Twin".into(),
            folder: "\\a".into(),
        },
    ];
    assert_eq!(pipeline_selector(1, &pipelines).key(), "name:\\deploy");
    assert_eq!(
        pipeline_selector(2, &pipelines).key(),
        "name:\\Prod\\deploy"
    );
    assert_eq!(pipeline_selector(3, &pipelines).key(), "id:3");

    let mut inv = inventory();
    let mut twin = inv.authorizations[0].clone();
    twin.resource.id = "32".into();
    inv.authorizations.push(twin);
    let export = build(&inv, &options(), false);
    let ids: Vec<(String, Option<String>)> = export
        .objects
        .iter()
        .filter_map(|o| match o {
            ExportObject::Authorization(a) if a.spec.resource.type_ == ResourceType::Queue => {
                Some((o.name().to_string(), a.spec.resource.id.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids
        .iter()
        .all(|(name, id)| { name.starts_with("web-queue-default-") && id.is_some() }));
    assert_ne!(ids[0].0, ids[1].0);
}

#[test]
fn objects_serialize_as_the_crds_expect_and_parse_back() {
    let export = build(&inventory(), &options(), false);
    let stream = crate::export::write::stream(&export.objects).unwrap();
    let mut parsed = 0;
    for document in serde_yaml::Deserializer::from_str(&stream) {
        let value = serde_yaml::Value::deserialize(document).unwrap();
        let kind = value["kind"].as_str().unwrap().to_string();
        assert_eq!(value["apiVersion"].as_str(), Some("azdo.io/v1alpha1"));
        assert!(value.get("status").is_none(), "no status is written");
        assert_eq!(
            value["spec"]["managementPolicy"].as_str(),
            Some("Observe"),
            "{kind}"
        );
        assert_eq!(value["spec"]["deletionPolicy"].as_str(), Some("Orphan"));
        let round: ExportObject = match kind.as_str() {
            "DevOpsGroup" => ExportObject::Group(serde_yaml::from_value(value).unwrap()),
            "DevOpsMembership" => ExportObject::Membership(serde_yaml::from_value(value).unwrap()),
            "PipelineResourceAuthorization" => {
                ExportObject::Authorization(serde_yaml::from_value(value).unwrap())
            }
            other => panic!("unexpected kind {other}"),
        };
        assert_eq!(
            round.to_yaml().unwrap(),
            export.objects[parsed].to_yaml().unwrap()
        );
        parsed += 1;
    }
    assert_eq!(parsed, export.objects.len());
    assert!(parsed > 5);
}

use serde::Deserialize;

#[test]
fn role_assignments_group_members_by_role_and_name_the_resource() {
    let mut inv = inventory();
    inv.roles = vec![
        ResourceRoles {
            project: Some("Web".into()),
            scope: RoleScope::Environment,
            id: "2".into(),
            name: "production".into(),
            assignments: vec![
                ("User".into(), "aad.alice".into()),
                ("Administrator".into(), "vssgp.approvers".into()),
                ("User".into(), "aadsp.bot".into()),
            ],
        },
        ResourceRoles {
            project: Some("Web".into()),
            scope: RoleScope::Library,
            id: String::new(),
            name: "Library".into(),
            assignments: vec![("Reader".into(), "vssgp.contributors".into())],
        },
        ResourceRoles {
            project: None,
            scope: RoleScope::AgentPool,
            id: "12".into(),
            name: "linux-x64".into(),
            assignments: vec![("Reader".into(), "aad.alice".into())],
        },
    ];
    let export = build(&inv, &options(), false);
    let roles: BTreeMap<String, DevOpsRoleAssignment> = export
        .objects
        .iter()
        .filter_map(|o| match o {
            ExportObject::RoleAssignment(r) => Some((o.name().to_string(), r.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        roles.keys().collect::<Vec<_>>(),
        [
            "contoso-agentpool-linux-x64-roles",
            "web-environment-production-roles",
            "web-library-roles"
        ]
    );
    let env = &roles["web-environment-production-roles"].spec;
    assert_eq!(env.project.as_deref(), Some("Web"));
    assert_eq!(env.resource.type_, RoleResourceType::Environment);
    assert_eq!(env.resource.name.as_deref(), Some("production"));
    assert_eq!(env.assignments.len(), 2);
    assert_eq!(env.assignments[0].role, "Administrator");
    assert_eq!(
        env.assignments[0].members[0].key(),
        "groupRef:web-release-approvers"
    );
    assert_eq!(
        env.assignments[1]
            .members
            .iter()
            .map(Member::key)
            .collect::<Vec<_>>(),
        [
            format!("servicePrincipal:{BOT_OID}"),
            "user:alice@contoso.com".to_string()
        ]
    );
    assert_eq!(env.mode, MembershipMode::Additive);
    assert_eq!(env.deletion_policy, DeletionPolicy::Orphan);
    assert_eq!(env.management_policy, ManagementPolicy::Observe);
    assert_eq!(env.inheritance, None);
    let library = &roles["web-library-roles"].spec;
    assert_eq!(library.resource.type_, RoleResourceType::Library);
    assert!(library.resource.name.is_none() && library.resource.id.is_none());
    assert_eq!(
        library.assignments[0].members[0].key(),
        "group:[Web]\\Contributors"
    );
    let pool = &roles["contoso-agentpool-linux-x64-roles"].spec;
    assert_eq!(pool.project, None);
    assert_eq!(pool.resource.type_, RoleResourceType::Agentpool);
    // Role assignments come last in the stream.
    assert_eq!(
        export.objects.last().unwrap().kind(),
        "DevOpsRoleAssignment"
    );
}
