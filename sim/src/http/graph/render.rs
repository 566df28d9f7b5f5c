//! JSON renderings of graph subjects and memberships, with `url` and `_links` on the Graph host.

use serde_json::{json, Map, Value};

use crate::model::subjects::{Subject, SubjectKind};
use crate::model::Organization;

pub fn graph_base(vssps: &str, org: &Organization) -> String {
    format!("{vssps}/{}/_apis/Graph", org.name)
}

pub fn subject_url(vssps: &str, org: &Organization, subject: &Subject) -> String {
    let collection = match subject.kind {
        SubjectKind::Group => "Groups",
        SubjectKind::User => "Users",
        SubjectKind::ServicePrincipal => "ServicePrincipals",
    };
    format!(
        "{}/{collection}/{}",
        graph_base(vssps, org),
        subject.descriptor
    )
}

fn href(url: String) -> Value {
    json!({ "href": url })
}

pub fn subject_json(vssps: &str, org: &Organization, subject: &Subject) -> Value {
    let base = graph_base(vssps, org);
    let url = subject_url(vssps, org, subject);
    let d = &subject.descriptor;
    let mut links = Map::new();
    links.insert("self".into(), href(url.clone()));
    links.insert(
        "memberships".into(),
        href(format!("{base}/Memberships/{d}")),
    );
    links.insert(
        "membershipState".into(),
        href(format!("{base}/MembershipStates/{d}")),
    );
    links.insert("storageKey".into(), href(format!("{base}/StorageKeys/{d}")));
    if subject.kind != SubjectKind::Group {
        links.insert(
            "avatar".into(),
            href(format!("{base}/Subjects/{d}/avatars")),
        );
    }
    let mut body = Map::new();
    body.insert("subjectKind".into(), json!(subject.kind.wire_name()));
    if subject.kind == SubjectKind::Group {
        body.insert("description".into(), json!(subject.description));
    }
    match subject.kind {
        SubjectKind::User => {
            body.insert("metaType".into(), json!("member"));
            body.insert("directoryAlias".into(), json!(subject.directory_alias));
        }
        SubjectKind::ServicePrincipal => {
            body.insert("metaType".into(), json!("application"));
            body.insert("applicationId".into(), json!(subject.application_id));
        }
        SubjectKind::Group => {}
    }
    body.insert("domain".into(), json!(subject.domain));
    body.insert("principalName".into(), json!(subject.principal_name));
    body.insert("mailAddress".into(), json!(subject.mail_address));
    body.insert("origin".into(), json!(subject.origin.wire_name()));
    body.insert("originId".into(), json!(subject.origin_id));
    body.insert("displayName".into(), json!(subject.display_name));
    body.insert("_links".into(), Value::Object(links));
    body.insert("url".into(), json!(url));
    body.insert("descriptor".into(), json!(subject.descriptor));
    // The SDK model's `isDeleted` (not in the published schema): on every group; on other
    // subjects only once deleted. `omitIsDeleted` leaves it out of `GET graph/groups/{d}`.
    if subject.kind == SubjectKind::Group || subject.deleted {
        body.insert("isDeleted".into(), json!(subject.deleted));
    }
    Value::Object(body)
}

pub fn membership_json(vssps: &str, org: &Organization, member: &str, container: &str) -> Value {
    let base = graph_base(vssps, org);
    let member_url = org
        .subject(member)
        .map(|s| subject_url(vssps, org, s))
        .unwrap_or_else(|| format!("{base}/Subjects/{member}"));
    let container_url = org
        .subject(container)
        .map(|s| subject_url(vssps, org, s))
        .unwrap_or_else(|| format!("{base}/Subjects/{container}"));
    json!({
        "_links": {
            "self": href(format!("{base}/Memberships/{member}/{container}")),
            "member": href(member_url),
            "container": href(container_url),
        },
        "containerDescriptor": container,
        "memberDescriptor": member,
    })
}
