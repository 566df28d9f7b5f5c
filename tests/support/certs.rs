//! The throw-away PKI of one test control plane: a CA, the apiserver's serving certificate, an
//! admin client certificate and the service-account signing key.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType, PKCS_RSA_SHA256,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The user name and group of the admin client certificate.
pub const ADMIN_USER: &str = "azdo-e2e-admin";
pub const ADMIN_GROUP: &str = "system:masters";

/// A PEM certificate and its PEM (PKCS#8) private key.
#[derive(Clone)]
pub struct PemPair {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for PemPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemPair").finish_non_exhaustive()
    }
}

pub struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    pub serving: PemPair,
    pub admin: PemPair,
    /// RSA-2048 PKCS#8 key that signs service-account tokens (RS256, as Entra expects).
    pub service_account_key_pem: String,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").finish_non_exhaustive()
    }
}

impl Pki {
    pub fn generate() -> Result<Self, rcgen::Error> {
        let ca = CertifiedIssuer::self_signed(ca_params()?, KeyPair::generate()?)?;
        let serving = issue(&ca, serving_params()?)?;
        let admin = issue(&ca, client_params(ADMIN_USER, Some(ADMIN_GROUP))?)?;
        let service_account_key_pem = KeyPair::generate_for(&PKCS_RSA_SHA256)?.serialize_pem();
        Ok(Self {
            ca,
            serving,
            admin,
            service_account_key_pem,
        })
    }

    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// A client certificate for `user` (in `group`, if any), trusted by the apiserver. One
    /// group at most: rcgen keeps one value per attribute type in a distinguished name.
    pub fn issue_client_cert(
        &self,
        user: &str,
        group: Option<&str>,
    ) -> Result<PemPair, rcgen::Error> {
        issue(&self.ca, client_params(user, group)?)
    }
}

fn issue(
    ca: &CertifiedIssuer<'static, KeyPair>,
    params: CertificateParams,
) -> Result<PemPair, rcgen::Error> {
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, ca)?;
    Ok(PemPair {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn ca_params() -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "azdo-operator e2e CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

fn serving_params() -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    params.subject_alt_names.extend([
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ]);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Ok(params)
}

fn client_params(user: &str, group: Option<&str>) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    // Kubernetes maps CN to the user name and O to a group.
    params.distinguished_name.push(DnType::CommonName, user);
    if let Some(group) = group {
        params
            .distinguished_name
            .push(DnType::OrganizationName, group);
    }
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    Ok(params)
}
