//! Deterministic identifiers and descriptor encodings.
//!
//! Everything derived from the seed is deterministic so that a reset reproduces the very same ids,
//! descriptors and storage keys. Descriptors follow the real formats: `{prefix}.{base64url(identifier)}`
//! without padding, where the identifier is a SID for Azure DevOps groups (`vssgp`, `aadgp`) and a GUID
//! string for scopes (`scp`), users (`aad`) and service principals (`aadsp`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

/// Namespace for every deterministic UUID the simulator derives.
const SIM_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a53_9e0d_4c57_8a11_3b6e_0d4a_9c21);

/// A stable UUID derived from a purpose and a set of names.
pub fn stable_uuid(purpose: &str, parts: &[&str]) -> Uuid {
    let mut name = String::from(purpose);
    for part in parts {
        name.push('\u{1f}');
        name.push_str(&part.to_lowercase());
    }
    Uuid::new_v5(&SIM_NAMESPACE, name.as_bytes())
}

/// A random UUID (for objects created at run time).
pub fn random_uuid() -> Uuid {
    Uuid::new_v4()
}

pub fn encode_descriptor(prefix: &str, identifier: &str) -> String {
    format!("{prefix}.{}", URL_SAFE_NO_PAD.encode(identifier.as_bytes()))
}

/// The kind prefix of a descriptor (`vssgp`, `aad`, ...), if it has one.
pub fn descriptor_prefix(descriptor: &str) -> Option<&str> {
    descriptor.split_once('.').map(|(prefix, _)| prefix)
}

/// Decodes the identifier part of a descriptor, if it is well formed.
pub fn decode_descriptor(descriptor: &str) -> Option<(String, String)> {
    let (prefix, rest) = descriptor.split_once('.')?;
    let bytes = URL_SAFE_NO_PAD.decode(rest.trim_end_matches('=')).ok()?;
    Some((prefix.to_string(), String::from_utf8(bytes).ok()?))
}

/// A SID in the shape Azure DevOps uses for its groups:
/// `S-1-9-1551374245-{host: 4 numbers}-{kind}-{group: 4 numbers}`; the host part is the same for
/// every group of an organization.
pub fn group_sid(host: Uuid, group: Uuid, kind: u32) -> String {
    let words = |id: Uuid| {
        let b = id.into_bytes();
        [0, 4, 8, 12].map(|i| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]))
    };
    let [h0, h1, h2, h3] = words(host);
    let [g0, g1, g2, g3] = words(group);
    format!("S-1-9-1551374245-{h0}-{h1}-{h2}-{h3}-{kind}-{g0}-{g1}-{g2}-{g3}")
}

pub fn scope_descriptor(scope_id: Uuid) -> String {
    encode_descriptor("scp", &scope_id.to_string())
}

/// Continuation tokens are opaque to clients; the simulator encodes an offset.
pub fn encode_continuation(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("sim-page:{offset}"))
}

pub fn decode_continuation(token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("sim-page:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_round_trip() {
        let d = encode_descriptor("scp", "e54285d2-6f67-4ae6-bfbb-ea8c7f941289");
        assert_eq!(d, "scp.ZTU0Mjg1ZDItNmY2Ny00YWU2LWJmYmItZWE4YzdmOTQxMjg5");
        assert_eq!(
            decode_descriptor(&d),
            Some((
                "scp".to_string(),
                "e54285d2-6f67-4ae6-bfbb-ea8c7f941289".to_string()
            ))
        );
    }

    #[test]
    fn continuation_round_trip() {
        assert_eq!(decode_continuation(&encode_continuation(42)), Some(42));
        assert_eq!(decode_continuation("garbage!"), None);
    }

    #[test]
    fn stable_uuid_is_stable_and_case_insensitive() {
        assert_eq!(
            stable_uuid("project", &["contoso", "Web"]),
            stable_uuid("project", &["Contoso", "web"])
        );
        assert_ne!(
            stable_uuid("project", &["contoso", "web"]),
            stable_uuid("project", &["contoso", "api"])
        );
    }
}
