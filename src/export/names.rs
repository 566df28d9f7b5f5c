//! Kubernetes names for exported objects: derived from what they stand for (scope and name),
//! DNS-safe (RFC 1123 labels: lowercase letters, digits and `-`, at most 63 characters, so
//! they also fit label values), and deterministic: the same organization always gives the
//! same names, whatever order it was read in. Two things that would get the same name both
//! get a short hash of their own identity appended instead.

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// The longest name produced (an RFC 1123 label).
pub const MAX_NAME: usize = 63;
/// Hex digits of the hash that tells colliding names apart.
const HASH_LEN: usize = 6;

/// `Release Approvers` -> `release-approvers`: lowercase ASCII letters and digits, every other
/// run of characters one `-`, no `-` at either end; `x` when nothing is left.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "x".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Slugs of the parts joined with `-`, e.g. (`Storefront`, `Release Approvers`) ->
/// `storefront-release-approvers`.
pub fn join(parts: &[&str]) -> String {
    parts.iter().map(|p| slug(p)).collect::<Vec<_>>().join("-")
}

/// The first `len` hex digits of SHA-256 of `identity`.
fn hash(identity: &str, len: usize) -> String {
    let digest = Sha256::digest(identity.as_bytes());
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .chars()
        .take(len)
        .collect()
}

/// `base` with `-{hash}` appended, cut so the whole fits [`MAX_NAME`].
fn with_hash(base: &str, identity: &str, len: usize) -> String {
    let suffix = hash(identity, len);
    let keep = MAX_NAME - 1 - suffix.len();
    let cut: String = base.chars().take(keep).collect();
    format!("{}-{suffix}", cut.trim_end_matches('-'))
}

/// A name for each `(identity, base)`: the base itself when it is short enough and no other
/// identity wants it, otherwise the base with a hash of the identity. Identities are unique
/// keys (descriptors, `type/id`); bases come from [`join`].
pub fn assign(wanted: &[(String, String)]) -> BTreeMap<String, String> {
    let mut by_base: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (identity, base) in wanted {
        by_base.entry(base).or_default().insert(identity);
    }
    let mut names = BTreeMap::new();
    let mut taken = BTreeSet::new();
    // Plain names first, so a hashed name can never take one a unique base needs.
    for (base, identities) in &by_base {
        if identities.len() == 1 && base.len() <= MAX_NAME {
            let identity = identities.iter().next().expect("one");
            taken.insert(base.to_string());
            names.insert(identity.to_string(), base.to_string());
        }
    }
    for (base, identities) in &by_base {
        if identities.len() == 1 && base.len() <= MAX_NAME {
            continue;
        }
        for identity in identities {
            let mut len = HASH_LEN;
            let mut name = with_hash(base, identity, len);
            while taken.contains(&name) && len < 64 {
                len += 2;
                name = with_hash(base, identity, len);
            }
            taken.insert(name.clone());
            names.insert(identity.to_string(), name);
        }
    }
    names
}

/// Whether `name` is an RFC 1123 label.
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn slugs_are_dns_safe() {
        assert_eq!(slug("Release Approvers"), "release-approvers");
        assert_eq!(
            slug("  [Storefront]\\Contributors "),
            "storefront-contributors"
        );
        assert_eq!(slug("signing.pfx"), "signing-pfx");
        assert_eq!(slug("Équipe"), "quipe");
        assert_eq!(slug("ÄÖÜ"), "x");
        assert_eq!(slug("a--b__c"), "a-b-c");
        assert_eq!(
            join(&["Storefront", "queue", "Default"]),
            "storefront-queue-default"
        );
    }

    #[test]
    fn unique_bases_are_kept_and_collisions_get_a_hash_each() {
        let names = assign(&pairs(&[
            ("vssgp.a", "web-readers"),
            ("vssgp.b", "web-release-approvers"),
            ("vssgp.c", "web-release-approvers"),
        ]));
        assert_eq!(names["vssgp.a"], "web-readers");
        let (b, c) = (&names["vssgp.b"], &names["vssgp.c"]);
        assert_ne!(b, c);
        assert!(
            b.starts_with("web-release-approvers-") && b.len() == 28,
            "{b}"
        );
        assert!(c.starts_with("web-release-approvers-"), "{c}");
        for name in names.values() {
            assert!(is_dns_label(name), "{name}");
        }
    }

    #[test]
    fn names_do_not_depend_on_order() {
        let forward = pairs(&[("x", "same"), ("y", "same"), ("z", "other")]);
        let mut backward = forward.clone();
        backward.reverse();
        assert_eq!(assign(&forward), assign(&backward));
    }

    #[test]
    fn long_names_are_cut_with_a_hash() {
        let long = join(&["Storefront", &"very long group name ".repeat(10)]);
        assert!(long.len() > MAX_NAME);
        let names = assign(&pairs(&[("one", &long), ("two", &long[..40])]));
        assert!(is_dns_label(&names["one"]), "{}", names["one"]);
        assert_eq!(names["one"].len(), MAX_NAME);
        assert_eq!(names["two"], &long[..40]);
    }

    #[test]
    fn a_hashed_name_never_takes_a_plain_one() {
        // Make a plain base equal to what one colliding identity would hash to.
        let hashed = with_hash("dup", "i1", HASH_LEN);
        let names = assign(&pairs(&[("i1", "dup"), ("i2", "dup"), ("plain", &hashed)]));
        assert_eq!(names["plain"], hashed);
        assert_ne!(names["i1"], hashed);
        let unique: BTreeSet<_> = names.values().collect();
        assert_eq!(unique.len(), 3);
    }
}
